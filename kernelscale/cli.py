"""The ``kernelscale`` command line: argument parsing and printing only; every number comes from the API."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

# rich_markup_mode=None: the command line's own errors (a missing option, a value that is not a number) print as
# Click's plain "Error: ..." line, the style kernelscale's errors use too, instead of a box
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Predict neural scaling exponents from infinite-width kernels, without training.")
stderr = Console(stderr=True)


@app.callback()
def main() -> None:
    """kernelscale: alpha_K, alpha_D and alpha_W from NNGP / NTK spectra."""


def _fail(option: str, message: str):
    """A bad option: one ``Error:`` line naming it, exit code 2, before any computation."""
    stderr.print(f"Error: {option}: {message}", highlight=False)
    raise typer.Exit(code=2)


def _check_writable(path: Optional[Path], option: str) -> None:
    """Fail before any computation if an output file cannot be written."""
    if path is None or str(path) == "-":
        return
    folder = path.expanduser().resolve().parent
    if not folder.is_dir():
        _fail(option, f"folder {folder} does not exist.")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        _fail(option, f"{path} is not writable.")


def _check_common(kernel: str, device: Optional[str], json_path: Optional[Path], plot: Optional[Path]) -> None:
    if kernel not in ("ntk", "nngp"):
        _fail("--kernel", f"{kernel!r} is not a kernel; use ntk or nngp.")
    if device not in (None, "cpu", "gpu"):
        _fail("--device", f"{device!r} is not a device; use cpu or gpu.")
    _check_writable(json_path, "--json")
    _check_writable(plot, "--plot")


def _int_list(text: Optional[str], option: str) -> Optional[tuple[int, ...]]:
    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        _fail(option, f"{text!r} is not a comma-separated list of integers.")


# Training options shared by `measure` and `compare` (trained networks, kernelscale/training.py).
_TRAINED_WIDTHS = typer.Option(None, "--trained-widths",
                               help="widths of the trained networks (default 8..128 CPU, 8..1024 GPU)")
_TRAINED_WIDTH = typer.Option(64, "--trained-width", help="width of the trained networks against D")
_OPTIMIZER = typer.Option("adam", "--optimizer", help="trained networks: adam or sgd")
_LEARNING_RATE = typer.Option(3e-3, "--learning-rate", help="trained networks: peak step size (cosine decay)")
_STEPS = typer.Option(3000, "--steps", help="trained networks: optimizer steps (a multiple of 250)")
_BATCH_SIZE = typer.Option(None, "--batch-size", help="trained networks: minibatch (default full)")
# options that several commands share, declared once
_DEVICE = typer.Option(None, "--device", help="cpu or gpu (default: JAX's default device)")
_JSON = typer.Option(None, "--json", help="write the result as JSON to PATH, or - for stdout")
_NO_CACHE = typer.Option(False, "--no-cache", help="do not read or write the on-disk kernel cache")
_SIZES = typer.Option(None, "--sizes", help="training-set sizes D, comma-separated")
_WIDTHS = typer.Option(None, "--widths", help="widths of the random-feature networks")
_REPEATS = typer.Option(5, "--repeats", help="independent repeats per point (>= 2)")
_RIDGE = typer.Option(0.0, "--ridge", help="ridge added to the D x D Gram matrix")
_NOISE = typer.Option(0.0, "--noise", help="label-noise variance per output column")


def _training(optimizer: str, learning_rate: float, steps: int, batch_size: Optional[int]):
    """TrainingSettings from the CLI options; bad values exit 2 with the library's message."""
    from .errors import KernelscaleError
    from .training import TrainingSettings

    try:
        return TrainingSettings(optimizer=optimizer, learning_rate=learning_rate, steps=steps, batch_size=batch_size)
    except KernelscaleError as exc:
        stderr.print(f"Error: {exc}", highlight=False)
        raise typer.Exit(code=2) from None


def _run(compute):
    """Run ``compute(progress)`` with progress on stderr (bars in a terminal; otherwise, as in a log or a pipe, one
    line per finished stage with its elapsed time); library errors exit with code 2 and a message."""
    import time

    from .errors import KernelscaleError

    terminal = stderr.is_terminal
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=stderr, transient=True, disable=not terminal) as bar:
        tasks: dict[str, int] = {}
        started: dict[str, float] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
                started[stage] = time.perf_counter()
            bar.update(tasks[stage], completed=done, total=total)
            if not terminal and done >= total and stage in started:
                stderr.print(f"{stage}: {done}/{total}, {time.perf_counter() - started.pop(stage):.1f} s",
                             highlight=False)

        try:
            return compute(progress)
        except KernelscaleError as exc:
            stderr.print(f"Error: {exc}", highlight=False)
            raise typer.Exit(code=2) from None


