"""Trained finite networks (kernelscale.training): the lazy limit against kernel regression, early stopping,
determinism, the memory plan, bad settings, and the trained regimes of measure/compare."""

import json

import jax
import numpy as np
import pytest
from typer.testing import CliRunner

import kernelscale as ks
from kernelscale import training
from kernelscale.cli import app
from kernelscale.errors import DataError, MemoryPlanError
from kernelscale.measurements import solve_kernel_regression
from kernelscale.training import TrainingSettings, train_network
from kernelscale._compat import precise_function

FAST = TrainingSettings(steps=500, eval_every=100, learning_rate=1e-2)


@pytest.fixture(scope="module")
def sphere_task():
    """120 points on S^4 with a smooth two-column target; 20 train, 50 validation, 50 test."""
    x = ks.load_dataset("sphere:dim=5", n_samples=600, seed=0).x[:120]
    y = np.stack([x[:, 0] * x[:, 1] + x[:, 2], x[:, 3] ** 2], axis=1)
    return x, y, slice(0, 20), slice(20, 70), slice(70, 120)


def _mse(prediction, target):
    return float(np.mean(np.sum((prediction - target) ** 2, axis=1)))


@precise_function
def test_zero_readout_network_starts_at_zero_and_has_one_output_per_column():
    arch = ks.parse_architecture("fc:depth=2,width=16")
    x = np.ones((3, 5))
    init_fn, apply_fn = arch.finite_network(4)
    _, params = init_fn(jax.random.PRNGKey(0), (-1, 5))
    assert np.asarray(apply_fn(params, x)).shape == (3, 4)
    assert np.all(np.asarray(apply_fn(params, x)) == 0.0)
    init_fn, apply_fn = arch.finite_network(4, zero_readout=False)
    _, params = init_fn(jax.random.PRNGKey(0), (-1, 5))
    assert np.any(np.asarray(apply_fn(params, x)) != 0.0)


@precise_function
def test_wide_network_trained_by_gradient_descent_approaches_kernel_regression_on_its_readout_features(sphere_task):
    """The lazy limit: with a zero readout and full-batch GD to interpolation, the trained network is min-norm
    regression on its readout features, up to the hidden layers' motion, which shrinks with width (about 1/width:
    12% at width 1024 and 3.7% at 4096 when this test was written)."""
    x, y, tr, va, te = sphere_task
    settings = TrainingSettings(optimizer="sgd", learning_rate=1.0, steps=4000, eval_every=4000, dtype="float64")
    gaps = []
    for width in (1024, 4096):
        arch = ks.parse_architecture(f"fc:depth=1,act=relu,width={width}")
        _, (body_params, _) = arch.finite_network(2)[0](jax.random.PRNGKey(0), (-1, x.shape[1]))
        h = np.asarray(arch.body[1](body_params, x))
        phi = np.hstack([arch.readout_std[0] * h / np.sqrt(width), np.full((len(x), 1), arch.readout_std[1])])
        gram = phi @ phi.T
        kernel_loss = _mse(solve_kernel_regression(gram[tr, tr], gram[te, tr], y[tr], 0.0), y[te])
        net = train_network(arch, width, (x[tr], y[tr]), (x[va], y[va]), (x[te], y[te]), settings=settings, seed=0)
        assert net.train_loss < 1e-4 * _mse(0.0, y[tr])  # interpolates
        gaps.append(abs(net.test_loss / kernel_loss - 1))
    assert gaps[1] < 0.06 and gaps[1] < gaps[0] / 2, gaps


def test_early_stopping_reports_the_test_loss_at_the_best_validation_step(sphere_task):
    x, y, tr, va, te = sphere_task
    arch = ks.parse_architecture("fc:depth=2,width=64")
    net = train_network(arch, 64, (x[tr], y[tr]), (x[va], y[va]), (x[te], y[te]), settings=FAST, seed=3)
    steps = [row[0] for row in net.history]
    assert steps == [100, 200, 300, 400, 500]
    best = min(net.history, key=lambda row: row[2])
    assert (net.best_step, net.train_loss, net.val_loss, net.test_loss) == best
    assert net.history[-1][1] < 0.1 * _mse(0.0, y[tr])  # it learned
    again = train_network(arch, 64, (x[tr], y[tr]), (x[va], y[va]), (x[te], y[te]), settings=FAST, seed=3)
    assert again == net
    other = train_network(arch, 64, (x[tr], y[tr]), (x[va], y[va]), (x[te], y[te]), settings=FAST, seed=4)
    assert other.test_loss != net.test_loss


