"""Matplotlib figures (imported only when a plot is asked for; importing kernelscale does not import matplotlib)."""

from __future__ import annotations

import os

import numpy as np

from ._io import write_atomically
from .fit import richardson_tail
from .results import Prediction


def plot_spectrum(prediction: Prediction, path: str | os.PathLike) -> None:
    """PNG: eigenvalues of K/n on log-log axes with the noise floor, the corrected tails with the fit window and
    fitted line, and the target tail. Written atomically (no partial file on error)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = prediction.spectrum
    if spec is None:
        raise ValueError("this Prediction has no spectrum (it was read from JSON); run predict() to plot.")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    index = np.arange(1, spec.n + 1)
    positive = spec.eigenvalues > 0
    left.loglog(index[positive], spec.eigenvalues[positive], ".", ms=2, label="eigenvalues of K/n")
    left.axhline(spec.noise_floor, color="grey", ls=":", label=f"noise floor {spec.noise_floor:.1e}")
    if prediction.target_fit is not None and spec.target_powers is not None:
        left.loglog(index, np.maximum(spec.target_powers, 1e-300), ".", ms=1, alpha=0.4, label="target powers v_i^2")
    left.set(xlabel="index i", ylabel="value", title=f"{prediction.kernel.upper()} spectrum, n={spec.n}")
    left.legend(fontsize=8)

    fit = prediction.kernel_fit
    tail, raw, _ = richardson_tail(spec.eigenvalues, spec.half_eigenvalues)
    m = np.arange(1, len(tail) + 1)
    right.loglog(m[tail > 0], tail[tail > 0], "-", label="eigenvalue tail (finite-n corrected)")
    right.loglog(m[raw > 0], raw[raw > 0], ":", color="C0", alpha=0.6, label="eigenvalue tail (raw)")
    if fit.ok and fit.window is not None:
        first, last = fit.window
        right.axvspan(first, last, color="C1", alpha=0.15, label=f"fit window {first}..{last}")
        line = np.geomspace(first / 4, last * 2, 50)
        # the fitted line passes through the corrected tail at the window's geometric centre
        centre = int(np.sqrt(first * last))
        right.loglog(line, tail[centre - 1] * (line / centre) ** -fit.exponent, "--", color="C1",
                     label=f"alpha_K = {fit.exponent:.3f} [{fit.ci[0]:.3f}, {fit.ci[1]:.3f}]")
    if prediction.target_fit is not None and spec.target_powers is not None:
        ttail, _, _ = richardson_tail(spec.target_powers, spec.half_target_powers)
        right.loglog(m[ttail > 0], ttail[ttail > 0], "-", color="C2", label="target tail (corrected)")
    right.set(xlabel="index i", ylabel="sum over j > i")
    right.set_title(prediction.arch, fontsize=8)
    right.legend(fontsize=8)
    fig.tight_layout()
    try:
        write_atomically(path, lambda f: fig.savefig(f, dpi=110, format="png"))
    finally:
        plt.close(fig)


def _curve_axes(ax, curve, label: str, x=None) -> None:
    losses = np.asarray(curve.losses)
    gaps = losses - (0.0 if curve.limits is None else np.asarray(curve.limits)[None, :])
    x = np.asarray(curve.x if x is None else x, dtype=float)
    ax.errorbar(x, gaps.mean(axis=1), yerr=gaps.std(axis=1, ddof=1) / np.sqrt(gaps.shape[1]), fmt="o", ms=4,
                label=label + (f": {curve.fit.exponent:.3f}" if curve.fit.exponent is not None else ""))
    ax.set_xscale("log")
    ax.set_yscale("log")


def plot_curves(measurement, path: str | os.PathLike) -> None:
    """PNG: one log-log panel per measured regime (mean loss or loss gap, +- standard error over repeats)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = list(measurement.curves.values())
    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.8), squeeze=False)
    for ax, curve in zip(axes[0], curves):
        _curve_axes(ax, curve, "measured exponent")
        ylabel = "test MSE" if curve.limits is None else "test MSE - limit"
        ax.set(xlabel=curve.x_name, ylabel=ylabel, title=curve.regime)
        ax.legend(fontsize=8)
    fig.suptitle(f"{measurement.arch} on {measurement.data}", fontsize=8)
    fig.tight_layout()
    try:
        write_atomically(path, lambda f: fig.savefig(f, dpi=110, format="png"))
    finally:
        plt.close(fig)


def plot_comparison(comparison, path: str | os.PathLike) -> None:
    """PNG: measured learning curve against D with the theory's E_g(D); the width curve against E_g(D = P)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = comparison.measurement.curves
    panels = 2 if "width" in curves else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4), squeeze=False)
    ax = axes[0][0]
    _curve_axes(ax, curves["data"], "kernel regression, measured")
    ax.plot(comparison.theory_sizes, comparison.theory_errors, "-",
            label=f"theory E_g(D): {comparison.alpha_D_predicted:.3f}")
    ax.set(xlabel="training-set size D", ylabel="held-out test MSE", title="alpha_D")
    ax.legend(fontsize=8)
    if panels == 2:
        ax = axes[0][1]
        _curve_axes(ax, curves["width"], "random features, measured", x=curves["width"].features)
        ax.plot(comparison.width_theory_features, comparison.width_theory_errors, "-",
                label=f"theory E_g(D = P), NNGP: {comparison.alpha_W_predicted:.3f}")
        ax.set(xlabel="features P (width + 1)", ylabel="pool MSE", title="alpha_W")
        ax.legend(fontsize=8)
    fig.suptitle(f"{comparison.arch} on {comparison.data} (n={comparison.n}, {comparison.kernel.upper()})", fontsize=8)
    fig.tight_layout()
    try:
        write_atomically(path, lambda f: fig.savefig(f, dpi=110, format="png"))
    finally:
        plt.close(fig)
