"""Matplotlib figures of every result: each ``plot_*(result, path=None)`` returns the ``Figure`` (a result's ``.plot()``
calls it) and, given a path, writes it in the format the file's extension names (png, pdf, svg). Figures are made
without pyplot, so no backend is switched; imported only when a plot is asked for (importing kernelscale does not
import matplotlib)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from ._io import figure_format, write_atomically
from .errors import DataError
from .estimates import Estimate
from .fit import block_averaged_target, center_over_repeats, richardson_tail
from .random import generator
from .report import short_title
from .results import Prediction

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _subplots(*args, **kwargs):
    """A new ``Figure`` and its axes, made without pyplot (no backend is switched, no figure is kept open: in a
    notebook the returned figure displays itself, and scripts write it with ``path``)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=kwargs.pop("figsize"))
    return fig, fig.subplots(*args, **kwargs)


def _save(fig, path: str | os.PathLike | None):
    """Lay out the figure and, when ``path`` is given, write it atomically in the format its extension names (png,
    pdf, svg; no partial file on error). Returns the figure."""
    fig.tight_layout()
    if path is not None:
        image_format = figure_format(path)
        write_atomically(path, lambda f: fig.savefig(f, dpi=110, format=image_format))
    return fig


def _totals(spec, what: str) -> tuple:
    totals = spec.totals(what)
    return (totals["total"], totals["half_totals"]) if totals else (None, None)


def _plain(value: float, _position=None) -> str:
    """A tick label in plain numbers, 0.03 or 200, and 10^k beyond 1e-3..1e5 (never 2x10^2 beside 3x10^2)."""
    if value > 0 and not 1e-3 <= value < 1e5:
        exponent = np.log10(value)
        if abs(exponent - round(exponent)) < 1e-9:
            return f"$10^{{{round(exponent)}}}$"
    return f"{value:g}"


