"""Every command's default table fits 80 columns with no cell cut (rich marks a cut cell with an ellipsis)."""

import pytest
from rich.console import Console

import kernelscale as ks
from kernelscale import cli


def _render(print_function, result, **kwargs) -> str:
    console = Console(width=80, record=True)
    with console.capture() as captured:
        print_function(result, console=console, **kwargs)
    return captured.get()


@pytest.fixture(scope="module")
def results():
    comparison = ks.compare("fc:depth=3", "digits", n_samples=600, repeats=2, finite_width=True)
    return {
        "predict": (cli._print_table, comparison.prediction),
        "measure": (cli._print_measurement, ks.measure("fc:depth=2", "digits", n_samples=600, repeats=2,
                                                       regimes=("data", "width", "linear_rf", "data_variance"))),
        "compare": (cli._print_comparison, comparison),
        "compare --pool": (cli._print_pool_comparison,
                           ks.compare_pool("fc:depth=2", "sphere:dim=3,target=gp", n_samples=512, pool=1500,
                                           repeats=2)),
        "sweep": (cli._print_sweep, ks.sweep("fc:depth=2", "digits", parameter="input_noise", values=[0, 1.0],
                                             n_samples=600, with_compare=True, repeats=2)),
        "allocate": (cli._print_allocation, ks.allocate(5.76e23, ks.LossModel(E=1.69, A=406.4, B=410.7, alpha=0.34,
                                                                               beta=0.28))),
    }


@pytest.mark.parametrize("command", ["predict", "measure", "compare", "compare --pool", "sweep", "allocate"])
def test_tables_fit_80_columns_with_nothing_cut(results, command):
    print_function, result = results[command]
    text = _render(print_function, result)
    assert "…" not in text, text
    assert max(len(line) for line in text.splitlines()) <= 80, text


def test_compare_and_sweep_print_the_numbers_of_their_json(results):
    """What the tables and messages quote is the field they explain, after a JSON round trip (issue 16, item 1)."""
    import re

    print_function, comparison = results["compare"]
    comparison = ks.Comparison.from_json(comparison.to_json())
    text = " ".join(_render(print_function, comparison).split())
    for row in comparison.rows:
        assert f"{row.predicted:.3f} [{row.predicted_ci[0]:.3f}, {row.predicted_ci[1]:.3f}]" in text
        assert f"{row.measured:.3f} [{row.measured_ci[0]:.3f}, {row.measured_ci[1]:.3f}]" in text
        assert f"{row.verdict} {row.gap_sigma:.1f}σ" in text
    quoted = [float(v) for v in re.findall(r"local exponent (-?[\d.]+) over D", text)]
    assert quoted and set(quoted) == {round(comparison.prediction.learning_curve.continuation_exponent, 3)}

    print_function, sweep = results["sweep"]
    sweep = ks.Sweep.from_json(sweep.to_json())
    text = _render(print_function, sweep)
    for point in sweep.points:
        p, c = point.prediction, point.comparison
        assert f"{p.alpha_D:.2f} [{p.alpha_D_ci[0]:.2f},{p.alpha_D_ci[1]:.2f}]" in text
        assert (f"{c.alpha_D_measured:.2f} [{c.alpha_D_measured_ci[0]:.2f},{c.alpha_D_measured_ci[1]:.2f}] │ "
                f"{c.rows[0].verdict} {c.rows[0].gap_sigma:.1f}σ") in text
