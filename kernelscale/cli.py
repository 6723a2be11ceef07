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

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Predict neural scaling exponents from infinite-width kernels, without training.")
stderr = Console(stderr=True)


@app.callback()
def main() -> None:
    """kernelscale: alpha_K, alpha_D and alpha_W from NNGP / NTK spectra."""


def _check_writable(path: Optional[Path], option: str) -> None:
    """Fail before any computation if an output file cannot be written."""
    if path is None or str(path) == "-":
        return
    folder = path.expanduser().resolve().parent
    if not folder.is_dir():
        raise typer.BadParameter(f"folder {folder} does not exist.", param_hint=option)
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise typer.BadParameter(f"{path} is not writable.", param_hint=option)


def _check_common(kernel: str, device: Optional[str], json_path: Optional[Path], plot: Optional[Path]) -> None:
    if kernel not in ("ntk", "nngp"):
        raise typer.BadParameter(f"{kernel!r} is not a kernel; use ntk or nngp.", param_hint="--kernel")
    if device not in (None, "cpu", "gpu"):
        raise typer.BadParameter(f"{device!r} is not a device; use cpu or gpu.", param_hint="--device")
    _check_writable(json_path, "--json")
    _check_writable(plot, "--plot")


def _int_list(text: Optional[str], option: str) -> Optional[tuple[int, ...]]:
    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a comma-separated list of integers.", param_hint=option) from None


def _run(compute):
    """Run ``compute(progress)`` with a progress bar on stderr; library errors exit with code 2 and a message."""
    from .errors import KernelscaleError

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=stderr, transient=True, disable=not stderr.is_terminal) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        try:
            return compute(progress)
        except KernelscaleError as exc:
            stderr.print(f"[red]error:[/red] {exc}")
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