def readable_log_ticks(ax) -> None:
    """On each log axis of ``ax``: labels in plain numbers at the decades; below two decades of span also at 2 and 5
    times them, so a short axis still has three or more labels; at most about 7 labels, so none overlap."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        if axis.get_scale() != "log":
            continue
        low, high = sorted(limits)
        span = np.log10(high / low) if low > 0 else np.inf
        axis.set_major_locator(LogLocator(base=10, subs=(1.0,) if span >= 2 else (1.0, 2.0, 5.0), numticks=7))
        axis.set_major_formatter(FuncFormatter(_plain))
        axis.set_minor_formatter(NullFormatter())


def _center_error(gaps: np.ndarray, statistic: str) -> np.ndarray:
    """Standard error of the mean over repeats, or a bootstrap standard deviation of the median."""
    repeats = gaps.shape[1]
    if repeats < 2:
        return np.zeros(len(gaps))
    if statistic != "median":
        return gaps.std(axis=1, ddof=1) / np.sqrt(repeats)
    rng = generator(0, "median_error_bars")
    draws = np.stack([np.median(gaps[:, rng.integers(0, repeats, repeats)], axis=1) for _ in range(200)])
    return draws.std(axis=0)


def plot_spectrum(prediction: Prediction, path: str | os.PathLike | None = None) -> Figure:
    """Plot: the eigenvalues of K/n and the target powers above the noise floor; their tail sums with each fit window
    and fitted line; and, when predicted, the learning curves L(D) and L(P). Written atomically."""
    spec = prediction.spectrum
    if spec is None:
        raise DataError("this Prediction has no spectrum (it was read from JSON); run predict() to plot.")
    curves = [c for c in (prediction.learning_curve, prediction.width_curve) if c is not None]
    fig, axes = _subplots(1, 2 + bool(curves), figsize=(5.2 * (2 + bool(curves)), 4.2))
    left, right = axes[0], axes[1]
    index = np.arange(1, len(spec.eigenvalues) + 1)
    above = spec.eigenvalues > spec.noise_floor
    left.loglog(index[above], spec.eigenvalues[above], ".", ms=2,
                label=r"eigenvalues $\lambda_i$ of K/n (above the noise floor)")
    shown = [spec.eigenvalues[above]]
    has_target = prediction.target_fit is not None and spec.target_powers is not None
    if has_target:
        powers = spec.target_powers[above]
        keep = powers > 0
        left.loglog(index[above][keep], powers[keep], ".", ms=1, color="C2", alpha=0.4,
                    label=r"target powers $v_i^2$ (squared projections)")
        shown.append(powers[keep])
    low, high, floor_shown = spectrum_y_range(shown, spec.noise_floor)
    if floor_shown:
        left.axhline(spec.noise_floor, color="grey", ls=":", label=f"noise floor {spec.noise_floor:.1e}")
    left.set_ylim(low, high)
    left.set(xlabel="eigen-index i (by decreasing eigenvalue)", ylabel=r"eigenvalue $\lambda_i$, target power $v_i^2$",
             title=f"{prediction.kernel.upper()} spectrum, n = {spec.n}")
    left.legend(fontsize=7)

    tail, raw, _ = richardson_tail(spec.eigenvalues, spec.half_eigenvalues, *_totals(spec, "eigenvalues"))
    m = np.arange(1, len(tail) + 1)
    right.loglog(m[tail > 0], tail[tail > 0], "-", color="C0", label=r"$\sum_{j>i} \lambda_j$ (finite-n corrected)")
    right.loglog(m[raw > 0], raw[raw > 0], ":", color="C0", alpha=0.6, label=r"$\sum_{j>i} \lambda_j$ (raw)")
    _fitted_tail(right, prediction.kernel_fit, tail, "C1", "alpha_K")
    if has_target:
        ttail, _, _ = richardson_tail(*block_averaged_target(spec), *_totals(spec, "target"))
        right.loglog(m[ttail > 0], ttail[ttail > 0], "-", color="C2", label=r"$\sum_{j>i} v_j^2$ (finite-n corrected)")
        _fitted_tail(right, prediction.target_fit, ttail, "C3", "a - 1")
    right.set(xlabel="eigen-index i", ylabel="tail sum beyond i", title="tails and their power-law fits")
    right.legend(fontsize=7)
    if curves:
        _predicted_curves_axes(axes[2], curves, prediction.n, prediction.trivial_loss, prediction.width_kernel)
    for ax in axes:
        readable_log_ticks(ax)
    fig.suptitle(f"kernelscale predict: {short_title(prediction.arch, prediction.data)}", fontsize=9)
    return _save(fig, path)


def spectrum_y_range(shown, noise_floor: float, *, decades: float = 2.0) -> tuple[float, float, bool]:
    """The y range of the spectrum panel, set by the values ``shown`` (arrays, positive), and whether the noise floor
    is drawn: only when it lies within ``decades`` below the smallest value (a far floor would add empty decades)."""
    values = [np.asarray(v, dtype=float) for v in shown if len(v)]
    low, high = min(float(v.min()) for v in values), max(float(v.max()) for v in values)
    floor_shown = bool(noise_floor > 0 and noise_floor >= low / 10**decades)
    if floor_shown:
        low = min(low, noise_floor)
    return low / 2, high * 2, floor_shown


def _fitted_tail(ax, fit, tail: np.ndarray, color: str, name: str) -> None:
    """The fit window shaded and the fitted power law T(i) = C i^-exponent over it (and a little beyond)."""
    if fit is None or not fit.ok or fit.window is None:
        return
    first, last = fit.window
    ax.axvspan(first, last, color=color, alpha=0.12)
    line = np.geomspace(max(first / 2, 1), min(last * 2, len(tail)), 50)
    if fit.prefactor is not None:
        values = fit.prefactor * line ** -fit.exponent.value
    else:  # through the tail at the window's geometric centre
        centre = int(np.sqrt(first * last))
        values = tail[centre - 1] * (line / centre) ** -fit.exponent.value
    interval = f" [{fit.exponent.ci[0]:.3f}, {fit.exponent.ci[1]:.3f}]" if fit.exponent.ci else ""
    ax.loglog(line, values, "--", color=color, lw=1.5,
              label=f"{name} = {fit.exponent.value:.3f}{interval}, window i = {first}..{last}")


LOSS = "squared error summed over outputs"  # what every loss axis shows (report.loss_definition says it in full)


def _trivial_line(ax, trivial_loss: float | None) -> None:
    """The loss of predicting 0, to read the others against (when the target is known)."""
    if trivial_loss is not None:
        ax.axhline(trivial_loss, color="k", ls=":", lw=0.8, label=f"predicting 0: {trivial_loss:.4g}")


def _predicted_curves_axes(ax, curves, n: int, trivial_loss: float | None = None, width_kernel: str | None = None
                           ) -> None:
    """The predicted L(D) and L(P) with their bands; dashed past the reliable range; the sample size and the trivial
    predictor's loss marked."""
    kernel_word = f" of the {width_kernel.upper()}" if width_kernel else ""
    for color, curve in zip(("C0", "C2"), curves):
        sizes = np.asarray(curve.sizes, dtype=float)
        low, high = np.asarray([e.ci for e in curve.loss]).T
        label = ("L(D): kernel regression, D points" if curve.x_name == "D" else
                 f"L(P): P random features{kernel_word}, infinite data")
        inside = sizes <= curve.reliable_up_to
        past = ~inside
        past[max(0, int(inside.sum()) - 1)] = True  # the dashed continuation starts at the last reliable size
        loss = np.asarray([e.value for e in curve.loss])
        ax.fill_between(sizes, low, high, color=color, alpha=0.2)
        ax.loglog(sizes[inside], loss[inside], "-", color=color, label=label)
        ax.loglog(sizes[past], loss[past], "--", color=color, label=_continuation_label(curve))
    ax.axvline(n, color="grey", ls=":", label=f"sample size n = {n}")
    _trivial_line(ax, trivial_loss)
    ax.set(xlabel="training-set size D, or random features P", ylabel=f"predicted test loss L(D), L(P)\n({LOSS})",
           title="predicted loss (bands: 95%)")
    ax.legend(fontsize=7)


