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
