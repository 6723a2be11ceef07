"""``allocate --arch --data --compute`` (issue 27): the compute-optimal split predicted from a sample's spectrum,
and ``--check``, the frontier measured by one-pass SGD on readout features; fresh teacher points; the command
line's route and errors."""

import json
import math

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

import kernelscale as ks
from kernelscale import report
from kernelscale.cli import app
from kernelscale.data import fresh_points, load_dataset
from kernelscale.one_pass import TrainingStream
from kernelscale.spectral_allocation import phase, phase_exponents

runner = CliRunner()
ARCH, DATA = "fc:depth=1", "teacher:dim=3"


@pytest.fixture(scope="module")
def checked():
    """One prediction at C = 3e4 on 1000 teacher points, checked by 3 repeats of widths 8..128 (about 25 s)."""
    return ks.predict_allocation(ARCH, DATA, compute=3e4, n_samples=1000, check=True, check_widths=(8, 16, 32, 64, 128),
                                 repeats=3)


def test_the_prediction_is_one_consistent_optimum(checked):
    """N* s* = C at the budget; the local exponents lie in their intervals; the asymptotes and the phase are the
    closed forms on the fitted (a, b); the frontier rises in N* and falls in L* with C."""
    a = checked
    assert a.basis == "spectrum" and a.regime == "one-pass-sgd" and a.kernel == "nngp"
    assert a.n_opt.value * a.samples_opt.value == pytest.approx(a.compute, rel=1e-9)
    assert a.steps_opt == a.samples_opt.value / a.batch
    for estimate in (a.n_opt, a.samples_opt, a.loss_opt, a.n_exponent, a.loss_exponent):
        assert estimate.ci[0] <= estimate.value <= estimate.ci[1]
    b, t = a.kernel_decay.value, a.target_decay.value
    assert a.phase == phase(t, b)
    assert (a.n_exponent_asymptote.value, a.loss_exponent_asymptote.value) == pytest.approx(phase_exponents(t, b))
    assert np.all(np.diff(a.frontier.features) > 0) and np.all(np.diff(a.frontier.loss) < 0)
    assert 0 < a.loss_opt.value < a.trivial_loss
    assert a.exponent_budgets[0] < a.compute < a.exponent_budgets[1]


def test_the_check_measures_the_predicted_loss_exponent_on_fresh_points(checked):
    """On teacher data every step draws new points (reuse 1); the measured frontier's loss exponent agrees with
    the prediction over the same budgets (measured 0.182 [0.132, 0.188] against 0.177), and the measured losses on
    the frontier are within 25% of the predicted ones at the same budgets (measured: within 12%)."""
    c = checked.check
    assert c.fresh and c.reuse == 1.0 and c.test_points == 2000
    assert c.loss_exponent_verdict == "agree"
    assert c.loss_exponent_measured.ci[0] <= c.loss_exponent_measured.value <= c.loss_exponent_measured.ci[1]
    predicted = np.interp(np.log(c.frontier.compute), np.log(c.frontier_predicted.compute),
                          np.log(c.frontier_predicted.loss))
    assert np.all(np.abs(np.log(c.frontier.loss) - predicted) < math.log(1.25)), (c.frontier.loss, np.exp(predicted))
    assert c.budgets[0] <= min(c.frontier.compute) and max(c.frontier.compute) <= c.budgets[1]
    assert np.asarray(c.losses, dtype=float).shape == (5, len(c.samples), 3)


def test_the_tables_quote_the_json_and_fit_80_columns(checked):
    result = ks.SpectralAllocation.from_json(checked.to_json())
    assert result == checked
    console = Console(width=80, record=True)
    with console.capture() as captured:
        report.print_result(result, console=console)
    text = captured.get()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80, text
    eta = result.loss_exponent
    assert f"{eta.value:.3f} [{eta.ci[0]:.3f},{eta.ci[1]:.3f}]" in text
    check = result.check
    assert f"{check.loss_exponent_verdict} {check.loss_exponent_gap_sigma:.1f}σ" in text
    assert "random-feature (lazy) baseline" in text and "every step drew new points" in text
    data = json.loads(result.to_json())
    for key in ("n_exponent", "n_exponent_ci", "loss_exponent", "loss_exponent_asymptote", "phase", "basis",
                "n_exponent_measured", "loss_exponent_measured_ci", "steps_opt"):
        assert key in data, key


