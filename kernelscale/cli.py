"""The ``kernelscale`` command line: arguments only. Options are checked against :mod:`kernelscale.options` before the
slow imports; every number printed comes from a result, rendered by :mod:`kernelscale.report`."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from . import options
from ._io import check_cache_folder, check_output_files
from .errors import KernelscaleError

# rich_markup_mode=None: the command line's own errors (a missing option, a value that is not a number) print as
# Click's plain "Error: ..." line, the style kernelscale's errors use too, instead of a box
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Predict neural scaling exponents from infinite-width kernels, without training.")
stderr = Console(stderr=True)


@app.callback()
def main() -> None:
    """kernelscale: alpha_K, alpha_D and alpha_W from NNGP / NTK spectra."""


def _fail(option: str, message: str):
    """One ``Error:`` line (naming the option when given), exit code 2, before any computation."""
    stderr.print(f"Error: {option + ': ' if option else ''}{message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


@contextlib.contextmanager
def _errors_exit(option: str = ""):
    """kernelscale's errors as one ``Error:`` line (naming ``option`` when given) and exit code 2."""
    try:
        yield
    except KernelscaleError as exc:
        _fail(option, str(exc))


def _check(**values) -> None:
    """Check options against their declarations (``--n-eigs`` is ``n_eigs``; ``n`` is ``n_samples``)."""
    for name, value in values.items():
        with _errors_exit("--" + name.replace("_", "-")):
            options.check("n_samples" if name == "n" else name, value)


def _check_outputs(json_path: Optional[Path], plot: Optional[Path], cache: Optional[Path] = None,
                   no_cache: bool = False) -> None:
    """The output files and the cache folder, before anything is computed (:mod:`kernelscale._io`); ``--cache``
    sets the cache folder for this run."""
    with _errors_exit():
        check_output_files({"--json": None if str(json_path) == "-" else json_path, "--plot": plot},
                           figures=("--plot",))
    if cache is not None:
        if no_cache:
            _fail("--cache", "--no-cache turns the cache off; give one of the two.")
        with _errors_exit():
            os.environ["KERNELSCALE_CACHE"] = str(check_cache_folder("--cache", cache).resolve())


def _ints(text: Optional[str], option: str) -> Optional[tuple[int, ...]]:
    if text is None:
        return None
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        _fail(option, f"{text!r} is not a comma-separated list of integers.")
    _check(**{option[2:].replace("-", "_"): values})
    return values


LOG_EVERY = 30.0  # seconds between progress lines of a long stage when stderr is not a terminal
_INTERRUPTED = ("interrupted. Kernels finished before this point are in the cache unless --no-cache was given "
                "(kernelscale cache lists them); a rerun of the same command reads them instead of computing them.")


def _run(compute, quiet: bool = False):
    """Run ``compute(progress)`` with progress on stderr (bars in a terminal; otherwise, as in a log or a pipe, a line
    per finished stage with its elapsed time, and every LOG_EVERY seconds of a long one; none when ``quiet``);
    kernelscale's errors exit with code 2 and a message, Ctrl-C with 130 and what was saved."""
    terminal = stderr.is_terminal and not quiet
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=stderr, transient=True, disable=not terminal) as bar:
        tasks: dict[str, int] = {}
        started: dict[str, float] = {}
        logged: dict[str, float] = {}

        def progress(stage: str, done: int, total: int) -> None:
            now = time.perf_counter()
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)
            started.setdefault(stage, now)
            if terminal or quiet:
                return
            if done >= total:
                stderr.print(f"{stage}: {done}/{total}, {now - started.pop(stage):.1f} s", highlight=False)
                logged.pop(stage, None)
            elif now - logged.setdefault(stage, now) >= LOG_EVERY:
                logged[stage] = now
                stderr.print(f"{stage}: {done}/{total} so far, {now - started[stage]:.0f} s", highlight=False)

        try:
            with _errors_exit():
                return compute(progress)
        except KeyboardInterrupt as interrupt:
            bar.stop()
            for note in getattr(interrupt, "__notes__", None) or [_INTERRUPTED]:
                stderr.print(note, highlight=False, soft_wrap=True)
            raise typer.Exit(code=130) from None


