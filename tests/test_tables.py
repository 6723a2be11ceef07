"""Every command's default table fits 80 columns with no cell cut (rich marks a cut cell with an ellipsis), prints
the numbers of its JSON, and the JSON keeps its keys."""

import json
from pathlib import Path

import pytest
from helpers import moons
from rich.console import Console

import kernelscale as ks
from kernelscale import report


def _render(print_function, result, **kwargs) -> str:
    console = Console(width=80, record=True)
    with console.capture() as captured:
        print_function(result, console=console, **kwargs)
    return captured.get()


@pytest.fixture(scope="module")
def results():
    comparison = ks.compare("fc:depth=3", "digits", n_samples=600, repeats=2, finite_width=True)
    return {
        "predict (README's command)": (report.print_prediction,
                                       ks.predict("fc:depth=3,act=relu", "digits", n_samples=1000)),
        "predict (2-D arrays)": (report.print_prediction,
                                 ks.predict("fc:depth=3", ks.dataset_from_arrays(*moons(1000), normalize=False))),
        "predict": (report.print_prediction, comparison.prediction),
        "predict --eigensolver topk": (report.print_prediction,
                                       ks.predict("fc:depth=2", "digits", n_samples=600, eigensolver="topk",
                                                  n_eigs=100)),
        "measure": (report.print_measurement, ks.measure("fc:depth=2", "digits", n_samples=600, repeats=2,
                                                       regimes=("data", "width", "linear_rf", "data_variance"))),
        "compare": (report.print_comparison, comparison),
        "compare --pool": (report.print_pool_comparison,
                           ks.compare_pool("fc:depth=2", "sphere:dim=3,target=gp", n_samples=512, pool=1500,
                                           repeats=2)),
        "sweep": (report.print_sweep, ks.sweep("fc:depth=2", "digits", parameter="input_noise", values=[0, 1.0],
                                             n_samples=600, with_compare=True, repeats=2)),
        "allocate": (report.print_allocation, ks.allocate(5.76e23, ks.LossModel(E=1.69, A=406.4, B=410.7, alpha=0.34,
                                                                               beta=0.28))),
    }


COMMANDS = ["predict", "predict --eigensolver topk", "measure", "compare", "compare --pool", "sweep", "allocate"]


@pytest.mark.parametrize("command", [*COMMANDS, "predict (README's command)", "predict (2-D arrays)"])
def test_tables_fit_80_columns_with_nothing_cut(results, command):
    print_function, result = results[command]
    text = _render(print_function, result)
    assert "…" not in text, text
    assert max(len(line) for line in text.splitlines()) <= 80, text


def test_compare_and_sweep_print_the_numbers_of_their_json(results):
    """What the tables and messages quote is the field they explain, after a JSON round trip (issue 16, item 1)."""

    print_function, comparison = results["compare"]
    comparison = ks.Comparison.from_json(comparison.to_json())
    text = " ".join(_render(print_function, comparison).split())
    for row in comparison.rows:
        assert f"{row.predicted.value:.3f} [{row.predicted.ci[0]:.3f}, {row.predicted.ci[1]:.3f}]" in text
        assert f"{row.measured.value:.3f} [{row.measured.ci[0]:.3f}, {row.measured.ci[1]:.3f}]" in text
        assert f"{row.verdict} {row.gap_sigma:.1f}σ" in text
    p = comparison.prediction  # predict's recommended alpha_D, named as such beside compare's rows
    assert (f"predict's recommended alpha_D is L(D)'s local exponent at D = {p.alpha_D_at}: {p.alpha_D.value:.3f} "
            f"[{p.alpha_D.ci[0]:.3f}, {p.alpha_D.ci[1]:.3f}]") in text

    print_function, sweep = results["sweep"]
    sweep = ks.Sweep.from_json(sweep.to_json())
    text = _render(print_function, sweep)
    for point in sweep.points:
        p, c = point.prediction, point.comparison
        assert f"{p.alpha_D.value:.2f} [{p.alpha_D.ci[0]:.2f},{p.alpha_D.ci[1]:.2f}]" in text
        m = c.alpha_D_measured
        assert (f"{m.value:.2f} [{m.ci[0]:.2f},{m.ci[1]:.2f}] │ "
                f"{c.rows[0].verdict} {c.rows[0].gap_sigma:.1f}σ") in text


def _key_paths(value, prefix=""):
    """Every key of a JSON object as a dotted path (``rows[].verdict``; curves by ``curves.*``); free-form settings,
    sources and interval dictionaries are leaves."""
    out = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out.add(path)
            if key == "curves":
                for curve in item.values():
                    out |= _key_paths(curve, f"{path}.*")
            elif key not in ("settings", "ci", "model_ci", "source"):
                out |= _key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                out |= _key_paths(item, prefix + "[]")
    return out


PINNED = json.loads((Path(__file__).parent / "json_keys.json").read_text())


@pytest.mark.parametrize("command", COMMANDS)
def test_json_keys_are_pinned(results, command):
    """Each command's JSON has exactly the pinned keys (schema 2), which hold every key of schema 1, the keys written
    before the schema had a version (collected from that code on the same commands), so users' scripts keep
    working; ``schema_version`` says which."""
    result = results[command][1]
    data = json.loads(result.to_json())
    assert data["schema_version"] == 2
    name = command.replace(" --eigensolver topk", "_topk").replace(" --pool", "_pool")
    keys = _key_paths(data)
    assert keys == set(PINNED["schema_2"][name]), (sorted(keys - set(PINNED["schema_2"][name])),
                                                   sorted(set(PINNED["schema_2"][name]) - keys))
    assert set(PINNED["schema_1"][name]) <= keys
    assert type(result).from_json(result.to_json()) == result
