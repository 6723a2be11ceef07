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
    from .errors import KernelscaleError
    from ._io import write_text_atomically

    if kernel not in ("ntk", "nngp"):
        raise typer.BadParameter(f"{kernel!r} is not a kernel; use ntk or nngp.", param_hint="--kernel")
    if device not in (None, "cpu", "gpu"):
        raise typer.BadParameter(f"{device!r} is not a device; use cpu or gpu.", param_hint="--device")
    _check_writable(json_path, "--json")
    _check_writable(plot, "--plot")
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=stderr, transient=True, disable=not stderr.is_terminal) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        try:
            result = api_predict(arch, data, n_samples=n, kernel=kernel, seed=seed, device=device,
                                 use_cache=not no_cache, progress=progress)
        except KernelscaleError as exc:
            stderr.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(code=2) from None
    if result.from_cache:
        stderr.print("kernel read from the on-disk cache (an identical earlier call computed it)")
    if plot is not None:
        from .plots import plot_spectrum

        plot_spectrum(result, plot)
        stderr.print(f"plot written to {plot}")
    if json_path is None:
        _print_table(result)
    elif str(json_path) == "-":
        sys.stdout.write(result.to_json() + "\n")
    else:
        write_text_atomically(json_path, result.to_json(indent=2) + "\n")
        stderr.print(f"JSON written to {json_path}")