def _continuation_label(curve) -> str:
    start = f"continued from exponent {curve.continuation_exponent.value:.3f}"
    return start if curve.asymptote is None else f"{start} toward {curve.asymptote.value:.3f}"


def _curve_axes(ax, curve, label: str, x=None, color=None) -> None:
    """The curve's fitted statistic (mean or median of loss - limit over repeats, +- its standard error) and the
    fitted power law through it, labelled with its exponent."""
    losses = np.asarray(curve.losses)
    gaps = losses - (0.0 if curve.limits is None else np.asarray(curve.limits)[None, :])
    x = np.asarray(curve.x if x is None else x, dtype=float)
    statistic = curve.fit.statistic
    values = center_over_repeats(gaps, statistic)
    points = ax.errorbar(x, values, yerr=_center_error(gaps, statistic), fmt="o", ms=4, color=color,
                         label=label + (" (median of repeats)" if statistic == "median" else ""))
    exponent = None if curve.fit.exponent is None else curve.fit.exponent.value
    positive = values > 0
    if exponent is not None and positive.sum() >= 2:
        # the least-squares line in log-log passes through the means of log x and log value
        log_x, log_v = np.log(x[positive]), np.log(values[positive])
        line = np.geomspace(x.min(), x.max(), 20)
        fitted = np.exp(log_v.mean() - exponent * (np.log(line) - log_x.mean()))
        ci = curve.fit.exponent.ci
        interval = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
        ax.plot(line, fitted, ":", color=points[0].get_color(), lw=1.2,
                label=f"fit: exponent {exponent:.3f}{interval}")
    ax.set_xscale("log")
    ax.set_yscale("log")


_AXIS_WORDS = {"D": "training-set size D", "width": "network width", "P": "random features P"}
_REGIME_TITLES = {
    "data": "resolution-limited in data", "width": "resolution-limited in width (readout features)",
    "linear_rf": "linear random features", "data_variance": "variance-limited in data (fixed width)",
    "width_variance": "variance-limited in width (fixed D)", "trained_width": "trained networks against width",
    "trained_data": "trained networks against D"}