def test_the_plot_draws_the_iso_n_curves_the_frontier_and_the_phase(checked, tmp_path):
    fig = checked.plot(tmp_path / "allocate.png")
    assert (tmp_path / "allocate.png").stat().st_size > 0
    legends = " ".join(t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts())
    assert f"N = {checked.iso_features[0]}" in legends and "predicted frontier" in legends
    assert "measured" in legends and f"a = {checked.target_decay.value:.2f}" in legends


def test_fresh_teacher_points_share_the_teacher():
    """fresh_points draws new points of the same manifold and network: on a 1-d teacher (a curve), each fresh
    point's nearest sample point has nearly its target (median gap under 5% of the targets' spread); another seed's
    teacher does not."""
    sample = load_dataset("teacher:dim=1", n_samples=2000, seed=3)
    fresh = fresh_points("teacher:dim=1", n_samples=2000, seed=3, count=200)
    other = fresh_points("teacher:dim=1", n_samples=2000, seed=4, count=200)

    def nearest_gap(points):
        distances = ((points.x[:, None, :] - sample.x[None, :, :]) ** 2).sum(axis=2)
        return np.median(np.abs(points.y[:, 0] - sample.y[distances.argmin(axis=1), 0])) / sample.y.std()

    assert nearest_gap(fresh) < 0.05 and nearest_gap(other) > 0.2
    sphere = fresh_points("sphere:dim=3,target=teacher", n_samples=600, seed=3, count=4)
    on_sample = load_dataset("sphere:dim=3,target=teacher", n_samples=600, seed=3)
    assert sphere.y.shape == (4, 1) and np.allclose(np.linalg.norm(sphere.x, axis=1), np.linalg.norm(on_sample.x[0]))
    assert not np.allclose(fresh.x[:5], sample.x[:5])
    with pytest.raises(ks.DataError, match="only 'teacher'"):
        fresh_points("sphere:dim=3,target=gp", n_samples=600, seed=0, count=10)


def test_a_finite_data_set_is_reused_in_new_orders_and_says_so():
    stream = TrainingStream("digits", n_samples=600, seed=0, input_kind="flat")
    assert not stream.fresh and stream.test.n == 1797 // 5 and stream.pool_size == 1797 - 1797 // 5
    rows = stream.rows(3 * stream.pool_size, repeat=0)
    first, second = rows.x[:stream.pool_size], rows.x[stream.pool_size:2 * stream.pool_size]
    assert np.allclose(np.sort(first, axis=0), np.sort(stream.pool.x, axis=0))  # each epoch passes every point once
    assert not np.allclose(first, second)


def test_cli_allocate_from_the_spectrum_writes_the_json():
    result = runner.invoke(app, ["allocate", "--arch", ARCH, "--data", DATA, "--n", "1000", "--compute", "1e4",
                                 "--json", "-"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["basis"] == "spectrum" and data["regime"] == "one-pass-sgd" and data["check"] is None
    assert data["n_opt"] * data["samples_opt"] == pytest.approx(1e4, rel=1e-9)


@pytest.mark.parametrize(("extra", "message"), [
    (["--check", "--kernel", "ntk"], "kernel='nngp'"),
    (["--check", "--regime", "fixed-data"], "regime='one-pass-sgd'"),
    (["--check", "--grid"], "--check measures a frontier predicted from a spectrum"),
    (["--regime", "sgd"], "--regime"),
    (["--learning-rate", "0"], "--learning-rate"),
    (["--compute", "1e14"], "more than 1024 features"),
    (["--check", "--data", "sphere:dim=3,target=gp"], "only 'teacher' data and 'sphere:target=teacher'"),
])
def test_cli_allocate_refuses_what_it_cannot_do_in_one_line(extra, message, tmp_path):
    out = tmp_path / "out.json"
    base = ["allocate", "--arch", ARCH, "--data", DATA, "--n", "1000", "--compute", "1e4", "--json", str(out)]
    result = runner.invoke(app, [*base, *extra])
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]  # after the progress lines of what ran before the error
    assert message in last and last.startswith("Error:"), result.output
    assert not out.exists()


def test_json_keys_are_pinned(checked):
    """The spectrum route's JSON (with --check) has exactly the pinned keys of schema 3 (tests/json_keys.json)."""
    from test_tables import PINNED, _key_paths

    data = json.loads(checked.to_json())
    assert data["schema_version"] == 3
    keys = _key_paths(data)
    pinned = set(PINNED["schema_3"]["allocate_spectrum"])
    assert keys == pinned, (sorted(keys - pinned), sorted(pinned - keys))