def _interval(ci) -> str:
    return "-" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _number(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_table(p) -> None:
    console = Console()
    table = Table(title=f"kernelscale predict: {p.arch} on {p.data} (n={p.n}, {p.kernel.upper()})")
    table.add_column("quantity")
    table.add_column("estimate", justify="right")
    table.add_column("interval", justify="right")
    table.add_column("basis")
    table.add_row("alpha_K (kernel)", _number(p.alpha_K), _interval(p.alpha_K_ci),
                  f"eigenvalue tail, window {p.fit_window[0]}..{p.fit_window[1]}" if p.fit_window else p.status)
    table.add_row("target decay a", _number(p.target_decay), _interval(p.target_decay_ci), "v_i^2 ~ i^-a")
    table.add_row("alpha_D kernel-only", _number(p.alpha_D_kernel_only), _interval(p.alpha_D_kernel_only_ci),
                  "duality: alpha_D = alpha_K")
    table.add_row("alpha_D task-aware", _number(p.alpha_D_task_aware), _interval(p.alpha_D_task_aware_ci),
                  "min(a - 1, 2 b)")
    table.add_row("[bold]alpha_D[/bold]", _number(p.alpha_D), _interval(p.alpha_D_ci), f"recommended: {p.alpha_D_basis}")
    table.add_row("[bold]alpha_W[/bold]", _number(p.alpha_W), _interval(p.alpha_W_ci), "duality: alpha_W = alpha_D")
    console.print(table)
    console.print(f"status: {p.status}. {p.message}")
    console.print(f"why {p.alpha_D_basis}: {p.recommendation}")
    console.print(f"device {p.device}{' (kernel from cache)' if p.from_cache else ''}; {p.seconds:.1f} s "
                  f"(kernel {p.kernel_seconds:.1f} s, eigendecomposition {p.eigh_seconds:.1f} s)")


@app.command()
def predict(
    arch: str = typer.Option(..., "--arch", help="architecture spec, e.g. fc:depth=3,act=relu,w_std=1.41,b_std=0.05"),
    data: str = typer.Option(..., "--data", help="data spec, e.g. digits, mnist5k, sphere:dim=4,target=gp"),
    n: int = typer.Option(2000, "--n", help="sample size n (the kernel is n x n)"),
    kernel: str = typer.Option("ntk", "--kernel", help="ntk or nngp"),
    seed: int = typer.Option(0, "--seed", help="seed of the sample and of random targets"),
    device: Optional[str] = typer.Option(None, "--device", help="cpu or gpu (default: JAX's default device)"),
    json_path: Optional[Path] = typer.Option(None, "--json", help="write the result as JSON to PATH, or - for stdout"),
    plot: Optional[Path] = typer.Option(None, "--plot", help="write a PNG of the spectrum and the fits"),
    no_cache: bool = typer.Option(False, "--no-cache", help="do not read or write the on-disk kernel cache"),
) -> None:
    """Predict alpha_K, alpha_D and alpha_W of an architecture on a data sample."""
    from .api import predict as api_predict

    _check_common(kernel, device, json_path, plot)
    result = _run(lambda progress: api_predict(arch, data, n_samples=n, kernel=kernel, seed=seed, device=device,
                                               use_cache=not no_cache, progress=progress))
    if result.from_cache:
        stderr.print("kernel read from the on-disk cache (an identical earlier call computed it)")
    if plot is not None:
        from .plots import plot_spectrum

        plot_spectrum(result, plot)
        stderr.print(f"plot written to {plot}")
    _output(result, json_path, _print_table)


def _print_measurement(m) -> None:
    table = Table(title=f"kernelscale measure: {m.arch} on {m.data} (n={m.n}, {m.kernel.upper()})")
    for column in ("regime", "x", "range", "exponent", "95% interval", "expected", "status"):
        table.add_column(column)
    for curve in m.curves.values():
        table.add_row(curve.regime, curve.x_name, f"{curve.x[0]}..{curve.x[-1]}", _number(curve.fit.exponent),
                      _interval(curve.fit.ci), _number(curve.expected), curve.fit.status)
    Console().print(table)
    for curve in m.curves.values():
        if curve.fit.message:
            Console().print(f"{curve.regime}: {curve.fit.message}")
    Console().print(f"{m.seconds:.1f} s")


def _print_comparison(c) -> None:
    table = Table(title=f"kernelscale compare: {c.arch} on {c.data} (n={c.n}, {c.kernel.upper()})")
    for column in ("", "predicted", "interval", "measured", "95% interval", "verdict", "prediction basis"):
        table.add_column(column, no_wrap=column != "prediction basis")
    for row in c.rows:
        table.add_row(row.quantity, _number(row.predicted), _interval(row.predicted_ci), _number(row.measured),
                      _interval(row.measured_ci), row.verdict, row.basis)
    console = Console()
    console.print(table)
    console.print(f"D-range {c.d_range[0]}..{c.d_range[1]}" +
                  (f", width range {c.width_range[0]}..{c.width_range[1]}" if c.width_range else ""))
    console.print(f"why: {c.prediction.recommendation}")
    console.print(f"predict {c.seconds_predict:.1f} s, measure {c.seconds_measure:.1f} s "
                  f"(ratio {c.seconds_measure / max(c.seconds_predict, 1e-9):.1f})")


@app.command()
def measure(
    arch: str = typer.Option(..., "--arch", help="architecture spec"),
    data: str = typer.Option(..., "--data", help="data spec (needs labels, or target=gp)"),
    n: int = typer.Option(2000, "--n", help="pool size n"),
    kernel: str = typer.Option("ntk", "--kernel", help="ntk or nngp (kernel regression of the data regime)"),
    seed: int = typer.Option(0, "--seed"),
    regimes: str = typer.Option("data,width", "--regimes",
                                help="comma-separated: data, width, data_variance, width_variance"),
    sizes: Optional[str] = typer.Option(None, "--sizes", help="training-set sizes D, comma-separated"),
    widths: Optional[str] = typer.Option(None, "--widths", help="widths of the random-feature networks"),
    repeats: int = typer.Option(5, "--repeats", help="independent repeats per point (>= 2)"),
    ridge: float = typer.Option(0.0, "--ridge", help="ridge added to the D x D Gram matrix"),
    noise: float = typer.Option(0.0, "--noise", help="label-noise variance per output column"),
    device: Optional[str] = typer.Option(None, "--device", help="cpu or gpu"),
    json_path: Optional[Path] = typer.Option(None, "--json", help="write JSON to PATH, or - for stdout"),
    plot: Optional[Path] = typer.Option(None, "--plot", help="write a PNG of the measured curves"),
    no_cache: bool = typer.Option(False, "--no-cache"),
) -> None:
    """Measure the scaling exponents: learning curves against D and random-feature curves against width."""
    from .api import measure as api_measure

    _check_common(kernel, device, json_path, plot)
    regime_list = tuple(r.strip() for r in regimes.split(",") if r.strip())
    size_list, width_list = _int_list(sizes, "--sizes"), _int_list(widths, "--widths")
    result = _run(lambda progress: api_measure(
        arch, data, n_samples=n, kernel=kernel, seed=seed, regimes=regime_list, sizes=size_list, widths=width_list,
        repeats=repeats, ridge=ridge, noise=noise, device=device, use_cache=not no_cache, progress=progress))
    if plot is not None:
        from .plots import plot_curves

        plot_curves(result, plot)
        stderr.print(f"plot written to {plot}")
    _output(result, json_path, _print_measurement)


@app.command()
def compare(
    arch: str = typer.Option(..., "--arch", help="architecture spec"),
    data: str = typer.Option(..., "--data", help="data spec (needs labels, or target=gp)"),
    n: int = typer.Option(2000, "--n", help="sample (pool) size n"),
    kernel: str = typer.Option("ntk", "--kernel", help="ntk or nngp"),
    seed: int = typer.Option(0, "--seed"),
    sizes: Optional[str] = typer.Option(None, "--sizes", help="training-set sizes D, comma-separated"),
    widths: Optional[str] = typer.Option(None, "--widths", help="widths of the random-feature networks"),
    repeats: int = typer.Option(5, "--repeats", help="independent repeats per point (>= 2)"),
    ridge: float = typer.Option(0.0, "--ridge", help="ridge added to the D x D Gram matrix"),
    noise: float = typer.Option(0.0, "--noise", help="label-noise variance per output column"),
    no_width: bool = typer.Option(False, "--no-width", help="skip the width (random-feature) comparison"),
    device: Optional[str] = typer.Option(None, "--device", help="cpu or gpu"),
    json_path: Optional[Path] = typer.Option(None, "--json", help="write JSON to PATH, or - for stdout"),
    plot: Optional[Path] = typer.Option(None, "--plot", help="write a PNG: predicted and measured curves"),
    no_cache: bool = typer.Option(False, "--no-cache"),
) -> None:
    """Predict and measure alpha_D and alpha_W on the same sample, side by side, with a verdict per row."""
    from .compare import compare as api_compare

    _check_common(kernel, device, json_path, plot)
    size_list, width_list = _int_list(sizes, "--sizes"), _int_list(widths, "--widths")
    result = _run(lambda progress: api_compare(
        arch, data, n_samples=n, kernel=kernel, seed=seed, sizes=size_list, widths=width_list, repeats=repeats,
        ridge=ridge, noise=noise, width=not no_width, device=device, use_cache=not no_cache, progress=progress))
    if plot is not None:
        from .plots import plot_comparison

        plot_comparison(result, plot)
        stderr.print(f"plot written to {plot}")
    _output(result, json_path, _print_comparison)