def plot_curves(measurement, path: str | os.PathLike | None = None) -> Figure:
    """Plot: one log-log panel per measured regime: the loss (or loss gap to its limit) with its standard error over
    repeats and the fitted power law with its exponent."""
    curves = list(measurement.curves.values())
    fig, axes = _subplots(1, len(curves), figsize=(4.4 * len(curves), 3.9), squeeze=False)
    for ax, curve in zip(axes[0], curves):
        _curve_axes(ax, curve, "measured")
        ylabel = f"test loss ({LOSS})" if curve.limits is None else f"test loss minus its limit\n({LOSS})"
        expected = "" if curve.expected is None else f" (theory: {curve.expected:g})"
        ax.set(xlabel=_AXIS_WORDS.get(curve.x_name, curve.x_name), ylabel=ylabel)
        ax.set_title(_REGIME_TITLES.get(curve.regime, curve.regime) + expected, fontsize=9)
        ax.legend(fontsize=7)
        readable_log_ticks(ax)
    fig.suptitle(f"kernelscale measure: {short_title(measurement.arch, measurement.data)}, n = {measurement.n}",
                 fontsize=9)
    return _save(fig, path)


def plot_comparison(comparison, path: str | os.PathLike | None = None) -> Figure:
    """Plot: measured learning curve against D with the theory's E_g(D); the readout and linear random-feature curves
    against the width theory E_W(P) (and the finite-width check when it ran); with
    trained networks, their curve against D beside the kernel's, and a panel of their loss against width."""
    curves = comparison.measurement.curves
    panels = 1 + ("width" in curves) + ("trained_width" in curves)
    fig, axes = _subplots(1, panels, figsize=(5.2 * panels, 4), squeeze=False)
    ax = axes[0][0]
    _curve_axes(ax, curves["data"], "kernel regression, measured")
    if "trained_data" in curves:
        _curve_axes(ax, curves["trained_data"], f"trained networks (width {curves['trained_data'].settings['width']})")
    ax.plot(comparison.theory_sizes, comparison.theory_errors, "-",
            label=f"theory E_g(D): {comparison.alpha_D_predicted.value:.3f}")
    _trivial_line(ax, comparison.prediction.trivial_loss)
    ax.set(xlabel="training-set size D", ylabel=f"held-out test loss L(D)\n({LOSS})",
           title="alpha_D: loss against data")
    ax.legend(fontsize=7)
    readable_log_ticks(ax)
    if "width" in curves:
        ax = axes[0][1]
        _curve_axes(ax, curves["width"], "readout features of finite networks, measured", x=curves["width"].features)
        if "linear_rf" in curves:
            _curve_axes(ax, curves["linear_rf"], "linear random features, measured")
        if comparison.finite_width is not None:
            ax.plot(comparison.finite_width.features, np.mean(comparison.finite_width.losses, axis=1), "x",
                    label=f"finite-width check: {comparison.finite_width.fit.exponent.value:.3f}")
        ax.plot(comparison.width_theory_features, comparison.width_theory_errors, "-",
                label=f"theory E_W(P) on the NNGP: {comparison.alpha_W_rf_predicted.value:.3f} against P "
                      f"({comparison.alpha_W_predicted.value:.3f} against width)")
        _trivial_line(ax, comparison.prediction.trivial_loss)
        ax.set(xlabel="random features P", ylabel=f"pool loss L(P), infinite data\n({LOSS})",
               title="alpha_W: loss against features (width)")
        ax.legend(fontsize=7)
        readable_log_ticks(ax)
    if "trained_width" in curves:
        ax = axes[0][-1]
        curve = curves["trained_width"]
        _curve_axes(ax, curve, f"trained networks ({curve.fit.status})")
        ax.set(xlabel="network width", ylabel=f"held-out test loss ({LOSS})",
               title=f"trained networks, D = {curve.settings['D']}")
        ax.legend(fontsize=7)
        readable_log_ticks(ax)
    fig.suptitle(f"kernelscale compare: {short_title(comparison.arch, comparison.data)} (n = {comparison.n}, "
                 f"{comparison.kernel.upper()})", fontsize=9)
    return _save(fig, path)