def _join(coordinator: Optional[str], num_processes: Optional[int], process_id: Optional[int]) -> bool:
    """Join the JAX job the options (or the environment: :func:`kernelscale.distributed.job_settings`) name, before
    any JAX work; whether this process stays quiet (every process but process 0 of a job)."""
    from .distributed import is_output_process, job_settings, join_job

    with _errors_exit():
        settings = job_settings(coordinator, num_processes, process_id)
    if settings is None:
        return False
    join_job(settings)
    return not is_output_process()


def _output(result, json_path: Optional[Path], plot: Optional[Path], plot_name: str, quiet: bool = False,
            **print_options) -> None:
    """The plot (when asked), then the JSON (to a file, or ``-`` for stdout) or the tables; nothing from a quiet
    process (:func:`_join`)."""
    from ._io import write_text_atomically
    from .report import print_result

    if quiet:
        return

    if plot is not None:
        from . import plots

        getattr(plots, plot_name)(result, plot)
        stderr.print(f"plot written to {plot}")
    if json_path is None:
        print_result(result, **print_options)
    elif str(json_path) == "-":
        sys.stdout.write(result.to_json() + "\n")
    else:
        write_text_atomically(json_path, result.to_json(indent=2) + "\n")
        stderr.print(f"JSON written to {json_path}")


def _say_where_the_kernel_came_from(prediction, quiet: bool = False) -> None:
    """On stderr: a kernel read from the cache, or resumed from the blocks an interrupted run saved."""
    if quiet:
        return
    if prediction.from_cache:
        stderr.print(f"kernel read from the on-disk cache (an identical earlier call computed it on "
                     f"{prediction.device})")
    elif prediction.resumed_blocks:
        stderr.print(f"kernel resumed: {prediction.resumed_blocks} blocks reused from an interrupted earlier run, "
                     "the rest computed")


def _training(optimizer: str, learning_rate: float, steps: int, batch_size: Optional[int]):
    """TrainingSettings from the options; bad values exit 2 with the library's message."""
    from .training import TrainingSettings

    with _errors_exit():
        return TrainingSettings(optimizer=optimizer, learning_rate=learning_rate, steps=steps, batch_size=batch_size)


# options that several commands share, declared once
_ARCH = typer.Option(..., "--arch", help="architecture spec, e.g. fc:depth=3,act=relu,w_std=1.41,b_std=0.05")
_DATA = typer.Option(..., "--data", help="data spec, e.g. digits, mnist5k, sphere:dim=4,target=gp")
_N = typer.Option(None, "--n", help="sample size n; the kernel is n x n (default: min(2000, the data's size))")
_KERNEL = typer.Option("ntk", "--kernel", help="ntk or nngp")
_WIDTH_KERNEL = typer.Option("nngp", "--width-kernel", help="the kernel of the random features that L(P) and alpha_W "
                             "describe: nngp (a network's readout features) or ntk")
_SEED = typer.Option(0, "--seed", help="seed of the sample and of random targets")
_DEVICE = typer.Option(None, "--device", help="cpu or gpu (default: JAX's default device)")
_COORDINATOR = typer.Option(None, "--coordinator", envvar="KERNELSCALE_COORDINATOR", show_envvar=False,
                            help="HOST:PORT of process 0: run as one of --num-processes processes of a JAX job "
                            "(docs/cli.md, \"Several processes\")")
_NUM_PROCESSES = typer.Option(None, "--num-processes", envvar="KERNELSCALE_NUM_PROCESSES", show_envvar=False,
                              help="processes of the job (with --coordinator)")
_PROCESS_ID = typer.Option(None, "--process-id", envvar="KERNELSCALE_PROCESS_ID", show_envvar=False,
                           help="this process's index in [0, --num-processes) (with --coordinator)")
_JSON = typer.Option(None, "--json", help="write the result as JSON to PATH, or - for stdout")
_NO_CACHE = typer.Option(False, "--no-cache", help="do not read or write the on-disk kernel cache")
_CACHE = typer.Option(None, "--cache", help="kernel cache folder (default $KERNELSCALE_CACHE, else "
                      "~/.cache/kernelscale)")
