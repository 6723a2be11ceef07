"""Every command's default table fits 80 columns with no cell cut (rich marks a cut cell with an ellipsis), prints
the numbers of its JSON, and the JSON keeps its keys."""

import dataclasses
import json
from pathlib import Path

import pytest
from helpers import moons
from rich.console import Console

import kernelscale as ks
from kernelscale import report
from kernelscale._json import REMOVED_IN_3


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
    """Each command's JSON has exactly the pinned keys (schema 3), which hold every key of schemas 1 and 2 (schema
    1: the keys written before the schema had a version, collected from that code on the same commands) but the
    ones schema 3 removed, so users' scripts keep working; ``schema_version`` says which."""
    result = results[command][1]
    data = json.loads(result.to_json())
    assert data["schema_version"] == 3
    name = command.replace(" --eigensolver topk", "_topk").replace(" --pool", "_pool")
    keys = _key_paths(data)
    assert keys == set(PINNED["schema_3"][name]), (sorted(keys - set(PINNED["schema_3"][name])),
                                                   sorted(set(PINNED["schema_3"][name]) - keys))
    for old in ("schema_1", "schema_2"):
        kept = {key for key in PINNED[old][name] if key.rsplit(".", 1)[-1] not in REMOVED_IN_3}
        assert kept <= keys, sorted(kept - keys)
    assert type(result).from_json(result.to_json()) == result


def _series_y(ax, label_start: str) -> list[float]:
    """The y values an errorbar or line series labelled ``label_start...`` draws."""
    for container in ax.containers:
        if container.get_label().startswith(label_start):
            return list(container.lines[0].get_ydata())
    for line in ax.get_lines():
        if line.get_label().startswith(label_start):
            return list(line.get_ydata())
    raise AssertionError(f"no series labelled {label_start!r}: {[c.get_label() for c in ax.containers]}")


def _legends(fig) -> str:
    return " ".join(text.get_text() for ax in fig.axes if ax.get_legend() for text in ax.get_legend().get_texts())


def test_one_number_per_quantity_in_table_repr_frame_plot_and_json(results):
    """#25 item 7: each quantity a command shows is one field, rendered the same in its table and messages, its
    repr, its DataFrame, its figure and its JSON (read back from the JSON, so every rendering is of the field)."""
    p = ks.Prediction.from_json(results["predict (README's command)"][1].to_json())
    p = dataclasses.replace(p, spectrum=results["predict (README's command)"][1].spectrum)  # the figure needs it
    text, shown = " ".join(_render(report.print_prediction, p).split()), repr(p)
    for name in ("alpha_K", "target_decay", "alpha_D", "alpha_W"):
        value = getattr(p, name)
        assert f"{value.value:.3f}" in text and f"{value.value:.3f} [{value.ci[0]:.3f}, {value.ci[1]:.3f}]" in shown
    frame = p.to_frame()
    curve = p.learning_curve
    rows = frame[frame.curve == "L(D)"]
    assert list(rows["size"]) == list(curve.sizes) and list(rows["loss"]) == [e.value for e in curve.loss]
    assert rows.set_index("size").loc[p.alpha_D_at, "local_exponent"] == p.alpha_D.value
    legends = _legends(p.plot())
    assert f"alpha_K = {p.alpha_K.value:.3f}" in legends and f"predicting 0: {p.trivial_loss:.4g}" in legends
    assert f"predicting 0 scores {p.trivial_loss:.4g}" in text

    c = ks.Comparison.from_json(results["compare"][1].to_json())
    text = " ".join(_render(report.print_comparison, c).split())
    frame = c.to_frame().set_index("label")
    for row in c.rows:
        assert f"{row.predicted.value:.3f} [{row.predicted.ci[0]:.3f}, {row.predicted.ci[1]:.3f}]" in text
        assert frame.loc[row.label, "predicted"] == row.predicted.value
        assert frame.loc[row.label, "measured_high"] == row.measured.ci[1]
        assert frame.loc[row.label, "verdict"] == row.verdict.value == c.verdicts[row.label]
    legends = _legends(c.plot())
    assert f"theory E_g(D): {c.alpha_D_predicted.value:.3f}" in legends
    assert (f"{c.alpha_W_rf_predicted.value:.3f} against P ({c.alpha_W_predicted.value:.3f} against width)"
            in legends)
    assert f"alpha_D_predicted={c.alpha_D_predicted.value:.3f}" in repr(c)

    s = ks.Sweep.from_json(results["sweep"][1].to_json())
    text = _render(report.print_sweep, s)
    frame = s.to_frame()
    figure = s.plot()
    drawn = _series_y(figure.axes[0], "alpha_D predicted")
    for i, point in enumerate(s.points):
        alpha_D = point.prediction.alpha_D
        assert f"{alpha_D.value:.2f} [{alpha_D.ci[0]:.2f},{alpha_D.ci[1]:.2f}]" in text
        assert frame.loc[i, "alpha_D"] == alpha_D.value == drawn[i] == s.alpha_D[point.value].value
        assert frame.loc[i, "alpha_D_measured"] == point.comparison.alpha_D_measured.value


@pytest.mark.parametrize("command", COMMANDS)
def test_every_result_reads_in_a_notebook(results, command):
    """#25 item 10: a repr of one screen, a DataFrame, and the command's figure as a matplotlib Figure."""
    from matplotlib.figure import Figure

    result = results[command][1]
    shown = repr(result)
    assert len(shown.splitlines()) <= 20 and max(len(line) for line in shown.splitlines()) <= 120, shown
    assert shown.startswith(type(result).__name__ + "(") and "to_frame()" in shown
    if command == "predict --eigensolver topk":  # no curves: the error names the fields instead
        with pytest.raises(ks.DataError, match="no curves"):
            result.to_frame()
    else:
        assert len(result.to_frame()) >= 1
    if command != "predict --eigensolver topk":  # its spectrum has no tail to draw the curves from
        assert isinstance(result.plot(), Figure)


def test_to_frame_says_how_to_get_pandas(results, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ImportError, match="pip install pandas"):
        results["compare"][1].to_frame()