def plot_pool_comparison(comparison, path: str | os.PathLike | None = None) -> Figure:
    """Plot: the learning curve predicted from the sample, with its band, against kernel regression measured on the
    pool at sizes past the sample (mean +- standard error over repeats), the sample size marked."""
    fig, ax = _subplots(figsize=(6.4, 4.4))
    curve = comparison.prediction.learning_curve
    _predicted_curves_axes(ax, [curve], comparison.n, comparison.prediction.trivial_loss)
    measured = comparison.measured
    losses = np.asarray(measured.losses)
    ax.errorbar(measured.x, losses.mean(axis=1), yerr=losses.std(axis=1, ddof=1) / np.sqrt(losses.shape[1]), fmt="o",
                color="k", ms=4, label=f"measured on the pool (M = {comparison.pool})")
    ax.set(xlabel="training-set size D", ylabel=f"test loss L(D) ({LOSS})",
           title="predicted from the sample against measured past it")
    ax.legend(fontsize=7)
    readable_log_ticks(ax)
    fig.suptitle(f"kernelscale compare --pool: {short_title(comparison.arch, comparison.data)}", fontsize=9)
    return _save(fig, path)


def plot_allocation(allocation, path: str | os.PathLike | None = None, *, decades: float = 4.0) -> Figure:
    """Plot: the compute-optimal loss frontier L(N_opt(C), D_opt(C)) and N_opt, D_opt against C over ``decades``
    either side of the budget, the optimum marked; with a fitted model, the measured grid beside its fit."""
    from .allocation import compute_optimal

    model, cost = allocation.model, allocation.cost
    computes = allocation.compute * np.logspace(-decades, decades, 81)
    optima = [compute_optimal(model, c, cost) for c in computes]
    panels = 3 if allocation.fit is not None else 2
    fig, axes = _subplots(1, panels, figsize=(4.6 * panels, 3.8))
    ax = axes[0]
    ax.loglog(computes, [o.loss_opt - model.E for o in optima], "-", label="compute-optimal frontier")
    ax.loglog([allocation.compute], [allocation.loss_opt - model.E], "o", color="C3",
              label=f"C = {allocation.compute:.3g}: L - E = {allocation.loss_opt - model.E:.3g}")
    ax.set(xlabel=f"compute C ({cost.describe()})", ylabel="loss above its floor, L(N_opt, D_opt) - E",
           title="compute-optimal loss")
    ax.legend(fontsize=7)
    readable_log_ticks(ax)
    ax = axes[1]
    ax.loglog(computes, [o.n_opt for o in optima], "-", label=f"N_opt ~ C^{allocation.a:.3f}")
    ax.loglog(computes, [o.d_opt for o in optima], "-", label=f"D_opt ~ C^{allocation.b:.3f}")
    ax.loglog([allocation.compute] * 2, [allocation.n_opt, allocation.d_opt], "o", color="C3")
    ax.set(xlabel="compute C", ylabel="optimal model size N, data size D", title="allocation")
    ax.legend(fontsize=7)
    readable_log_ticks(ax)
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
        readable_log_ticks(ax)
    return _save(fig, path)



