"""Figures a reader understands without the docs: words on the axes, short titles, the fits drawn with their
windows and exponents, a y range set by the data, plain tick labels. Each plot function's figure is caught before
it is written and inspected."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

import kernelscale as ks
from kernelscale import plots


@pytest.fixture
def figures(monkeypatch):
    caught = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: caught.append(fig))
    yield caught
    plt.close("all")


def _legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [] if legend is None else [text.get_text() for text in legend.get_texts()]


def test_predict_figure_labels_fits_and_range(figures):
    p = ks.predict("fc:depth=3", "digits", n_samples=600)
    plots.plot_spectrum(p, "unused.png")
    fig = figures[0]
    left, right, curves = fig.axes[:3]
    assert fig._suptitle.get_text() == "kernelscale predict: fc:act=relu,depth=3 on digits"
    assert "eigenvalue" in left.get_ylabel() and "eigen-index" in left.get_xlabel()
    assert right.get_ylabel() == "tail sum beyond i" and "sum over" not in right.get_ylabel()
    legend = " ".join(_legend_texts(right))
    first, last = p.kernel_fit.window
    assert f"alpha_K = {p.alpha_K.value:.3f}" in legend and f"window i = {first}..{last}" in legend
    t_first, t_last = p.target_fit.window
    assert f"a - 1 = {p.target_fit.exponent.value:.3f}" in legend and f"window i = {t_first}..{t_last}" in legend
    # the noise floor of this kernel is many decades below its eigenvalues: not drawn, no empty decades
    assert not any(text.startswith("noise floor") for text in _legend_texts(left))
    above = p.spectrum.eigenvalues > p.spectrum.noise_floor
    powers = p.spectrum.target_powers[above]
    smallest = min(p.spectrum.eigenvalues[above].min(), powers[powers > 0].min())
    assert left.get_ylim()[0] == pytest.approx(smallest / 2) and left.get_ylim()[0] > 100 * p.spectrum.noise_floor
    assert "L(D)" in curves.get_ylabel() and any("sample size" in text for text in _legend_texts(curves))
    assert "squared error summed over outputs" in curves.get_ylabel()
    assert f"predicting 0: {p.trivial_loss:.4g}" in _legend_texts(curves) and p.trivial_loss == pytest.approx(1.0)


def test_spectrum_y_range_draws_the_floor_only_within_two_decades():
    values = [np.array([1.0, 1e-3]), np.array([1e-4])]
    assert plots.spectrum_y_range(values, 5e-13) == (0.5e-4, 2.0, False)
    low, high, shown = plots.spectrum_y_range(values, 2e-6)
    assert shown and low == 1e-6 and high == 2.0


def test_measure_figure_has_fitted_lines_with_their_exponents(figures):
    m = ks.measure("fc:depth=2", "digits", n_samples=600, regimes=("data", "data_variance"), repeats=3)
    plots.plot_curves(m, "unused.png")
    fig = figures[0]
    for ax, curve in zip(fig.axes, m.curves.values()):
        assert any(text.startswith(f"fit: exponent {curve.fit.exponent.value:.3f}") for text in _legend_texts(ax))
        assert ax.get_xlabel() == "training-set size D" and "test loss" in ax.get_ylabel()
        assert "squared error summed over outputs" in ax.get_ylabel()  # what the loss is, where it is shown
    assert "(theory: 1)" in fig.axes[1].get_title() and "median" in " ".join(_legend_texts(fig.axes[1]))
    assert "b_std" not in fig._suptitle.get_text()


@pytest.mark.parametrize("limits, expected", [
    ((15, 260), ["20", "50", "100", "200"]),        # under two decades: 1, 2 and 5 times the decades
    ((8, 3e4), ["10", "100", "1000", "10000"]),     # more: the decades only
    ((1e17, 1e25), ["$10^{17}$", "$10^{19}$", "$10^{21}$", "$10^{23}$", "$10^{25}$"]),
])
def test_log_ticks_are_plain_numbers_that_do_not_crowd(limits, expected):
    fig, ax = plt.subplots()
    ax.loglog(limits, limits)
    ax.set_xlim(*limits)
    plots.readable_log_ticks(ax)
    fig.canvas.draw()
    low, high = limits
    shown = [tick.get_text() for tick in ax.get_xticklabels()
             if tick.get_text() and low * (1 - 1e-9) <= tick.get_position()[0] <= high * (1 + 1e-9)]
    assert shown == expected
    assert all(minor.get_text() == "" for minor in ax.xaxis.get_minorticklabels())
    plt.close(fig)


def test_sweep_figure_title_is_short(figures):
    s = ks.sweep("fc:depth=2", "digits", parameter="input_noise", values=[0, 1.0], n_samples=600)
    plots.plot_sweep(s, "unused.png")
    title = figures[0].axes[0].get_title()
    assert title == "kernelscale sweep of input_noise: fc:act=relu,depth=2 on digits"


def test_compare_and_sweep_figures_label_the_numbers_of_their_tables(figures):
    """#25 (item 7): one number per quantity: the compare figure's theory lines carry the table's row numbers (the
    width theory against P is the linear RF row, against width the readout row), and the sweep figure names the D at
    which each alpha_D was read or measured."""
    c = ks.compare("fc:depth=2", "digits", n_samples=600, repeats=2)
    plots.plot_comparison(c, "unused.png")
    data_panel, width_panel = figures[-1].axes[:2]
    rows = {row.kind: row for row in c.rows}
    assert f"theory E_g(D): {rows[ks.RowKind.D_THEORY].predicted.value:.3f}" in _legend_texts(data_panel)
    assert (f"theory E_W(P) on the NNGP: {rows[ks.RowKind.W_LINEAR_RF].predicted.value:.3f} against P "
            f"({rows[ks.RowKind.W_READOUT].predicted.value:.3f} against width)") in _legend_texts(width_panel)
    s = ks.sweep("fc:depth=2", "digits", parameter="input_noise", values=[0, 1.0], n_samples=600, with_compare=True,
                 repeats=2)
    plots.plot_sweep(s, "unused.png")
    legend = _legend_texts(figures[-1].axes[0])
    lo, hi = s.points[0].comparison.d_range
    assert f"alpha_D measured over D = {lo}..{hi}" in legend and f"alpha_D theory over D = {lo}..{hi}" in legend
    assert f"alpha_D predicted at D = {s.points[0].prediction.alpha_D_at} (recommended: L(D)'s local exponent)" in legend