_SIZES = typer.Option(None, "--sizes", help="training-set sizes D, comma-separated")
_WIDTHS = typer.Option(None, "--widths", help="widths of the random-feature networks")
_REPEATS = typer.Option(5, "--repeats", help="independent repeats per point (>= 2)")
_RIDGE = typer.Option(0.0, "--ridge", help="ridge added to the D x D Gram matrix")
_NOISE = typer.Option(0.0, "--noise", help="label-noise variance per output column")
# trained networks (kernelscale/training.py), in `measure` and `compare`
_TRAINED_WIDTHS = typer.Option(None, "--trained-widths", help="trained networks' widths (8..128 CPU, ..1024 GPU)")
_TRAINED_WIDTH = typer.Option(64, "--trained-width", help="width of the trained networks against D")
_OPTIMIZER = typer.Option("adam", "--optimizer", help="trained networks: adam or sgd")
_LEARNING_RATE = typer.Option(3e-3, "--learning-rate", help="trained networks: peak step size (cosine decay)")
_STEPS = typer.Option(3000, "--steps", help="trained networks: optimizer steps (a multiple of 250)")
_BATCH_SIZE = typer.Option(None, "--batch-size", help="trained networks: minibatch (default full)")


@app.command()
def predict(arch: str = _ARCH, data: str = _DATA, n: Optional[int] = _N, kernel: str = _KERNEL, seed: int = _SEED,
            device: Optional[str] = _DEVICE, json_path: Optional[Path] = _JSON,
            plot: Optional[Path] = typer.Option(None, "--plot", help="figure (.png/.pdf/.svg): spectrum, fits, curves"),
            no_cache: bool = _NO_CACHE, cache: Optional[Path] = _CACHE,
            no_intrinsic: bool = typer.Option(False, "--no-intrinsic-dim", help="skip the intrinsic-dimension "
                                              "estimates (TwoNN, MLE) and 4/d; they also set how slowly alpha_K's "
                                              "interval lets it converge, so this changes alpha_K's interval (and can "
                                              "change its status)"),
            eigensolver: str = typer.Option("auto", "--eigensolver", help="full, topk (kernel blocks on the fly, top "
                                            "--n-eigs eigenpairs) or auto (full when the matrix fits in memory)"),
            n_eigs: Optional[int] = typer.Option(None, "--n-eigs", help="eigenpairs for --eigensolver topk "
                                                 "(default min(2000, n/2 - 1))"),
            sizes: Optional[str] = typer.Option(None, "--sizes", help="training-set sizes D of the predicted learning "
                                                "curve L(D), increasing (default: 16 from n/64 to 10 n)"),
            features: Optional[str] = typer.Option(None, "--features", help="feature counts P of the predicted width "
                                                   "curve L(P), increasing (default: the sizes)"),
            at: Optional[int] = typer.Option(None, "--at", help="the size D at which the recommended alpha_D is read "
                                             "from L(D) (default: the largest size <= 10 n)"),
            at_features: Optional[int] = typer.Option(None, "--at-features", help="the feature count P at which the "
                                                      "recommended alpha_W is read from L(P) (default: the largest "
                                                      "feature count <= 10 n)"),
            width_kernel: str = _WIDTH_KERNEL, ridge: float = _RIDGE, noise: float = _NOISE,
            coordinator: Optional[str] = _COORDINATOR, num_processes: Optional[int] = _NUM_PROCESSES,
            process_id: Optional[int] = _PROCESS_ID) -> None:
    """Predict alpha_K, alpha_D and alpha_W of an architecture on a data sample, and the loss curves L(D) and
    L(P) past it."""
    _check(n=n, kernel=kernel, seed=seed, device=device, eigensolver=eigensolver, n_eigs=n_eigs, at=at,
           at_features=at_features, width_kernel=width_kernel, ridge=ridge, noise=noise)
    _check_outputs(json_path, plot, cache, no_cache)
    size_list, feature_list = _ints(sizes, "--sizes"), _ints(features, "--features")
    quiet = _join(coordinator, num_processes, process_id)
    from .predict import predict as api_predict

    result = _run(lambda progress: api_predict(arch, data, n_samples=n, kernel=kernel, seed=seed, device=device,
                                               use_cache=not no_cache, intrinsic=not no_intrinsic,
                                               eigensolver=eigensolver, n_eigs=n_eigs, sizes=size_list,
                                               features=feature_list, at=at, at_features=at_features,
                                               width_kernel=width_kernel, ridge=ridge, noise=noise,
                                               progress=progress), quiet)
    _say_where_the_kernel_came_from(result, quiet)
    _output(result, json_path, plot, "plot_spectrum", quiet)