def _output(result, json_path: Optional[Path], print_table) -> None:
    from ._io import write_text_atomically

    if json_path is None:
        print_table(result)
    elif str(json_path) == "-":
        sys.stdout.write(result.to_json() + "\n")
    else:
        write_text_atomically(json_path, result.to_json(indent=2) + "\n")
        stderr.print(f"JSON written to {json_path}")


def _title(command: str, arch: str, data: str, extra: str) -> str:
    """``kernelscale predict: fc:act=relu,depth=3 on digits (n=1797, NTK)``: the options a user set and the ones that
    matter (depth, activation; not the finite width, which infinite-width kernels ignore), rounded."""
    from .specs import short_title

    return f"kernelscale {command}: {short_title(arch, data)} ({extra})"


def _verdict(word: str, sigma) -> str:
    """``agree 0.4σ``: the verdict and the gap in combined sigma (agree means at most 1.96)."""
    return word if sigma is None else f"{word} {sigma:.1f}σ"


def _interval(ci) -> str:
    return "-" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _number(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_table(p, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=_title("predict", p.arch, p.data, f"n={p.n}, {p.kernel.upper()}"))
    table.add_column("quantity")
    table.add_column("estimate", justify="right")
    table.add_column("interval", justify="right")
    table.add_column("basis")
    table.add_row("alpha_K", _number(p.alpha_K), _interval(p.alpha_K_ci),
                  f"tail, i = {p.fit_window[0]}..{p.fit_window[1]}" if p.fit_window else p.status)
    table.add_row("a (target decay)", _number(p.target_decay), _interval(p.target_decay_ci), "v_i^2 ~ i^-a")
    table.add_row("alpha_D kernel-only", _number(p.alpha_D_kernel_only), _interval(p.alpha_D_kernel_only_ci),
                  "asymptote: alpha_K")
    table.add_row("alpha_D task-aware", _number(p.alpha_D_task_aware), _interval(p.alpha_D_task_aware_ci),
                  "asymptote: min(a-1, 2b)")
    table.add_row("[bold]alpha_D[/bold] (rec.)", _number(p.alpha_D), _interval(p.alpha_D_ci),
                  f"L(D) at D = {p.alpha_D_at}" if p.alpha_D_at else f"{p.alpha_D_basis} asymptote")
    table.add_row("[bold]alpha_W[/bold]", _number(p.alpha_W), _interval(p.alpha_W_ci),
                  "asymptote: " + ("min(a-1, b)" if p.asymptote_basis == "task-aware" else "alpha_K"))
    if p.width_features is not None:
        table.add_row("alpha_W local", _number(p.alpha_W_local), _interval(p.alpha_W_local_ci),
                      f"E_W, P = {p.width_features[0]}..{p.width_features[1]}")
    d = p.intrinsic_dimension
    if d is not None:
        table.add_row("d (intrinsic)", f"{d.twonn:.2f} / {d.mle:.2f}", "-", f"TwoNN / MLE, k = {d.neighbors}")
        table.add_row("4/d (manifold)", f"{d.alpha_manifold_twonn:.3f} / {d.alpha_manifold_mle:.3f}", "-",
                      "not alpha_K")
    console.print(table)
    console.print(f"alpha_K: lambda_i ~ i^-(1 + alpha_K), b = 1 + alpha_K; asymptotes: the exponents as D or P grow "
                  f"without bound; alpha_W: P random features of the {p.kernel.upper()} at infinite data; local: "
                  "the width theory's slope, extrapolated to an infinite pool; 4/d: the manifold estimate, a "
                  "different estimate.")
    if p.learning_curve is not None:
        _print_curves(p, console)
    for note in p.notes:
        console.print(f"note: {note}")
    console.print(f"status: {p.status}. {p.message}")
    console.print(f"why {p.alpha_D_basis}: {p.recommendation}")
    for warning in p.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if p.eigensolver == "topk":
        console.print(f"top-k eigensolver: {p.n_eigs} eigenpairs from kernel blocks computed on the fly; the fit "
                      f"uses indices up to {p.n_eigs // 2}.")
    where = f"kernel from the cache (computed on {p.device})" if p.from_cache else f"kernel on {p.device} x {p.devices}"
    console.print(f"{where}; {p.seconds:.1f} s "
                  f"(kernel {p.kernel_seconds:.1f} s, eigendecomposition {p.eigh_seconds:.1f} s"
                  + (f", intrinsic dimension {p.intrinsic_seconds:.1f} s" if d is not None else "") + ")")


def _curves_table(title: str, curves, n: int) -> Table:
    """One row per size: each curve's loss, band and local exponent; sizes past the reliable range marked."""
    table = Table(title=title)
    table.add_column("size", justify="right")
    for curve in curves:
        table.add_column(f"L({curve.x_name}) [95%]", justify="right", no_wrap=True)
        table.add_column("exp", justify="right")
    for i, size in enumerate(curves[0].sizes):
        cells = []
        for curve in curves:
            low, high = curve.loss_ci[i]
            mark = "*" if size > curve.reliable_up_to else " "
            cells += [f"{curve.loss[i]:.4g} [{low:.3g}, {high:.3g}]", f"{curve.local_exponent[i]:.3f}{mark}"]
        table.add_row(f"{size}" + (" = n" if size == n else ""), *cells)
    return table


def _print_curves(p, console: Console) -> None:
    curves = [p.learning_curve, p.width_curve]
    legend = (f"L(D): kernel regression, D training points; L(P): P random features at infinite data; exp: local "
              f"exponent. * past the reliable range (D > {p.learning_curve.reliable_up_to}, P > "
              f"{p.width_curve.reliable_up_to}: a power-law continuation).")
    if p.learning_curve.sizes == p.width_curve.sizes:
        console.print(_curves_table("predicted test loss", curves, p.n))
    else:
        for curve in curves:
            console.print(_curves_table(f"predicted test loss L({curve.x_name})", [curve], p.n))
    console.print(legend)


@app.command()
def predict(
    arch: str = typer.Option(..., "--arch", help="architecture spec, e.g. fc:depth=3,act=relu,w_std=1.41,b_std=0.05"),
    data: str = typer.Option(..., "--data", help="data spec, e.g. digits, mnist5k, sphere:dim=4,target=gp"),
    n: Optional[int] = typer.Option(None, "--n", help="sample size n; the kernel is n x n (default: min(2000, the "
                                    "data's size))"),
    kernel: str = typer.Option("ntk", "--kernel", help="ntk or nngp"),
    seed: int = typer.Option(0, "--seed", help="seed of the sample and of random targets"),
    device: Optional[str] = _DEVICE,
    json_path: Optional[Path] = _JSON,
    plot: Optional[Path] = typer.Option(None, "--plot", help="write a PNG of the spectrum, the fits and the "
                                        "predicted curves"),
    no_cache: bool = _NO_CACHE,
    no_intrinsic: bool = typer.Option(False, "--no-intrinsic-dim",
                                      help="skip the intrinsic-dimension estimates (TwoNN, MLE) and 4/d; they also "
                                           "set how slowly alpha_K's interval lets it converge, so this changes "
                                           "alpha_K's interval (and can change its status)"),
    eigensolver: str = typer.Option("auto", "--eigensolver",
                                    help="full, topk (kernel blocks on the fly, top --n-eigs eigenpairs) or auto "
                                         "(full when the matrix fits in memory)"),
    n_eigs: Optional[int] = typer.Option(None, "--n-eigs", help="eigenpairs for --eigensolver topk "
                                         "(default min(2000, n/2 - 1))"),
    sizes: Optional[str] = typer.Option(None, "--sizes", help="training-set sizes D of the predicted learning "
                                        "curve L(D), increasing (default: 16 from n/64 to 10 n)"),
    features: Optional[str] = typer.Option(None, "--features", help="feature counts P of the predicted width curve "
                                           "L(P), increasing (default: the sizes)"),
    at: Optional[int] = typer.Option(None, "--at", help="the size D at which the recommended alpha_D is read from "
                                     "L(D) (default 10 n; within the sizes)"),
    ridge: float = _RIDGE,
    noise: float = _NOISE,
) -> None:
    """Predict alpha_K, alpha_D and alpha_W of an architecture on a data sample, and the loss curves L(D) and
    L(P) past it."""
    from .api import predict as api_predict

    _check_common(kernel, device, json_path, plot)
    size_list, feature_list = _int_list(sizes, "--sizes"), _int_list(features, "--features")
    result = _run(lambda progress: api_predict(arch, data, n_samples=n, kernel=kernel, seed=seed, device=device,
                                               use_cache=not no_cache, intrinsic=not no_intrinsic,
                                               eigensolver=eigensolver, n_eigs=n_eigs, sizes=size_list,
                                               features=feature_list, at=at, ridge=ridge, noise=noise,
                                               progress=progress))
    if result.from_cache:
        stderr.print(f"kernel read from the on-disk cache (an identical earlier call computed it on {result.device})")
    if plot is not None:
        from .plots import plot_spectrum

        plot_spectrum(result, plot)
        stderr.print(f"plot written to {plot}")
    _output(result, json_path, _print_table)


def _print_measurement(m, console: Console | None = None) -> None:
    table = Table(title=_title("measure", m.arch, m.data, f"n={m.n}, {m.kernel.upper()}"))
    # numbers never wrap; names and statuses wrap into what is left (80 columns suffice)
    table.add_column("regime", ratio=1, min_width=8)
    for column in ("range", "exponent (95%)", "expected"):
        table.add_column(column, no_wrap=True)
    table.add_column("status", ratio=1, min_width=6)
    for curve in m.curves.values():
        table.add_row(curve.regime, f"{curve.x_name} {curve.x[0]}..{curve.x[-1]}",
                      f"{_number(curve.fit.exponent)} {_interval(curve.fit.ci)}", _number(curve.expected),
                      curve.fit.status)
    console = console or Console()
    console.print(table)
    for note in m.notes:
        console.print(f"note: {note}")
    for curve in m.curves.values():
        if curve.fit.message:
            console.print(f"{curve.regime}: {curve.fit.message}")
    console.print(f"{m.seconds:.1f} s")


ROW_LEGEND = {
    "alpha_D theory (rec.)": "the learning-curve theory's local exponent over the D-range, extrapolated to an "
                             "infinite pool (recommended; predict's L(D) in the sample's range)",
    "alpha_D task-aware": "the asymptote min(a - 1, 2b), b = 1 + alpha_K",
    "alpha_D kernel-only": "the asymptote alpha_K (duality)",
    "alpha_W linear RF": "the width theory E_W(P) on the NNGP against its own model, linear random features",
    "alpha_W readout": "E_W(P) against the readout features of finite networks",
    "alpha_W finite-width": "E_W(P) on each measured network's realized kernel (a diagnosis, not a prediction)",
    "alpha_D trained": "the theory against networks trained with optax, against D",
    "alpha_W trained": "E_W(P) against networks trained with optax, against width",
}


def _print_comparison(c, console: Console | None = None) -> None:
    table = Table(title=_title("compare", c.arch, c.data, f"n={c.n}, {c.kernel.upper()}"))
    # numbers and verdicts never wrap; the short labels take what is left of 80 columns, the legend explains them
    table.add_column("estimate", ratio=1, min_width=10)
    for column in ("predicted", "measured (95%)", "verdict"):
        table.add_column(column, no_wrap=True)
    for row in c.rows:
        table.add_row(row.label or f"{row.quantity}: {row.basis}", f"{_number(row.predicted)} "
                      f"{_interval(row.predicted_ci)}", f"{_number(row.measured)} {_interval(row.measured_ci)}",
                      _verdict(row.verdict, row.gap_sigma))
    console = console or Console()
    console.print(table)
    for row in c.rows:
        if row.label in ROW_LEGEND:
            extra = row.basis.split("; ", 2)[2] if row.label == "alpha_W readout" and row.basis.count("; ") >= 2 \
                else ""
            console.print(f"{row.label}: {ROW_LEGEND[row.label]}" + (f"; {extra}" if extra else "") + ".")
    console.print("verdict: agree when |predicted - measured| <= sqrt(hp^2 + hm^2) (the facing 95% half-widths), "
                  "i.e. within 1.96 combined sigma; the gap is printed in sigma.")
    console.print(f"D-range {c.d_range[0]}..{c.d_range[1]}" +
                  (f", width range {c.width_range[0]}..{c.width_range[1]}" if c.width_range else ""))
    for warning in c.prediction.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    for note in c.prediction.notes:
        console.print(f"note: {note}")
    console.print(f"why: {c.prediction.recommendation}")
    console.print(f"predict {c.seconds_predict:.1f} s, measure {c.seconds_measure:.1f} s "
                  f"(ratio {c.seconds_measure / max(c.seconds_predict, 1e-9):.1f})")


@app.command()
def measure(
    arch: str = typer.Option(..., "--arch", help="architecture spec"),
    data: str = typer.Option(..., "--data", help="data spec (needs labels, or target=gp)"),
    n: Optional[int] = typer.Option(None, "--n", help="pool size n (default: min(2000, the data's size))"),
    kernel: str = typer.Option("ntk", "--kernel", help="ntk or nngp (kernel regression of the data regime)"),
    seed: int = typer.Option(0, "--seed"),
    regimes: str = typer.Option("data,width", "--regimes",
                                help="comma-separated: data, width, linear_rf, data_variance, width_variance, "
                                     "trained_width, trained_data"),
    sizes: Optional[str] = _SIZES,
    widths: Optional[str] = _WIDTHS,
    repeats: int = _REPEATS,
    ridge: float = _RIDGE,
    noise: float = _NOISE,
    trained_widths: Optional[str] = _TRAINED_WIDTHS,
    trained_width: int = _TRAINED_WIDTH,
    optimizer: str = _OPTIMIZER,
    learning_rate: float = _LEARNING_RATE,
    steps: int = _STEPS,
    batch_size: Optional[int] = _BATCH_SIZE,
    device: Optional[str] = _DEVICE,
    json_path: Optional[Path] = _JSON,
    plot: Optional[Path] = typer.Option(None, "--plot", help="write a PNG of the measured curves"),
    no_cache: bool = _NO_CACHE,
) -> None:
    """Measure the scaling exponents: learning curves against D and random-feature curves against width."""
    from .api import measure as api_measure

    _check_common(kernel, device, json_path, plot)
    regime_list = tuple(r.strip() for r in regimes.split(",") if r.strip())
    size_list, width_list = _int_list(sizes, "--sizes"), _int_list(widths, "--widths")
    trained_list = _int_list(trained_widths, "--trained-widths")
    result = _run(lambda progress: api_measure(
        arch, data, n_samples=n, kernel=kernel, seed=seed, regimes=regime_list, sizes=size_list, widths=width_list,
        repeats=repeats, ridge=ridge, noise=noise, trained_widths=trained_list, trained_width=trained_width,
        training=_training(optimizer, learning_rate, steps, batch_size), device=device, use_cache=not no_cache,
        progress=progress))
    if plot is not None:
        from .plots import plot_curves

        plot_curves(result, plot)
        stderr.print(f"plot written to {plot}")
    _output(result, json_path, _print_measurement)


@app.command()
def compare(
    arch: str = typer.Option(..., "--arch", help="architecture spec"),
    data: str = typer.Option(..., "--data", help="data spec (needs labels, or target=gp)"),
    n: Optional[int] = typer.Option(None, "--n", help="sample (pool) size n (default: min(2000, the data's size); "
                                    "with --pool, 2000)"),
    kernel: str = typer.Option("ntk", "--kernel", help="ntk or nngp"),
    seed: int = typer.Option(0, "--seed"),
    sizes: Optional[str] = _SIZES,
    widths: Optional[str] = _WIDTHS,
    repeats: int = _REPEATS,
    ridge: float = _RIDGE,
    noise: float = _NOISE,
    no_width: bool = typer.Option(False, "--no-width", help="skip the width (random-feature) comparison"),
    pool: Optional[int] = typer.Option(None, "--pool", help="check the learning curve predicted from the n-point "
                                       "sample on kernel regression measured on a pool of M points that contains it, "
                                       "at sizes past n (--sizes), tested on held-out points"),
    finite_width: bool = typer.Option(False, "--finite-width",
                                      help="add the finite-width diagnosis: the width theory on each measured "
                                           "network's realized lower-layer kernel (costs one kernel and eigh per "
                                           "network; explains the readout row, is not a prediction)"),
    trained: bool = typer.Option(False, "--trained", help="add rows measured on networks trained with optax"),
    trained_widths: Optional[str] = _TRAINED_WIDTHS,
    trained_width: int = _TRAINED_WIDTH,
    optimizer: str = _OPTIMIZER,
    learning_rate: float = _LEARNING_RATE,
    steps: int = _STEPS,
    batch_size: Optional[int] = _BATCH_SIZE,
    device: Optional[str] = _DEVICE,
    json_path: Optional[Path] = _JSON,
    plot: Optional[Path] = typer.Option(None, "--plot", help="write a PNG: predicted and measured curves"),
    no_cache: bool = _NO_CACHE,
) -> None:
    """Predict and measure alpha_D and alpha_W on the same sample, side by side, with a verdict per row."""
    from .compare import compare as api_compare

    _check_common(kernel, device, json_path, plot)
    size_list, width_list = _int_list(sizes, "--sizes"), _int_list(widths, "--widths")
    trained_list = _int_list(trained_widths, "--trained-widths")
    if pool is not None:
        from .pool import compare_pool

        result = _run(lambda progress: compare_pool(arch, data, n_samples=n or 2000, pool=pool, kernel=kernel,
                                                    seed=seed, sizes=size_list, repeats=repeats, ridge=ridge, noise=noise,
                                                    device=device, use_cache=not no_cache, progress=progress))
        if plot is not None:
            from .plots import plot_pool_comparison

            plot_pool_comparison(result, plot)
            stderr.print(f"plot written to {plot}")
        _output(result, json_path, _print_pool_comparison)
        return
    result = _run(lambda progress: api_compare(
        arch, data, n_samples=n, kernel=kernel, seed=seed, sizes=size_list, widths=width_list, repeats=repeats,
        ridge=ridge, noise=noise, width=not no_width, finite_width=finite_width, trained=trained,
        trained_widths=trained_list,
        trained_width=trained_width, training=_training(optimizer, learning_rate, steps, batch_size), device=device,
        use_cache=not no_cache, progress=progress))
    if plot is not None:
        from .plots import plot_comparison

        plot_comparison(result, plot)
        stderr.print(f"plot written to {plot}")
    _output(result, json_path, _print_comparison)


def _print_pool_comparison(c, console: Console | None = None) -> None:
    console = console or Console()
    console.print(_title("compare --pool", c.arch, c.data, f"n={c.n} of a pool of {c.pool}, {c.kernel.upper()}"))
    for what, cells in (
            ("test loss", lambda r: (f"{r.predicted_loss:.4g} {_interval3(r.predicted_loss_ci)}",
                                     f"{r.measured_loss:.4g} {_interval3(r.measured_loss_ci)}",
                                     _verdict(r.loss_verdict, r.loss_gap_sigma))),
            ("local exponent", lambda r: (f"{r.predicted_exponent:.3f} {_interval(r.predicted_exponent_ci)}",
                                          f"{r.measured_exponent:.3f} {_interval(r.measured_exponent_ci)}",
                                          _verdict(r.exponent_verdict, r.exponent_gap_sigma)))):
        table = Table(title=f"{what}: predicted from the sample, measured past it")
        table.add_column("D", justify="right")
        for column in ("predicted (95%)", "measured (95%)", "verdict"):
            table.add_column(column, justify="right", no_wrap=True)
        for row in c.rows:
            table.add_row(str(row.size), *cells(row))
        console.print(table)
    console.print(f"measured: kernel regression on D of the pool's {c.pool - c.test_points} non-test points, tested on "
                  f"{c.test_points} held-out points the prediction never saw; local exponents between neighbouring "
                  f"sizes. Predicted: {c.prediction.learning_curve.assumptions}.")
    console.print(f"predict {c.seconds_predict:.1f} s, measure {c.seconds_measure:.1f} s (pool kernel included)")


def _interval3(ci) -> str:
    return f"[{ci[0]:.3g}, {ci[1]:.3g}]"


def _print_allocation(a, e_given: bool = True, console: Console | None = None) -> None:
    console = console or Console()
    m = a.model
    fitted = bool(a.ci)
    table = Table(title=f"kernelscale allocate: C = {a.compute:.4g} ({a.cost.describe()})")
    for column in ("quantity", "value", "95% interval") if fitted else ("quantity", "value"):
        table.add_column(column)

    def row(label, value, name=None, source=None):
        cells = [label, f"{value:.4g}"]
        if fitted:
            cells.append(f"[{source[name][0]:.4g}, {source[name][1]:.4g}]" if source and name in source else "-")
        table.add_row(*cells)

    row("N_opt", a.n_opt, "n_opt", a.ci)
    row("D_opt", a.d_opt, "d_opt", a.ci)
    row("a_N (N_opt ~ C^a_N)", a.a, "a", a.ci)
    row("a_D (D_opt ~ C^a_D)", a.b, "b", a.ci)
    row("loss at optimum" if e_given else "loss at optimum - E", a.loss_opt)
    row("D_opt / N_opt", a.tokens_per_parameter)
    for name in ("E", "A", "B", "alpha", "beta"):
        if name == "E" and not e_given:
            continue
        row(f"model {name}", getattr(m, name), name, a.model_ci)
    console.print(table)
    if a.fit is not None:
        console.print(f"fitted to {len(a.fit.n_values)} x {len(a.fit.d_values)} measured losses "
                      f"({a.fit.source.get('arch', '')} on {a.fit.source.get('data', '')}); "
                      f"rms log residual {a.fit.rms_log_residual:.3f}")
    else:
        console.print("no intervals: the loss model was given, not fitted (--arch and --data fit it to measured "
                      "losses, with bootstrap intervals).")
    if not e_given:
        console.print("E not given: N_opt, D_opt and their exponents do not depend on it; the loss at the optimum is "
                      "shown without it.")
    console.print("a_N, a_D: how N_opt and D_opt grow with the budget (the JSON's a and b).")
    console.print(a.explanation)


@app.command()
def allocate(
    compute: float = typer.Option(..., "--compute", help="compute budget C (in the cost model's units)"),
    E: Optional[float] = typer.Option(None, "--E", help="irreducible loss E (only the loss at the optimum needs it)"),
    A: Optional[float] = typer.Option(None, "--A", help="coefficient A of A / N^alpha"),
    B: Optional[float] = typer.Option(None, "--B", help="coefficient B of B / D^beta"),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="model-size exponent alpha"),
    beta: Optional[float] = typer.Option(None, "--beta", help="data-size exponent beta"),
    cost: str = typer.Option("6nd", "--cost", help="cost model: 6nd (C = 6ND), nd, or power:k=K,p=P,q=Q (C = K N^P D^Q)"),
    arch: Optional[str] = typer.Option(None, "--arch", help="fit the model to a measured grid of this architecture"),
    data: Optional[str] = typer.Option(None, "--data", help="data spec of the measured grid"),
    n: Optional[int] = typer.Option(None, "--n", help="sample size of the measured grid (default: min(2000, the "
                                    "data's size))"),
    widths: Optional[str] = typer.Option(None, "--widths", help="widths of the grid, comma-separated"),
    sizes: Optional[str] = typer.Option(None, "--sizes", help="data sizes D of the grid, comma-separated"),
    repeats: int = typer.Option(3, "--repeats", help="repeats per grid point (>= 2)"),
    ridge: float = typer.Option(0.1, "--ridge", help="ridge of the random-feature regression"),
    seed: int = typer.Option(0, "--seed"),
    json_path: Optional[Path] = _JSON,
    plot: Optional[Path] = typer.Option(None, "--plot", help="write a PNG: loss frontier against compute"),
) -> None:
    """Compute-optimal N and D for a budget, from L(N, D) = E + A/N^alpha + B/D^beta given or fitted."""
    from .allocation import CostModel, LossModel
    from .allocation import allocate as api_allocate
    from .api import measure_loss_surface

    _check_writable(json_path, "--json")
    _check_writable(plot, "--plot")
    given = {"--E": E, "--A": A, "--B": B, "--alpha": alpha, "--beta": beta}
    if arch is not None or data is not None:
        if arch is None or data is None:
            _fail("--arch", "fitting a measured grid needs both --arch and --data.")
        if any(v is not None for v in given.values()):
            _fail("--arch", "give either the loss model (--E --A --B --alpha --beta) or --arch/--data to "
                                     "fit it, not both.")
    elif any(v is None for k, v in given.items() if k != "--E"):
        missing = ", ".join(k for k, v in given.items() if v is None and k != "--E")
        _fail("--A", f"missing {missing}: give --A --B --alpha --beta (and --E for the loss at the optimum), or "
                     "--arch and --data to fit them to measured losses.")
    width_list, size_list = _int_list(widths, "--widths"), _int_list(sizes, "--sizes")

    def run(progress):
        cost_model = CostModel.parse(cost)
        if arch is None:
            model = LossModel(E=0.0 if E is None else E, A=A, B=B, alpha=alpha, beta=beta)
        else:
            model = measure_loss_surface(arch, data, n_samples=n, widths=width_list, sizes=size_list,
                                         repeats=repeats, ridge=ridge, seed=seed, progress=progress)
        return api_allocate(compute, model, cost_model)

    result = _run(run)
    if plot is not None:
        from .plots import plot_allocation

        plot_allocation(result, plot)
        stderr.print(f"plot written to {plot}")
    _output(result, json_path, lambda a: _print_allocation(a, e_given=arch is not None or E is not None))


