import json

import pytest
from typer.testing import CliRunner

from kernelscale import Prediction, predict
from kernelscale.cli import app

runner = CliRunner()
ARGS = ["predict", "--arch", "fc:depth=2,act=relu", "--data", "sphere:dim=3,target=gp", "--n", "600"]


def test_predict_json_on_stdout_has_the_documented_keys():
    result = runner.invoke(app, [*ARGS, "--json", "-"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("alpha_K", "alpha_K_ci", "alpha_D", "alpha_D_ci", "alpha_W", "target_decay", "fit_window", "n",
                "kernel", "device", "seconds"):
        assert key in data
    assert data["n"] == 600 and data["kernel"] == "ntk" and len(data["fit_window"]) == 2
    assert data["alpha_K_ci"][0] <= data["alpha_K"] <= data["alpha_K_ci"][1]


def test_table_plot_and_cache_message(tmp_path):
    png = tmp_path / "spectrum.png"
    result = runner.invoke(app, [*ARGS, "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert "alpha_D" in result.stdout and png.read_bytes()[:4] == b"\x89PNG"
    again = runner.invoke(app, [*ARGS, "--json", str(tmp_path / "out.json")])
    assert "on-disk cache (an identical earlier call computed it on cpu)" in " ".join(again.output.split())
    cached = Prediction.from_json((tmp_path / "out.json").read_text())
    assert cached.n == 600 and cached.from_cache and cached.device == "cpu"


@pytest.mark.parametrize("extra, message", [
    (["--arch", "mlp"], "valid names"),
    (["--data", "sphere:dim=3,colour=red"], "valid options"),
    (["--n", "10"], "n_samples must be an integer >= 512"),
    (["--kernel", "rbf"], "kernel must be one of ntk, nngp"),
    (["--json", "/nonexistent/folder/out.json"], "does not exist"),
])
def test_bad_input_gives_a_clear_error_and_no_file(extra, message, tmp_path):
    result = runner.invoke(app, [*ARGS, *extra])
    assert result.exit_code != 0
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_json_round_trip_and_same_seed_same_result():
    a = predict("fc:depth=2", "sphere:dim=3,target=gp", n_samples=600, seed=4, use_cache=False)
    b = predict("fc:depth=2", "sphere:dim=3,target=gp", n_samples=600, seed=4, use_cache=False)
    assert Prediction.from_json(a.to_json()) == a
    assert (a.alpha_K, a.alpha_D, a.target_decay) == (b.alpha_K, b.alpha_D, b.target_decay)


def test_predict_on_digits_works_with_the_default_n_and_says_it_was_capped():
    result = runner.invoke(app, ["predict", "--arch", "fc:depth=2", "--data", "digits", "--no-intrinsic-dim",
                                 "--json", "-"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["n"] == 1797 and "fewer than the default 2000" in data["notes"][0]


def test_progress_prints_one_line_per_finished_stage_when_not_a_terminal():
    result = runner.invoke(app, ["measure", "--arch", "fc:depth=2", "--data", "digits", "--n", "600", "--repeats",
                                 "2", "--regimes", "data,linear_rf", "--no-cache", "--json", "-"])
    assert result.exit_code == 0, result.output
    for stage in ("ntk kernel: 1/1", "data curve: 8/8", "linear random-feature curve: 4/4"):
        assert stage in result.output, result.output
    predicted = runner.invoke(app, ["predict", "--arch", "fc:depth=2", "--data", "digits", "--n", "600",
                                    "--no-cache", "--json", "-"])
    assert "eigendecomposition: 3/3" in predicted.output and "intrinsic dimension: 600/600" in predicted.output


def test_a_long_stage_logs_its_progress_while_it_runs(monkeypatch):
    """Not in a terminal, a stage also prints a line every LOG_EVERY seconds (here: at every step)."""
    import kernelscale.cli

    monkeypatch.setattr(kernelscale.cli, "LOG_EVERY", 0.0)
    result = runner.invoke(app, ["measure", "--arch", "fc:depth=2", "--data", "digits", "--n", "600", "--repeats",
                                 "2", "--regimes", "data", "--no-cache", "--json", "-"])
    assert result.exit_code == 0, result.output
    assert "data curve: 1/8 so far" in result.output and "data curve: 8/8," in result.output
