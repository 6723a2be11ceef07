"""compare: predicted against measured on the same sample, the verdict rule, the CLI and its JSON."""

import json

import numpy as np

import pytest
from rich.console import Console
from typer.testing import CliRunner

import kernelscale as ks
from kernelscale import Estimate, Verdict
from kernelscale.cli import app
from kernelscale.curves import width_theory_exponent
from kernelscale.report import print_comparison
from kernelscale.stats import gap_sigma, verdict
from kernelscale.theory import learning_curve, local_exponent

runner = CliRunner()


def test_verdict_uses_the_facing_half_widths():
    assert verdict(Estimate(0.5, (0.45, 0.55)), Estimate(0.6, (0.5, 0.7))) == "agree"  # 0.1 <= hypot(0.05, 0.1)
    assert verdict(Estimate(0.5, (0.49, 0.51)), Estimate(0.6, (0.59, 0.7))) == Verdict.DISAGREE
    assert verdict(None, Estimate(0.6, (0.5, 0.7))) == "n/a"


def test_compare_on_digits_theory_tracks_the_measured_curve():
    c = ks.compare("fc:depth=3,act=relu", "digits", n_samples=1000, repeats=4)
    assert c.d_range == (16, 250) and len(c.rows) == 5
    # the recommended prediction is the theory's local exponent over the measured D-range, extrapolated to an infinite
    # pool (measured here: 0.551 against 0.536); the asymptotic kernel-only number (0.24) is far off on digits
    assert abs(c.alpha_D_predicted.value - c.alpha_D_measured.value) < 0.03
    assert abs(c.prediction.alpha_D_kernel_only.value - c.alpha_D_measured.value) > 0.2
    # the theory on the 1000-point pool alone (0.569) over-predicts: the extrapolation is what brings it close
    spec = c.prediction.spectrum
    pool_only = learning_curve(spec.eigenvalues, spec.target_powers, c.measurement.curves["data"].x,
                               pool_size=spec.n).local_exponent()
    assert abs(c.alpha_D_predicted.value - c.alpha_D_measured.value) < abs(pool_only - c.alpha_D_measured.value)
    assert c.alpha_D_predicted.contains(pool_only)
    # the plotted theory curve is the extrapolated one: its local exponent is the prediction
    assert local_exponent(c.theory_sizes, c.theory_errors) == pytest.approx(c.alpha_D_predicted.value, rel=1e-9)
    # alpha_W: the width theory E_W(P) on the NNGP against linear random features, its own model (measured here:
    # 0.561 against 0.573), and against the readout features of finite networks over the same feature counts
    rf_row, readout_row = (row for row in c.rows if row.quantity == "alpha_W")
    assert "linear random features" in rf_row.basis and "readout" in readout_row.basis
    assert abs(c.alpha_W_rf_predicted.value - c.alpha_W_rf_measured.value) < 0.03
    assert c.alpha_W_rf_measured == c.measurement.curves["linear_rf"].fit.exponent
    assert c.alpha_W_measured == c.measurement.curves["width"].fit.exponent
    assert c.measurement.curves["linear_rf"].x == c.measurement.curves["width"].features
    # #24 item 3: predict and compare put the width theory on the same kernel (the NNGP, as readout features are)
    # and so give the same alpha_W for the same arguments; the rows are the theory on the prediction's width spectrum
    alone = ks.predict("fc:depth=3,act=relu", "digits", n_samples=1000)
    assert alone.width_kernel == c.prediction.width_kernel == "nngp" and alone.alpha_W == c.prediction.alpha_W
    assert c.prediction.width_spectrum is not c.prediction.spectrum
    assert c.alpha_W_rf_predicted == width_theory_exponent(c.prediction.width_spectrum,
                                                           c.measurement.curves["linear_rf"].x)[0]
    assert ks.Comparison.from_json(c.to_json()) == c
    # the printed table keeps every row's numbers readable in 80 columns, its short label explained below it
    console = Console(width=80, record=True)
    with console.capture() as captured:
        print_comparison(c, console)
    text = captured.get()
    assert "recommended" in text and "kernel-only" in text and "NNGP" in text
    for row in c.rows:
        assert f"{row.label}: " in " ".join(text.split()), row.label
    for row in c.rows:
        assert f"{row.predicted.value:.3f} [{row.predicted.ci[0]:.3f}, {row.predicted.ci[1]:.3f}]" in text


def test_compare_cli_json_has_the_documented_keys(tmp_path):
    png = tmp_path / "compare.png"
    result = runner.invoke(app, ["compare", "--arch", "fc:depth=2", "--data", "digits", "--n", "600",
                                 "--repeats", "2", "--json", "-", "--plot", str(png)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("alpha_D_predicted", "alpha_D_measured", "alpha_D_measured_ci", "alpha_W_predicted",
                "alpha_W_measured", "alpha_W_measured_ci", "alpha_W_rf_measured", "alpha_W_rf_measured_ci",
                "d_range", "width_range"):
        assert key in data
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_measure_cli_errors_exit_2_without_a_partial_file(tmp_path):
    out = tmp_path / "m.json"
    result = runner.invoke(app, ["measure", "--arch", "fc:depth=2", "--data", "digits", "--n", "600",
                                 "--sizes", "10,20,500", "--json", str(out)])
    assert result.exit_code == 2 and "must lie in" in result.output and not out.exists()
    result = runner.invoke(app, ["measure", "--arch", "fc:depth=2", "--data", "digits", "--sizes", "10,x"])
    assert result.exit_code == 2 and "comma-separated" in result.output


def test_gap_in_sigma_and_the_verdict_apply_one_rule():
    """The issue's example: 0.549 [0.514, 0.584] against 0.487 [0.434, 0.538] is 1.96 sigma plus a hair, so
    "disagree", and the printed gap says by how little."""
    predicted, measured = Estimate(0.549, (0.514, 0.584)), Estimate(0.487, (0.434, 0.538))
    sigma = gap_sigma(predicted, measured)
    assert sigma == pytest.approx(0.062 / (np.hypot(0.035, 0.051) / 1.959963984540054))
    assert 1.96 < sigma < 1.97 and verdict(predicted, measured) == "disagree"
    assert gap_sigma(Estimate(0.5, (0.45, 0.55)), Estimate(0.5, (0.4, 0.6))) == 0.0
    assert gap_sigma(None, Estimate(0.5, (0.4, 0.6))) is None


def test_every_error_has_one_style(tmp_path):
    for args in (["predict", "--data", "digits"], ["predict", "--arch", "fc", "--data", "digits", "--n", "abc"],
                 ["predict", "--arch", "fc", "--data", "digits", "--kernel", "rbf"],
                 ["predict", "--arch", "fc", "--data", "digits", "--n", "5000"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "Error: " in result.output and "╭" not in result.output, result.output
