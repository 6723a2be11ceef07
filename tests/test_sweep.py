"""Dataset variants (superclass grouping, input noise) and the sweep over a spec option."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import kernelscale as ks
from kernelscale.cli import app
from kernelscale.data import group_classes
from kernelscale.errors import DataError, SpecError
from kernelscale.sweep import resolve_option
from kernelscale.specs import with_option

runner = CliRunner()


def test_group_classes_makes_contiguous_superclasses():
    labels, groups = group_classes(np.arange(10), 10, 5)
    assert groups == 5 and labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert group_classes(np.arange(100), 100, 20)[0].tolist() == list(np.repeat(np.arange(20), 5))
    with pytest.raises(DataError, match="between 2 and"):
        group_classes(np.arange(10), 10, 11)


def test_variants_keep_the_sample_and_change_what_they_say():
    plain = ks.load_dataset("digits", n_samples=400, seed=3)
    grouped = ks.load_dataset("digits:classes=2", n_samples=400, seed=3)
    noisy = ks.load_dataset("digits:input_noise=1.0", n_samples=400, seed=3)
    assert grouped.y.shape == (400, 2) and grouped.metadata["original_classes"] == 10
    np.testing.assert_array_equal(grouped.y[:, 0], plain.y[:, :5].sum(axis=1))  # digits 0-4 -> superclass 0
    np.testing.assert_array_equal(noisy.y, plain.y)  # same points drawn, only the inputs change
    correlation = np.corrcoef(noisy.x.ravel(), plain.x.ravel())[0, 1]
    assert 0.5 < correlation < 0.9  # signal-to-noise 1 per feature: correlation ~ 1/sqrt(2) before normalizing
    with pytest.raises(DataError, match="no class labels"):
        ks.load_dataset("sphere:dim=3,classes=2", n_samples=100)
    with pytest.raises(DataError, match="input_noise"):
        ks.load_dataset("digits:input_noise=-0.1", n_samples=100)


def test_option_resolution():
    assert resolve_option("classes", "fc:depth=3", "digits") == ("data", "classes")
    assert resolve_option("act", "fc", "digits") == ("arch", "act")
    assert resolve_option("data.depth", "fc", "teacher:dim=3") == ("data", "depth")
    with pytest.raises(SpecError, match="arch.depth or data.depth"):
        resolve_option("depth", "fc", "teacher:dim=3")
    with pytest.raises(SpecError, match="valid options"):
        resolve_option("colour", "fc", "digits")
    assert with_option("fc:depth=3", "act", "erf", what="architecture") == "fc:depth=3,act=erf"
    assert with_option("fc:depth=3", "DEPTH", 2, what="architecture") == "fc:depth=2"


def test_sweep_over_input_noise_lowers_the_exponent():
    """Input noise flattens the kernel spectrum (Bahri et al.'s CIFAR-10 experiment): alpha_K falls with the noise."""
    s = ks.sweep("fc:depth=2", "digits", parameter="input_noise", values=[0, 1.0], n_samples=600)
    assert [p.value for p in s.points] == ["0", "1.0"] and s.applies_to == "data"
    low, high = (p.prediction for p in s.points)
    assert "input_noise=1.0" in high.data
    assert high.alpha_K.value < low.alpha_K.low
    assert ks.Sweep.from_json(s.to_json()) == s


def test_sweep_errors_before_computing():
    with pytest.raises(SpecError, match="at least 2 distinct"):
        ks.sweep("fc", "digits", parameter="depth", values=[3])
    with pytest.raises(SpecError, match="act"):
        ks.sweep("fc", "digits", parameter="act", values=["relu", "swish"])


def test_cli_sweep_json_plot_and_bad_vary(tmp_path):
    png = tmp_path / "sweep.png"
    result = runner.invoke(app, ["sweep", "--arch", "fc:depth=2", "--data", "digits", "--n", "600", "--vary",
                                 "depth=1,2", "--compare", "--repeats", "2", "--json", "-", "--plot", str(png)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["parameter"] == "depth" and len(data["points"]) == 2
    assert data["points"][0]["comparison"]["alpha_D_measured"] is not None
    assert png.read_bytes()[:4] == b"\x89PNG"
    bad = runner.invoke(app, ["sweep", "--arch", "fc", "--data", "digits", "--vary", "depth"])
    assert bad.exit_code == 2 and "OPTION=V1,V2" in bad.output