@app.command()
def measure(arch: str = _ARCH, data: str = typer.Option(..., "--data", help="data spec (needs labels, or target=gp)"),
            n: Optional[int] = typer.Option(None, "--n", help="pool size n (default: min(2000, the data's size))"),
            kernel: str = typer.Option("ntk", "--kernel", help="ntk or nngp (kernel regression of the data regime)"),
            seed: int = _SEED,
            regimes: str = typer.Option("data,width", "--regimes", help="comma-separated: "
                                        + ", ".join(options.REGIMES)),
            sizes: Optional[str] = _SIZES, widths: Optional[str] = _WIDTHS, repeats: int = _REPEATS,
            ridge: float = _RIDGE, noise: float = _NOISE, trained_widths: Optional[str] = _TRAINED_WIDTHS,
            trained_width: int = _TRAINED_WIDTH, optimizer: str = _OPTIMIZER, learning_rate: float = _LEARNING_RATE,
            steps: int = _STEPS, batch_size: Optional[int] = _BATCH_SIZE, device: Optional[str] = _DEVICE,
            json_path: Optional[Path] = _JSON,
            plot: Optional[Path] = typer.Option(None, "--plot", help="figure (.png/.pdf/.svg) of the curves"),
            no_cache: bool = _NO_CACHE, cache: Optional[Path] = _CACHE, coordinator: Optional[str] = _COORDINATOR,
            num_processes: Optional[int] = _NUM_PROCESSES, process_id: Optional[int] = _PROCESS_ID) -> None:
    """Measure the scaling exponents: learning curves against D and random-feature curves against width."""
    regime_list = tuple(r.strip() for r in regimes.split(",") if r.strip())
    _check(n=n, kernel=kernel, seed=seed, regimes=regime_list, repeats=repeats, ridge=ridge, noise=noise,
           trained_width=trained_width, device=device)
    _check_outputs(json_path, plot, cache, no_cache)
    size_list, width_list = _ints(sizes, "--sizes"), _ints(widths, "--widths")
    trained_list = _ints(trained_widths, "--trained-widths")
    training = _training(optimizer, learning_rate, steps, batch_size)
    quiet = _join(coordinator, num_processes, process_id)
    from .measure import measure as api_measure

    result = _run(lambda progress: api_measure(
        arch, data, n_samples=n, kernel=kernel, seed=seed, regimes=regime_list, sizes=size_list, widths=width_list,
        repeats=repeats, ridge=ridge, noise=noise, trained_widths=trained_list, trained_width=trained_width,
        training=training, device=device, use_cache=not no_cache, progress=progress), quiet)
    _output(result, json_path, plot, "plot_curves", quiet)