def _with_interval(value, ci) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" + ("" if ci is None else f" [{ci[0]:.2f},{ci[1]:.2f}]")


def _print_sweep(s, console: Console | None = None) -> None:
    """Two tables that fit 80 columns: the predictions per value, and (with --compare) the theory against the
    measured exponent over the measured D-range, each verdict beside the two numbers it judges."""
    console = console or Console()
    table = Table(title=f"kernelscale sweep: {s.applies_to} option {s.parameter} (n={s.n}, {s.kernel.upper()})")
    for column in (s.parameter, "alpha_K", "a", "alpha_D rec. (95%)", "d", "4/d"):
        table.add_column(column, no_wrap=True, justify="right" if column != s.parameter else "left")
    for point in s.points:
        p, d = point.prediction, point.prediction.intrinsic_dimension
        table.add_row(point.value, _with_interval(p.alpha_K, None), _with_interval(p.target_decay, None),
                      _with_interval(p.alpha_D, p.alpha_D_ci), "-" if d is None else f"{d.twonn:.1f}",
                      "-" if d is None else f"{d.alpha_manifold_twonn:.2f}")
    console.print(table)
    at = s.points[0].prediction.alpha_D_at
    console.print("alpha_D rec.: the recommended prediction, the predicted learning curve's local exponent at "
                  + (f"D = {at}" if at else "its size") + "; a: target decay; d: TwoNN intrinsic dimension, 4/d the "
                  "manifold estimate (a different estimate).")
    if any(point.comparison is not None for point in s.points):
        checked = Table(title="the theory against kernel regression over the measured D-range")
        for column in (s.parameter, "D-range", "theory", "measured (95%)", "verdict"):
            checked.add_column(column, no_wrap=True, justify="right" if column != s.parameter else "left")
        for point in s.points:
            c = point.comparison
            if c is None:
                continue
            checked.add_row(point.value, f"{c.d_range[0]}..{c.d_range[1]}", _with_interval(c.alpha_D_predicted, None),
                            _with_interval(c.alpha_D_measured, c.alpha_D_measured_ci),
                            _verdict(c.rows[0].verdict, c.rows[0].gap_sigma))
        console.print(checked)
    for point in s.points:
        if point.prediction.alpha_D is None:
            console.print(f"{s.parameter}={point.value}: {point.prediction.message}")
    console.print(f"{s.seconds:.1f} s")


