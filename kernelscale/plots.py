"""Matplotlib figures (imported only when a plot is asked for; importing kernelscale does not import matplotlib)."""

from __future__ import annotations

import os

import numpy as np

from ._io import write_atomically
from .fit import richardson_tail
from .results import Prediction


def _pyplot():
    """matplotlib.pyplot on the file-only Agg backend (imported here so that importing kernelscale does not)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | os.PathLike) -> None:
    """Lay out, write the PNG atomically (no partial file on error) and close the figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        write_atomically(path, lambda f: fig.savefig(f, dpi=110, format="png"))
    finally:
        plt.close(fig)


def _totals(spec, what: str) -> tuple:
    totals = spec.totals(what)
    return (totals["total"], totals["half_totals"]) if totals else (None, None)


def plot_spectrum(prediction: Prediction, path: str | os.PathLike) -> None:
    """PNG: eigenvalues of K/n on log-log axes with the noise floor, the corrected tails with the fit window and
    fitted line, and the target tail. Written atomically (no partial file on error)."""
    plt = _pyplot()
    spec = prediction.spectrum
    if spec is None:
        raise ValueError("this Prediction has no spectrum (it was read from JSON); run predict() to plot.")
    curves = [c for c in (prediction.learning_curve, prediction.width_curve) if c is not None]
    fig, axes = plt.subplots(1, 2 + bool(curves), figsize=(5.5 * (2 + bool(curves)), 4.2))
    left, right = axes[0], axes[1]
    index = np.arange(1, len(spec.eigenvalues) + 1)
    positive = spec.eigenvalues > 0
    left.loglog(index[positive], spec.eigenvalues[positive], ".", ms=2, label="eigenvalues of K/n")
    left.axhline(spec.noise_floor, color="grey", ls=":", label=f"noise floor {spec.noise_floor:.1e}")
    if prediction.target_fit is not None and spec.target_powers is not None:
        left.loglog(index, np.maximum(spec.target_powers, 1e-300), ".", ms=1, alpha=0.4, label="target powers v_i^2")
    left.set(xlabel="index i", ylabel="value", title=f"{prediction.kernel.upper()} spectrum, n={spec.n}")
    left.legend(fontsize=8)

    fit = prediction.kernel_fit
    tail, raw, _ = richardson_tail(spec.eigenvalues, spec.half_eigenvalues, *_totals(spec, "eigenvalues"))
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
        ttail, _, _ = richardson_tail(spec.target_powers, spec.half_target_powers, *_totals(spec, "target"))
        right.loglog(m[ttail > 0], ttail[ttail > 0], "-", color="C2", label="target tail (corrected)")
    right.set(xlabel="index i", ylabel="sum over j > i")
    right.set_title(prediction.arch, fontsize=8)
    right.legend(fontsize=8)
    if curves:
        _predicted_curves_axes(axes[2], curves, prediction.n)
    _save(fig, path)


def _predicted_curves_axes(ax, curves, n: int) -> None:
    """The predicted L(D) and L(P) with their bands; dashed past the reliable range; the sample size marked."""
    for color, curve in zip(("C0", "C2"), curves):
        sizes = np.asarray(curve.sizes, dtype=float)
        low, high = np.asarray(curve.loss_ci).T
        label = ("L(D): kernel regression, D points" if curve.x_name == "D" else
                 "L(P): P random features, infinite data")
        inside = sizes <= curve.reliable_up_to
        past = ~inside
        past[max(0, int(inside.sum()) - 1)] = True  # the dashed continuation starts at the last reliable size
        loss = np.asarray(curve.loss)
        ax.fill_between(sizes, low, high, color=color, alpha=0.2)
        ax.loglog(sizes[inside], loss[inside], "-", color=color, label=label)
        ax.loglog(sizes[past], loss[past], "--", color=color,
                  label=f"continued, exponent {curve.continuation_exponent:.3f}")
    ax.axvline(n, color="grey", ls=":", label=f"sample size n = {n}")
    ax.set(xlabel="training-set size D, or features P", ylabel="predicted test MSE",
           title="predicted loss (bands: 95%)")
    ax.legend(fontsize=7)


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
    plt = _pyplot()
    curves = list(measurement.curves.values())
    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.8), squeeze=False)
    for ax, curve in zip(axes[0], curves):
        _curve_axes(ax, curve, "measured exponent")
        ylabel = "test MSE" if curve.limits is None else "test MSE - limit"
        ax.set(xlabel=curve.x_name, ylabel=ylabel, title=curve.regime)
        ax.legend(fontsize=8)
    fig.suptitle(f"{measurement.arch} on {measurement.data}", fontsize=8)
    _save(fig, path)