@app.command()
def compare(arch: str = _ARCH, data: str = typer.Option(..., "--data", help="data spec (needs labels, or target=gp)"),
            n: Optional[int] = typer.Option(None, "--n", help="sample (pool) size n (default: min(2000, the data's "
                                            "size); with --pool, 2000)"),
            kernel: str = _KERNEL, seed: int = _SEED, sizes: Optional[str] = _SIZES,
            widths: Optional[str] = _WIDTHS, repeats: int = _REPEATS, ridge: float = _RIDGE, noise: float = _NOISE,
            no_width: bool = typer.Option(False, "--no-width", help="skip the width (random-feature) comparison"),
            pool: Optional[int] = typer.Option(None, "--pool", help="check the learning curve predicted from the "
                                               "n-point sample on kernel regression measured on a pool of M points "
                                               "that contains it, at sizes past n (--sizes), tested on held-out "
                                               "points"),
            finite_width: bool = typer.Option(False, "--finite-width", help="add the finite-width diagnosis: the "
                                              "width theory on each measured network's realized lower-layer kernel "
                                              "(costs one kernel and eigh per network; explains the readout row, is "
                                              "not a prediction)"),
            trained: bool = typer.Option(False, "--trained", help="add rows measured on networks trained with optax"),
            trained_widths: Optional[str] = _TRAINED_WIDTHS, trained_width: int = _TRAINED_WIDTH,
            optimizer: str = _OPTIMIZER, learning_rate: float = _LEARNING_RATE, steps: int = _STEPS,
            batch_size: Optional[int] = _BATCH_SIZE, device: Optional[str] = _DEVICE,
            json_path: Optional[Path] = _JSON,
            plot: Optional[Path] = typer.Option(None, "--plot", help="figure (.png/.pdf/.svg): both curves"),
            no_cache: bool = _NO_CACHE, cache: Optional[Path] = _CACHE, width_kernel: str = _WIDTH_KERNEL,
            coordinator: Optional[str] = _COORDINATOR, num_processes: Optional[int] = _NUM_PROCESSES,
            process_id: Optional[int] = _PROCESS_ID) -> None:
    """Predict and measure alpha_D and alpha_W on the same sample, side by side, with a verdict per row."""
    _check(n=n, kernel=kernel, seed=seed, repeats=repeats, ridge=ridge, noise=noise, pool=pool,
           trained_width=trained_width, device=device, width_kernel=width_kernel)
    _check_outputs(json_path, plot, cache, no_cache)
    size_list, width_list = _ints(sizes, "--sizes"), _ints(widths, "--widths")
    quiet = _join(coordinator, num_processes, process_id)
    if pool is not None:
        from .pool import compare_pool

        result = _run(lambda progress: compare_pool(
            arch, data, n_samples=n or 2000, pool=pool, kernel=kernel, seed=seed, sizes=size_list, repeats=repeats,
            ridge=ridge, noise=noise, device=device, use_cache=not no_cache, progress=progress), quiet)
        return _output(result, json_path, plot, "plot_pool_comparison", quiet)
    trained_list = _ints(trained_widths, "--trained-widths")
    training = _training(optimizer, learning_rate, steps, batch_size)
    from .compare import compare as api_compare

    result = _run(lambda progress: api_compare(
        arch, data, n_samples=n, kernel=kernel, seed=seed, sizes=size_list, widths=width_list, repeats=repeats,
        ridge=ridge, noise=noise, width=not no_width, finite_width=finite_width, trained=trained,
        trained_widths=trained_list, trained_width=trained_width, training=training, device=device,
        use_cache=not no_cache, width_kernel=width_kernel, progress=progress), quiet)
    _say_where_the_kernel_came_from(result.prediction, quiet)
    _output(result, json_path, plot, "plot_comparison", quiet)