def plot_spectral_allocation(allocation, path: str | os.PathLike | None = None) -> Figure:
    """Plot: the loss against compute C = N s for several N (iso-N curves) with the predicted frontier through their
    minima (and, with --check, the measured curves and frontier); N* and s* against C; the phase diagram in (a, b)
    with this prediction's point and intervals."""
    from .compute_optimal import CLOSED_FORMS

    a = allocation
    fig, axes = _subplots(1, 3, figsize=(15.0, 4.4))
    ax = axes[0]
    samples = np.asarray(a.iso_samples)
    for i, (count, losses) in enumerate(zip(a.iso_features, np.asarray(a.iso_loss, dtype=np.float64))):
        ax.loglog(count * samples, losses, "-", lw=1, color=f"C{i % 10}", alpha=0.8, label=f"N = {count}")
    ax.loglog(a.frontier.compute, a.frontier.loss, "k-", lw=2,
              label=f"predicted frontier, L* ~ C^-{a.loss_exponent.value:.3f}")
    ax.loglog([a.compute], [a.loss_opt.value], "o", color="C3", label=f"C = {a.compute:.3g}: N* = {a.n_opt.value:.0f}")
    if a.check is not None:
        _measured_frontier(ax, a.check)
    ax.set(xlabel="compute C = N x samples", ylabel="test loss", title=f"phase {a.phase}: loss against compute",
           ylim=(min(a.frontier.loss) / 3, a.trivial_loss * 1.5))
    ax.legend(fontsize=6, ncol=2)
    readable_log_ticks(ax)
    ax = axes[1]
    ax.loglog(a.frontier.compute, a.frontier.features, "-", label=f"N*, local exponent {a.n_exponent.value:.3f}")
    ax.loglog(a.frontier.compute, a.frontier.samples, "-", label="s* = C / N*")
    ax.loglog([a.compute] * 2, [a.n_opt.value, a.samples_opt.value], "o", color="C3")
    if a.check is not None:
        ax.loglog(a.check.frontier.compute, a.check.frontier.features, "s", ms=4, color="C0",
                  label=f"N* measured, {_exponent_words(a.check.n_exponent_measured)}")
    ax.set(xlabel="compute C", ylabel="N*, s*", title="compute-optimal split")
    ax.legend(fontsize=7)
    readable_log_ticks(ax)
    _phase_diagram(axes[2], a, CLOSED_FORMS[a.regime][1])
    return _save(fig, path)


def _exponent_words(estimate) -> str:
    return "-" if estimate is None else f"{estimate.value:.3f} {_interval_words(estimate)}"


def _interval_words(estimate) -> str:
    return "" if estimate.ci is None else f"[{estimate.ci[0]:.3f}, {estimate.ci[1]:.3f}]"


def _measured_frontier(ax, check) -> None:
    """The measured iso-N curves (mean over repeats) as points, and the measured frontier through their minima."""
    losses = check.mean_losses()
    samples = np.asarray(check.samples)
    for i, (count, row) in enumerate(zip(check.features, losses)):
        ax.loglog(count * samples, row, ".", ms=3, color=f"C{(i + 5) % 10}", alpha=0.7)
    ax.loglog(check.frontier_predicted.compute, check.frontier_predicted.loss, ":", color="k", lw=1.5,
              label=f"predicted over the checked budgets, eta {check.loss_exponent_predicted.value:.3f}")
    ax.loglog(check.frontier.compute, check.frontier.loss, "s--", ms=4, color="k", lw=1,
              label=f"measured (points: widths {check.widths[0]}..{check.widths[-1]}), "
                    f"eta {_exponent_words(check.loss_exponent_measured)}")


# the regions of each regime's phase diagram in (b, a): name, lower and upper boundary of a as functions of b
PHASE_REGIONS = {
    "one-pass-sgd": (("Ia: a < b + 1", lambda b: 1.0 + 0 * b, lambda b: b + 1),
                     ("II: b + 1 < a < 2b", lambda b: b + 1, lambda b: np.maximum(2 * b, b + 1)),
                     ("III: a > 2b", lambda b: np.maximum(2 * b, b + 1), None)),
    "fixed-data": (("hard: a < b + 1", lambda b: 1.0 + 0 * b, lambda b: b + 1),
                   ("intermediate: b + 1 < a < 2b + 1", lambda b: b + 1, lambda b: 2 * b + 1),
                   ("easy: a > 2b + 1", lambda b: 2 * b + 1, None)),
}