@app.command()
def sweep(
    arch: str = typer.Option(..., "--arch", help="architecture spec"),
    data: str = typer.Option(..., "--data", help="data spec"),
    vary: str = typer.Option(..., "--vary", help="OPTION=V1,V2,...: e.g. classes=10,5,2 or input_noise=0,0.5,1 "
                             "(data), depth=1,2,3,4 or act=relu,erf,gelu (architecture); arch.KEY / data.KEY "
                             "when both specs have KEY"),
    n: Optional[int] = typer.Option(None, "--n", help="sample size n of every variant (default: min(2000, the "
                                    "data's size))"),
    kernel: str = typer.Option("ntk", "--kernel", help="ntk or nngp"),
    seed: int = typer.Option(0, "--seed"),
    with_compare: bool = typer.Option(False, "--compare", help="also measure alpha_D (kernel regression) per variant"),
    repeats: int = typer.Option(5, "--repeats", help="repeats per size for --compare (>= 2)"),
    device: Optional[str] = _DEVICE,
    json_path: Optional[Path] = _JSON,
    plot: Optional[Path] = typer.Option(None, "--plot", help="write a PNG: exponents against the varied option"),
    no_cache: bool = _NO_CACHE,
) -> None:
    """Predict (and with --compare, measure) the exponents over the values of one architecture or data option."""
    from .sweep import sweep as api_sweep

    _check_common(kernel, device, json_path, plot)
    parameter, eq, raw_values = vary.partition("=")
    values = [v.strip() for v in raw_values.split(",") if v.strip()]
    if not eq or not parameter.strip() or not values:
        _fail("--vary", f"{vary!r} is not OPTION=V1,V2,... (e.g. classes=10,5,2).")
    result = _run(lambda progress: api_sweep(
        arch, data, parameter=parameter.strip(), values=values, n_samples=n, kernel=kernel, seed=seed,
        with_compare=with_compare, repeats=repeats, device=device, use_cache=not no_cache, progress=progress))
    if plot is not None:
        from .plots import plot_sweep

        plot_sweep(result, plot)
        stderr.print(f"plot written to {plot}")
    _output(result, json_path, _print_sweep)