def plot_comparison(comparison, path: str | os.PathLike) -> None:
    """PNG: measured learning curve against D with the theory's E_g(D); the readout and linear random-feature curves
    against the width theory E_W(P) (and the finite-width check when it ran); with
    trained networks, their curve against D beside the kernel's, and a panel of their loss against width."""
    plt = _pyplot()
    curves = comparison.measurement.curves
    panels = 1 + ("width" in curves) + ("trained_width" in curves)
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4), squeeze=False)
    ax = axes[0][0]
    _curve_axes(ax, curves["data"], "kernel regression, measured")
    if "trained_data" in curves:
        _curve_axes(ax, curves["trained_data"], f"trained networks (width {curves['trained_data'].settings['width']})")
    ax.plot(comparison.theory_sizes, comparison.theory_errors, "-",
            label=f"theory E_g(D): {comparison.alpha_D_predicted:.3f}")
    ax.set(xlabel="training-set size D", ylabel="held-out test MSE", title="alpha_D")
    ax.legend(fontsize=8)
    if "width" in curves:
        ax = axes[0][1]
        _curve_axes(ax, curves["width"], "readout features, measured (vs width)", x=curves["width"].features)
        if "linear_rf" in curves:
            _curve_axes(ax, curves["linear_rf"], "linear random features, measured")
        if comparison.finite_width is not None:
            ax.plot(comparison.finite_width.features, np.mean(comparison.finite_width.losses, axis=1), "x",
                    label=f"finite-width check: {comparison.finite_width.fit.exponent:.3f}")
        ax.plot(comparison.width_theory_features, comparison.width_theory_errors, "-",
                label=f"theory E_W(P) on the NNGP: {comparison.alpha_W_predicted:.3f}")
        ax.set(xlabel="features P", ylabel="pool MSE", title="alpha_W")
        ax.legend(fontsize=8)
    if "trained_width" in curves:
        ax = axes[0][-1]
        curve = curves["trained_width"]
        _curve_axes(ax, curve, f"trained networks ({curve.fit.status})")
        ax.set(xlabel="width", ylabel="held-out test MSE", title=f"trained networks, D = {curve.settings['D']}")
        ax.legend(fontsize=8)
    fig.suptitle(f"{comparison.arch} on {comparison.data} (n={comparison.n}, {comparison.kernel.upper()})", fontsize=8)
    _save(fig, path)