@app.command()
def allocate(compute: float = typer.Option(..., "--compute", help="compute budget C (in the cost model's units; from "
                                           "a spectrum: C = N x samples)"),
             E: Optional[float] = typer.Option(None, "--E", help="irreducible loss E (only the loss at the optimum "
                                               "needs it)"),
             A: Optional[float] = typer.Option(None, "--A", help="coefficient A of A / N^alpha"),
             B: Optional[float] = typer.Option(None, "--B", help="coefficient B of B / D^beta"),
             alpha: Optional[float] = typer.Option(None, "--alpha", help="model-size exponent alpha"),
             beta: Optional[float] = typer.Option(None, "--beta", help="data-size exponent beta"),
             cost: str = typer.Option("6nd", "--cost", help="cost model of a given or measured loss model: 6nd (C = "
                                      "6ND), nd, or power:k=K,p=P,q=Q (C = K N^P D^Q)"),
             arch: Optional[str] = typer.Option(None, "--arch", help="predict from this architecture's spectrum (or, "
                                                "with --grid, fit a measured grid)"),
             data: Optional[str] = typer.Option(None, "--data", help="data spec"),
             n: Optional[int] = typer.Option(None, "--n", help="sample size (default: min(2000, the data's size))"),
             kernel: str = typer.Option("nngp", "--kernel", help="from a spectrum: the kernel whose linear random "
                                        "features are allocated (nngp: a network's readout features)"),
             regime: str = typer.Option("one-pass-sgd", "--regime", help="from a spectrum: one-pass-sgd (a fresh "
                                        "batch every step) or fixed-data (trained to convergence)"),
             learning_rate: float = typer.Option(0.5, "--learning-rate", help="one-pass SGD's step in kernel units: "
                                                 "gamma = LR / E k(x, x)"),
             batch: int = typer.Option(1, "--batch", help="one-pass SGD's batch"),
             check: bool = typer.Option(False, "--check", help="also measure the frontier by one-pass SGD on the "
                                        "readout features"),
             check_widths: Optional[str] = typer.Option(None, "--check-widths", help="widths --check trains "
                                                        "(default 8,16,32,64,128,256)"),
             grid: bool = typer.Option(False, "--grid", help="fit the loss model to a measured width x data grid "
                                       "instead (implied by --widths or --sizes)"),
             widths: Optional[str] = typer.Option(None, "--widths", help="widths of the grid, comma-separated"),
             sizes: Optional[str] = typer.Option(None, "--sizes", help="data sizes D of the grid, comma-separated"),
             repeats: Optional[int] = typer.Option(None, "--repeats", help="repeats per grid point or per --check "
                                                   "width (default 3 and 8; >= 2)"),
             ridge: float = typer.Option(0.1, "--ridge", help="ridge of the grid's random-feature regression"),
             seed: int = typer.Option(0, "--seed"), device: Optional[str] = _DEVICE, json_path: Optional[Path] = _JSON,
             plot: Optional[Path] = typer.Option(None, "--plot", help="figure (.png/.pdf/.svg) of the frontier"),
             no_cache: bool = _NO_CACHE, cache: Optional[Path] = _CACHE,
             coordinator: Optional[str] = _COORDINATOR, num_processes: Optional[int] = _NUM_PROCESSES,
             process_id: Optional[int] = _PROCESS_ID) -> None:
    """Compute-optimal model size and data for a budget: predicted from a spectrum (--arch --data), or from
    L(N, D) = E + A/N^alpha + B/D^beta given or fitted to a measured grid (--grid)."""
    _check(compute=compute, n=n, ridge=ridge, seed=seed, kernel=kernel, regime=regime, learning_rate=learning_rate,
           batch=batch, device=device, **({} if repeats is None else {"repeats": repeats}))
    _check_outputs(json_path, plot, cache, no_cache)
    given = {"--E": E, "--A": A, "--B": B, "--alpha": alpha, "--beta": beta}
    width_list, size_list = _ints(widths, "--widths"), _ints(sizes, "--sizes")
    spectral = _from_spectrum(arch, data, given, grid or bool(width_list or size_list), check)
    quiet = _join(coordinator, num_processes, process_id)
    if spectral:
        result = _run(lambda progress: _spectral_allocation(
            arch, data, compute=compute, n_samples=n, kernel=kernel, regime=regime, learning_rate=learning_rate,
            batch=batch, check=check, check_widths=_ints(check_widths, "--check-widths"), repeats=repeats, seed=seed,
            device=device, use_cache=not no_cache, progress=progress), quiet)
        return _output(result, json_path, plot, "plot_spectral_allocation", quiet)
    result = _run(lambda progress: _loss_model_allocation(
        compute, cost, given, arch, data, n_samples=n, widths=width_list, sizes=size_list, repeats=repeats or 3,
        ridge=ridge, seed=seed, progress=progress), quiet)
    _output(result, json_path, plot, "plot_allocation", quiet, e_given=arch is not None or E is not None)


def _loss_model_allocation(compute: float, cost: str, given: dict, arch: Optional[str], data: Optional[str],
                           **grid):
    """``allocate`` from the loss model given (``given``, keyed by option) or fitted to a grid measured on ``arch``
    and ``data`` (``grid``: the options of :func:`kernelscale.measure_loss_surface`)."""
    from .allocation import allocate as api_allocate
    from .measure import measure_loss_surface
    from .results import CostModel, LossModel

    cost_model = CostModel.parse(cost)
    if arch is None:
        model = LossModel(E=given["--E"] or 0.0, A=given["--A"], B=given["--B"], alpha=given["--alpha"],
                          beta=given["--beta"])
    else:
        model = measure_loss_surface(arch, data, **grid)
    return api_allocate(compute, model, cost_model)