def _phase_diagram(ax, a, closed_form) -> None:
    """The phases of the allocation's regime in (b, a) (:data:`PHASE_REGIONS`), its point marked with intervals."""
    b_line = np.linspace(1.0, max(4.0, a.kernel_decay.high + 0.5), 100)
    top = max(8.0, a.target_decay.high + 1.0)
    for i, (name, low, high) in enumerate(PHASE_REGIONS[a.regime]):
        upper = np.full_like(b_line, top) if high is None else np.minimum(high(b_line), top)
        ax.fill_between(b_line, np.minimum(low(b_line), top), upper, color=f"C{i}", alpha=0.15, label=name)
    b, t = a.kernel_decay, a.target_decay
    xi, eta = closed_form(t.value, b.value)
    ax.errorbar([b.value], [t.value], xerr=[[b.value - b.low], [b.high - b.value]],
                yerr=[[t.value - t.low], [t.high - t.value]], fmt="o", color="C3", capsize=3,
                label=f"this prediction: b = {b.value:.2f}, a = {t.value:.2f} (xi = {xi:.3f}, eta = {eta:.3f})")
    regime = "one-pass SGD" if a.regime == "one-pass-sgd" else "a fixed data set"
    ax.set(xlabel="b (eigenvalues ~ i^-b)", ylabel="a (target powers ~ i^-a)", xlim=(1.0, b_line[-1]),
           ylim=(1.0, top), title=f"phases of {regime} on random features")
    ax.legend(fontsize=7, loc="upper left")


def plot_sweep(sweep, path: str | os.PathLike | None = None) -> Figure:
    """Plot: alpha_K, the recommended alpha_D and the manifold estimate 4/d (and measured alpha_D when compared)
    against the varied option, with intervals; categorical x when the values are not numbers."""
    labels = [point.value for point in sweep.points]
    try:
        x = np.array([float(v) for v in labels])
    except ValueError:
        x = np.arange(len(labels), dtype=float)
    fig, ax = _subplots(figsize=(6, 4))

    def series(estimates, label, marker, shift):
        keep = [i for i, e in enumerate(estimates) if e is not None]
        if not keep:
            return
        chosen = [estimates[i] for i in keep]
        centre = np.array([e.value for e in chosen])
        low = np.array([e.value - (e.ci[0] if e.ci else e.value) for e in chosen])
        high = np.array([(e.ci[1] if e.ci else e.value) - e.value for e in chosen])
        step = (x.max() - x.min()) / 80 if len(x) > 1 else 0.0
        ax.errorbar(x[keep] + shift * step, centre, yerr=[low, high], fmt=marker, ms=5, capsize=3, label=label)

    predictions = [point.prediction for point in sweep.points]
    at = {p.alpha_D_at for p in predictions}
    where = f" at D = {at.pop()}" if len(at) == 1 and None not in at else ""
    series([p.alpha_D for p in predictions], f"alpha_D predicted{where} (recommended: L(D)'s local exponent)", "o",
           -1)
    series([p.alpha_K for p in predictions], "alpha_K (kernel-only)", "s", 0)
    dims = [p.intrinsic_dimension for p in predictions]
    series([Estimate(d.alpha_manifold_twonn) if d else None for d in dims], "4/d (TwoNN), manifold", "^", 1)
    comparisons = [point.comparison for point in sweep.points]
    if any(c is not None for c in comparisons):
        ranges = {c.d_range for c in comparisons if c is not None}
        over = f" over D = {min(r[0] for r in ranges)}..{max(r[1] for r in ranges)}"
        series([c.alpha_D_measured if c else None for c in comparisons], f"alpha_D measured{over}", "D", 2)
        series([c.alpha_D_predicted if c else None for c in comparisons], f"alpha_D theory{over}", "v", 3)
    ax.set_xticks(x, labels)
    ax.set(xlabel=f"{sweep.parameter} (an option of the {sweep.applies_to})", ylabel="scaling exponent")
    title = short_title(predictions[0].arch, predictions[0].data, hide=(sweep.parameter,))
    ax.set_title(f"kernelscale sweep of {sweep.parameter}: {title}", fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, path)