def test_minibatches_train_too(sphere_task):
    x, y, tr, va, te = sphere_task
    train = (x[:70], y[:70])
    settings = TrainingSettings(steps=500, eval_every=250, learning_rate=1e-2, batch_size=16)
    net = train_network(ks.parse_architecture("fc:depth=1,width=64"), 64, train, (x[va], y[va]), (x[te], y[te]),
                        settings=settings)
    assert net.train_loss < 0.2 * _mse(0.0, train[1])


@pytest.mark.parametrize("options, message", [
    ({"optimizer": "lbfgs"}, "optimizer must be one of adam, sgd"),
    ({"learning_rate": 0.0}, "learning_rate must be a finite number > 0"),
    ({"learning_rate": float("nan")}, "learning_rate must be a finite number > 0"),
    ({"steps": 300}, "steps must be a positive multiple of eval_every=250"),
    ({"eval_every": 0}, "eval_every must be an integer >= 1"),
    ({"batch_size": 0}, "batch_size must be None"),
    ({"dtype": "float16"}, "dtype must be 'float32' or 'float64'"),
])
def test_bad_training_settings_are_rejected(options, message):
    with pytest.raises(DataError, match=message):
        TrainingSettings(**options)


def test_divergence_is_reported_not_returned(sphere_task):
    x, y, tr, va, te = sphere_task
    settings = TrainingSettings(optimizer="sgd", learning_rate=1e6, steps=100, eval_every=100)
    with pytest.raises(DataError, match="diverged.*smaller learning_rate"):
        train_network(ks.parse_architecture("fc:depth=2,width=64"), 64, (x[tr], y[tr]), (x[va], y[va]),
                      (x[te], y[te]), settings=settings)


def test_a_network_that_will_not_fit_in_memory_stops_before_training(sphere_task, monkeypatch):
    x, y, tr, va, te = sphere_task
    monkeypatch.setattr(training, "available_device_memory", lambda device: 1000)
    with pytest.raises(MemoryPlanError, match="smaller widths.*batch_size"):
        train_network(ks.parse_architecture("fc:depth=1,width=64"), 64, (x[tr], y[tr]), (x[va], y[va]),
                      (x[te], y[te]), settings=FAST)


def test_measure_trained_regimes_fit_exponents_and_round_trip():
    m = ks.measure("fc:depth=1,act=relu", "digits", n_samples=600, regimes=("trained_data", "trained_width"),
                   repeats=2, trained_widths=(4, 8, 16), trained_width=32, training=FAST)
    data, width = m.curves["trained_data"], m.curves["trained_width"]
    assert data.x == ks.measurements.default_measured_sizes(600, count=6) and data.settings["width"] == 32
    assert width.x == (4, 8, 16) and width.settings["D"] == 600 - 2 * 120
    assert width.features == (64 * 4 + 4 + 4 * 10 + 10, 64 * 8 + 8 + 8 * 10 + 10, 64 * 16 + 16 + 16 * 10 + 10)
    # more data and more width both lower the test loss of trained networks on digits
    assert data.fit.exponent.value > 0.2 and width.fit.exponent.value > 0.2
    assert np.shape(data.settings["best_steps"]) == (len(data.x), 2)
    assert ks.Measurement.from_json(m.to_json()) == m


def test_trained_sizes_beyond_the_training_pool_are_rejected():
    with pytest.raises(DataError, match="trained sizes"):
        ks.measure("fc:depth=1", "digits", n_samples=600, regimes=("trained_data",), trained_sizes=(50, 100, 400),
                   training=FAST)


def test_cli_compare_with_trained_rows_and_bad_steps(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(app, ["measure", "--arch", "fc:depth=1", "--data", "digits", "--n", "600", "--regimes",
                              "trained_data", "--steps", "300"])
    assert bad.exit_code == 2 and "multiple of eval_every" in bad.output
    plot = tmp_path / "compare.png"
    result = runner.invoke(app, ["compare", "--arch", "fc:depth=1", "--data", "digits", "--n", "600", "--trained",
                                 "--trained-widths", "4,8,16", "--steps", "500", "--repeats", "2", "--json", "-",
                                 "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    trained = [row for row in rows if "trained networks" in row["basis"]]
    assert [row["quantity"] for row in trained] == ["alpha_D", "alpha_W"]
    assert all(row["measured"] > 0 for row in trained)
    assert plot.stat().st_size > 0