def _from_spectrum(arch: Optional[str], data: Optional[str], given: dict, grid: bool, check: bool) -> bool:
    """Which route ``allocate`` takes: True for the spectrum (--arch --data without grid options), False for a loss
    model given or fitted to a measured grid; a clear error for a mix."""
    if (arch is None) != (data is None):
        _fail("--arch", "predicting from a spectrum or fitting a measured grid needs both --arch and --data.")
    if arch is not None and any(v is not None for v in given.values()):
        _fail("--arch", "give either the loss model (--E --A --B --alpha --beta) or --arch/--data, not both.")
    if arch is None and any(v is None for k, v in given.items() if k != "--E"):
        missing = [k for k, v in given.items() if v is None and k != "--E"]
        _fail(missing[0], f"the loss model needs --A, --B, --alpha and --beta (and --E for the loss at the optimum); "
                          f"missing: {', '.join(missing)}. Or give --arch and --data to predict from the spectrum.")
    if check and (arch is None or grid):
        _fail("--check", "--check measures a frontier predicted from a spectrum: give --arch and --data, without "
                         "--grid, --widths and --sizes.")
    return arch is not None and not grid


def _spectral_allocation(arch, data, *, repeats, **options):
    from .compute_optimal import predict_allocation

    return predict_allocation(arch, data, repeats=repeats or 8, **options)


@app.command()
def sweep(arch: str = typer.Option(..., "--arch", help="architecture spec"),
          data: str = typer.Option(..., "--data", help="data spec"),
          vary: str = typer.Option(..., "--vary", help="OPTION=V1,V2,...: e.g. classes=10,5,2 or input_noise=0,0.5,1 "
                                   "(data), depth=1,2,3,4 or act=relu,erf,gelu (architecture); arch.KEY / data.KEY "
                                   "when both specs have KEY"),
          n: Optional[int] = typer.Option(None, "--n", help="sample size n of every variant (default: min(2000, the "
                                          "data's size))"),
          kernel: str = _KERNEL, seed: int = typer.Option(0, "--seed"),
          with_compare: bool = typer.Option(False, "--compare", help="also measure alpha_D (kernel regression) per "
                                            "variant"),
          repeats: int = typer.Option(5, "--repeats", help="repeats per size for --compare (>= 2)"),
          device: Optional[str] = _DEVICE, json_path: Optional[Path] = _JSON,
          plot: Optional[Path] = typer.Option(None, "--plot", help="figure (.png/.pdf/.svg) of the exponents"),
          no_cache: bool = _NO_CACHE, cache: Optional[Path] = _CACHE, coordinator: Optional[str] = _COORDINATOR,
          num_processes: Optional[int] = _NUM_PROCESSES, process_id: Optional[int] = _PROCESS_ID) -> None:
    """Predict (and with --compare, measure) the exponents over the values of one architecture or data option."""
    _check(n=n, kernel=kernel, seed=seed, repeats=repeats, device=device)
    _check_outputs(json_path, plot, cache, no_cache)
    parameter, eq, raw_values = vary.partition("=")
    values = [v.strip() for v in raw_values.split(",") if v.strip()]
    if not eq or not parameter.strip() or not values:
        _fail("--vary", f"{vary!r} is not OPTION=V1,V2,... (e.g. classes=10,5,2).")
    quiet = _join(coordinator, num_processes, process_id)
    from .sweep import sweep as api_sweep

    result = _run(lambda progress: api_sweep(
        arch, data, parameter=parameter.strip(), values=values, n_samples=n, kernel=kernel, seed=seed,
        with_compare=with_compare, repeats=repeats, device=device, use_cache=not no_cache, progress=progress), quiet)
    _output(result, json_path, plot, "plot_sweep", quiet)


@app.command()
def cache(clear: bool = typer.Option(False, "--clear", help="remove every cached kernel and partial folder"),
          clear_partial: bool = typer.Option(False, "--clear-partial", help="remove only the partial folders that "
                                             "interrupted computations left (they can no longer resume)"),
          folder: Optional[Path] = _CACHE) -> None:
    """Show the on-disk kernel cache ($KERNELSCALE_CACHE, else ~/.cache/kernelscale), or clear it."""
    from .cache import clear_cache, inspect_cache

    if clear or clear_partial:
        stderr.print(f"removed from {clear_cache(folder, partial_only=not clear).describe()}", highlight=False,
                     soft_wrap=True)
    print(inspect_cache(folder).describe())