def plot_pool_comparison(comparison, path: str | os.PathLike) -> None:
    """PNG: the learning curve predicted from the sample, with its band, against kernel regression measured on the
    pool at sizes past the sample (mean +- standard error over repeats), the sample size marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    curve = comparison.prediction.learning_curve
    _predicted_curves_axes(ax, [curve], comparison.n)
    measured = comparison.measured
    losses = np.asarray(measured.losses)
    ax.errorbar(measured.x, losses.mean(axis=1), yerr=losses.std(axis=1, ddof=1) / np.sqrt(losses.shape[1]), fmt="o",
                color="k", ms=4, label=f"measured on the pool (M = {comparison.pool})")
    ax.set(xlabel="training-set size D", title="predicted from the sample against measured past it")
    ax.legend(fontsize=7)
    fig.suptitle(f"{comparison.arch} on {comparison.data}", fontsize=7)
    _save(fig, path)


def plot_allocation(allocation, path: str | os.PathLike, *, decades: float = 4.0) -> None:
    """PNG: the compute-optimal loss frontier L(N_opt(C), D_opt(C)) and N_opt, D_opt against C over ``decades``
    either side of the budget, the optimum marked; with a fitted model, the measured grid beside its fit."""
    from .allocation import compute_optimal

    plt = _pyplot()
    model, cost = allocation.model, allocation.cost
    computes = allocation.compute * np.logspace(-decades, decades, 81)
    optima = [compute_optimal(model, c, cost) for c in computes]
    panels = 3 if allocation.fit is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 3.8))
    ax = axes[0]
    ax.loglog(computes, [o.loss_opt - model.E for o in optima], "-", label="compute-optimal frontier")
    ax.loglog([allocation.compute], [allocation.loss_opt - model.E], "o", color="C3",
              label=f"C = {allocation.compute:.3g}: L - E = {allocation.loss_opt - model.E:.3g}")
    ax.set(xlabel=f"compute C ({cost.describe()})", ylabel="L(N_opt, D_opt) - E", title="loss frontier")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.loglog(computes, [o.n_opt for o in optima], "-", label=f"N_opt ~ C^{allocation.a:.3f}")
    ax.loglog(computes, [o.d_opt for o in optima], "-", label=f"D_opt ~ C^{allocation.b:.3f}")
    ax.loglog([allocation.compute] * 2, [allocation.n_opt, allocation.d_opt], "o", color="C3")
    ax.set(xlabel="compute C", ylabel="optimal size", title="allocation")
    ax.legend(fontsize=8)
    if allocation.fit is not None:
        fit, ax = allocation.fit, axes[2]
        losses = np.asarray(fit.losses).mean(axis=2)
        d_line = np.geomspace(min(fit.d_values), max(fit.d_values), 50)
        for i, n_value in enumerate(fit.n_values):
            ax.loglog(fit.d_values, losses[i], "o", ms=4, color=f"C{i % 10}", label=f"N = {n_value:g}")
            ax.loglog(d_line, model.loss(n_value, d_line), "-", color=f"C{i % 10}", lw=1)
        ax.set(xlabel="data size D", ylabel="test loss",
               title=f"fit (lines), rms log residual {fit.rms_log_residual:.3f}")
        ax.legend(fontsize=7)
    _save(fig, path)



def plot_sweep(sweep, path: str | os.PathLike) -> None:
    """PNG: alpha_K, the recommended alpha_D and the manifold estimate 4/d (and measured alpha_D when compared)
    against the varied option, with intervals; categorical x when the values are not numbers."""
    plt = _pyplot()
    labels = [point.value for point in sweep.points]
    try:
        x = np.array([float(v) for v in labels])
    except ValueError:
        x = np.arange(len(labels), dtype=float)
    fig, ax = plt.subplots(figsize=(6, 4))

    def series(values, intervals, label, marker, shift):
        keep = [i for i, v in enumerate(values) if v is not None]
        if not keep:
            return
        centre = np.array([values[i] for i in keep])
        low = np.array([centre[j] - (intervals[i][0] if intervals[i] else centre[j]) for j, i in enumerate(keep)])
        high = np.array([(intervals[i][1] if intervals[i] else centre[j]) - centre[j] for j, i in enumerate(keep)])
        step = (x.max() - x.min()) / 80 if len(x) > 1 else 0.0
        ax.errorbar(x[keep] + shift * step, centre, yerr=[low, high], fmt=marker, ms=5, capsize=3, label=label)

    predictions = [point.prediction for point in sweep.points]
    at = {p.alpha_D_at for p in predictions}
    series([p.alpha_D for p in predictions], [p.alpha_D_ci for p in predictions],
           "alpha_D predicted (recommended" + (f", L(D) at D = {at.pop()})" if len(at) == 1 and None not in at else ")"),
           "o", -1)
    series([p.alpha_K for p in predictions], [p.alpha_K_ci for p in predictions], "alpha_K (kernel-only)", "s", 0)
    dims = [p.intrinsic_dimension for p in predictions]
    series([d.alpha_manifold_twonn if d else None for d in dims], [None] * len(dims), "4/d (TwoNN), manifold", "^", 1)
    comparisons = [point.comparison for point in sweep.points]
    if any(c is not None for c in comparisons):
        series([c.alpha_D_measured if c else None for c in comparisons],
               [c.alpha_D_measured_ci if c else None for c in comparisons], "alpha_D measured", "D", 2)
        series([c.alpha_D_predicted if c else None for c in comparisons],
               [c.alpha_D_predicted_ci if c else None for c in comparisons], "alpha_D theory, measured D-range", "v",
               3)
    ax.set_xticks(x, labels)
    ax.set(xlabel=f"{sweep.parameter} ({sweep.applies_to})", ylabel="exponent",
           title=f"{predictions[0].arch[:40]} on {predictions[0].data[:30]}")
    ax.title.set_fontsize(8)
    ax.legend(fontsize=8)
    _save(fig, path)
