"""The presentation layer: every command's tables and messages, rendered from the results' structured fields (no
number is computed or parsed here; each printed number is a field, formatted). ``print_result(result, console)``
dispatches on the result's type; the command line and notebooks call the same functions.

Tables fit 80 columns: numbers never wrap; labels and statuses wrap into what is left, and short row labels are
explained by a legend under the table.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from .architectures import SCHEMAS as ARCHITECTURE_SCHEMAS
from .curves import PredictedCurve
from .data import SCHEMAS as DATA_SCHEMAS
from .estimates import Basis, Estimate
from .results import (Allocation, Comparison, FrontierCheck, Measurement, PoolComparison, Prediction, RowKind,
                      SpectralAllocation, Sweep)
from .specs import display_spec


def short_title(arch: str, data: str, *, hide: tuple[str, ...] = ()) -> str:
    """``"fc:act=relu,depth=3 on digits"``: the architecture's name with the options a user set and those that matter
    (depth, activation; not the finite width, which infinite-width kernels ignore), and the data's name with the
    options that differ from its defaults and its dimension, rounded; options in ``hide`` left out of both (a sweep's
    varied option). For titles of tables and plots; the JSON keeps the full specs."""
    return (f"{display_spec(arch, ARCHITECTURE_SCHEMAS, keep=('depth', 'act'), hide=('width', *hide))} on "
            f"{display_spec(data, DATA_SCHEMAS, keep=('dim',), hide=hide)}")


def title(command: str, arch: str, data: str, extra: str) -> str:
    """``kernelscale predict: fc:act=relu,depth=3 on digits (n=1797, NTK)``."""
    return f"kernelscale {command}: {short_title(arch, data)} ({extra})"


def number(estimate: Estimate | float | None, digits: int = 3) -> str:
    """The value, or "-" when missing."""
    if estimate is None:
        return "-"
    value = estimate.value if isinstance(estimate, Estimate) else estimate
    return f"{value:.{digits}f}"


def interval(estimate: Estimate | None, digits: int = 3, style: str = "f", sep: str = ", ") -> str:
    """``[low, high]``, or "-" when missing."""
    if estimate is None or estimate.ci is None:
        return "-"
    return f"[{estimate.ci[0]:.{digits}{style}}{sep}{estimate.ci[1]:.{digits}{style}}]"


def with_interval(estimate: Estimate | None, digits: int = 2) -> str:
    """``0.55 [0.52,0.59]``: compact, for wide tables."""
    if estimate is None:
        return "-"
    return f"{estimate.value:.{digits}f}" + ("" if estimate.ci is None else f" {interval(estimate, digits, sep=',')}")


def loss_definition(trivial_loss: float | None) -> str:
    """What every loss kernelscale shows is, with the trivial predictor's loss to read it against."""
    return ("loss: the squared error summed over the target's columns (one per class for class labels), averaged "
            "over points" + ("" if trivial_loss is None else f"; predicting 0 scores {trivial_loss:.4g}") + ".")


def verdict_cell(word: str, sigma: float | None) -> str:
    """``agree 0.4σ``: the verdict and the gap in combined sigma (agree means at most 1.96)."""
    return word if sigma is None else f"{word} {sigma:.1f}σ"


# ---------------------------------------------------------------------------------------------------- predict


def print_prediction(p: Prediction, console: Console | None = None) -> None:
    console = console or Console()
    console.print(_prediction_table(p))
    console.print(f"alpha_K: lambda_i ~ i^-(1 + alpha_K), b = 1 + alpha_K; asymptotes: the exponents as D or P grow "
                  f"without bound; alpha_W: P random features of the {p.width_kernel.upper()} at infinite data; "
                  "4/d: the manifold estimate, a different estimate.")
    if p.learning_curve is not None:
        _print_curves(p, console)
    for note in p.notes:
        console.print(f"note: {note}")
    if p.preprocessing:
        console.print(f"preprocessing: {p.preprocessing}.")
    console.print(f"status: {p.status}" + (" (the worst of the fits below)" if p.target_fit is not None else "") + ".")
    for name, fit in zip(("alpha_K fit", "target fit"), p.fits):
        console.print(f"  {name}: {fit.status}. {fit.message}")
    if p.width_kernel_fit is not None:
        for name, fit in zip(("alpha_K fit", "target fit"), p.width_fits):
            if fit is not None:
                console.print(f"  {name} on the {p.width_kernel.upper()} (alpha_W asymptote): {fit.status}. "
                              f"{fit.message}")
    console.print(f"why {p.alpha_D_basis}: {p.recommendation}")
    for warning in p.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if p.eigensolver == "topk":
        source = ("the kernel tiles the job's processes keep" if p.processes > 1
                  else "kernel blocks computed on the fly")
        console.print(f"top-k eigensolver ({p.eigensolver_reason}): {p.n_eigs} eigenpairs from {source}; the fit uses "
                      f"indices up to {p.n_eigs // 2}.")
    where = f"kernel from the cache (computed on {p.device})" if p.from_cache else f"kernel on {p.device} x {p.devices}"
    if p.processes > 1:
        where += f" in a job of {p.processes} processes"
    if p.resumed_blocks:
        where += f" ({p.resumed_blocks} blocks reused from an interrupted run)"
    console.print(f"{where}; {p.seconds:.1f} s (kernel {p.kernel_seconds:.1f} s, eigendecomposition "
                  f"{p.eigh_seconds:.1f} s" + (f", intrinsic dimension {p.intrinsic_seconds:.1f} s"
                                               if p.intrinsic_dimension is not None else "") + ")")


def _prediction_table(p: Prediction) -> Table:
    table = Table(title=title("predict", p.arch, p.data, f"n={p.n}, {p.kernel.upper()}"))
    table.add_column("quantity")
    table.add_column("estimate", justify="right")
    table.add_column("interval", justify="right")
    table.add_column("basis")
    window = p.fit_window
    rows = [("alpha_K", p.alpha_K, f"tail, i = {window[0]}..{window[1]}" if window else str(p.status)),
            ("a (target decay)", p.target_decay, "v_i^2 ~ i^-a"),
            ("alpha_D kernel-only", p.alpha_D_kernel_only, "asymptote: alpha_K"),
            ("alpha_D task-aware", p.alpha_D_task_aware, "asymptote: min(a-1, 2b)"),
            ("[bold]alpha_D[/bold] (rec.)", p.alpha_D,
             f"L(D) at D = {p.alpha_D_at}" if p.alpha_D_at else f"{p.alpha_D_basis} asymptote"),
            ("[bold]alpha_W[/bold] (rec.)", p.alpha_W,
             f"L(P) at P = {p.alpha_W_at}" if p.alpha_W_at else f"{p.alpha_W_basis} asymptote"),
            ("alpha_W asymptote", p.alpha_W_asymptote,
             ("min(a-1, b)" if p.width_asymptote_basis == Basis.TASK_AWARE else "alpha_K")
             + f" of the {p.width_kernel.upper()}")]
    for label, estimate, basis in rows:
        table.add_row(label, number(estimate), interval(estimate), basis)
    d = p.intrinsic_dimension
    if d is not None:
        table.add_row("d (intrinsic)", f"{d.twonn:.2f} / {d.mle:.2f}", "-", f"TwoNN / MLE, k = {d.neighbors}" + (
            f", {d.n} random of {d.subsampled_from} points" if d.subsampled_from else ""))
        table.add_row("4/d (manifold)", f"{d.alpha_manifold_twonn:.3f} / {d.alpha_manifold_mle:.3f}", "-",
                      "not alpha_K")
    return table


def curves_table(table_title: str, curves: Sequence[PredictedCurve], n: int) -> Table:
    """One row per size: each curve's loss, band and local exponent; sizes past the reliable range marked ``*``."""
    table = Table(title=table_title)
    table.add_column("size", justify="right", no_wrap=True)
    for curve in curves:
        # a loss wraps between its value and its band when 80 columns are tight; sizes and exponents never do
        table.add_column(f"L({curve.x_name}) [95%]", justify="right")
        table.add_column("exp", justify="right", no_wrap=True)
    for i, size in enumerate(curves[0].sizes):
        cells = []
        for curve in curves:
            mark = "*" if size > curve.reliable_up_to else " "
            cells += [f"{curve.loss[i].value:.4g} {interval(curve.loss[i], 3, 'g')}",
                      f"{curve.local_exponent[i].value:.3f}{mark}"]
        table.add_row(f"{size}" + (" = n" if size == n else ""), *cells)
    return table


def _print_curves(p: Prediction, console: Console) -> None:
    curves = [p.learning_curve, p.width_curve]
    if p.learning_curve.sizes == p.width_curve.sizes:
        console.print(curves_table("predicted test loss", curves, p.n))
    else:
        for curve in curves:
            console.print(curves_table(f"predicted test loss L({curve.x_name})", [curve], p.n))
    console.print(f"L(D): kernel regression with the {p.kernel.upper()}, D training points; L(P): P random features "
                  f"of the {p.width_kernel.upper()} at infinite data; exp: local exponent. * past the reliable range "
                  f"(D > {p.learning_curve.reliable_up_to}, P > {p.width_curve.reliable_up_to}): "
                  f"{_continuation_words((p.learning_curve, p.width_curve))}. {loss_definition(p.trivial_loss)}")


def _continuation_words(curves: Sequence[PredictedCurve]) -> str:
    """How each curve continues past its reliable range, in words."""
    words = [f"L({c.x_name})'s local exponent moves toward {c.asymptote.value:.3f}" if c.asymptote is not None else
             f"L({c.x_name}) keeps its top-octave exponent (no task-aware asymptote)" for c in curves]
    rate = next((c.convergence_rate for c in curves if c.convergence_rate is not None), None)
    if rate is not None:
        words.append(f"as (size / reliable size)^-r, r = {rate.value:.3f} [{rate.ci[0]:.3f}, {rate.ci[1]:.3f}]")
    return ", ".join(words)


# ---------------------------------------------------------------------------------------------------- measure


def print_measurement(m: Measurement, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=title("measure", m.arch, m.data, f"n={m.n}, {m.kernel.upper()}"))
    # numbers never wrap; names and statuses wrap into what is left (80 columns suffice)
    table.add_column("regime", ratio=1, min_width=8)
    for column in ("range", "exponent (95%)", "expected"):
        table.add_column(column, no_wrap=True)
    table.add_column("status", ratio=1, min_width=6)
    for curve in m.curves.values():
        table.add_row(curve.regime, f"{curve.x_name} {curve.x[0]}..{curve.x[-1]}",
                      f"{number(curve.fit.exponent)} {interval(curve.fit.exponent)}", number(curve.expected),
                      str(curve.fit.status))
    console.print(table)
    for note in m.notes:
        console.print(f"note: {note}")
    for curve in m.curves.values():
        if curve.fit.message:
            console.print(f"{curve.regime}: {curve.fit.message}")
    console.print(f"{m.seconds:.1f} s")


# ---------------------------------------------------------------------------------------------------- compare


def print_comparison(c: Comparison, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=title("compare", c.arch, c.data, f"n={c.n}, {c.kernel.upper()}"))
    # numbers and verdicts never wrap; the short labels take what is left of 80 columns, the legend explains them
    table.add_column("estimate", ratio=1, min_width=10)
    for column in ("predicted", "measured (95%)", "verdict"):
        table.add_column(column, no_wrap=True)
    for row in c.rows:
        table.add_row(row.label, f"{number(row.predicted)} {interval(row.predicted)}",
                      f"{number(row.measured)} {interval(row.measured)}", verdict_cell(row.verdict, row.gap_sigma))
    console.print(table)
    for row in c.rows:
        why = f"; {row.note}" if row.kind == RowKind.W_READOUT and row.note else ""
        console.print(f"{row.label}: {row.kind.legend}{why}.")
    console.print("verdict: agree when |predicted - measured| <= sqrt(hp^2 + hm^2) (the facing 95% half-widths), "
                  "i.e. within 1.96 combined sigma; the gap is printed in sigma.")
    console.print(f"D-range {c.d_range[0]}..{c.d_range[1]}" +
                  (f", width range {c.width_range[0]}..{c.width_range[1]}" if c.width_range else ""))
    for warning in c.prediction.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    for note in c.prediction.notes:
        console.print(f"note: {note}")
    if c.prediction.alpha_D_at is not None:
        p = c.prediction
        console.print(f"past the measured range, predict's recommended alpha_D is L(D)'s local exponent at D = "
                      f"{p.alpha_D_at}: {number(p.alpha_D)} {interval(p.alpha_D)} (kernelscale predict explains it).")
    console.print(f"predict {c.seconds_predict:.1f} s, measure {c.seconds_measure:.1f} s "
                  f"(ratio {c.seconds_measure / max(c.seconds_predict, 1e-9):.1f})")


def print_pool_comparison(c: PoolComparison, console: Console | None = None) -> None:
    console = console or Console()
    console.print(title("compare --pool", c.arch, c.data, f"n={c.n} of a pool of {c.pool}, {c.kernel.upper()}"))
    for what, cells in (
            ("test loss", lambda r: (f"{r.predicted_loss.value:.4g} {interval(r.predicted_loss, 3, 'g')}",
                                     f"{r.measured_loss.value:.4g} {interval(r.measured_loss, 3, 'g')}",
                                     verdict_cell(r.loss_verdict, r.loss_gap_sigma))),
            ("local exponent", lambda r: (f"{number(r.predicted_exponent)} {interval(r.predicted_exponent)}",
                                          f"{number(r.measured_exponent)} {interval(r.measured_exponent)}",
                                          verdict_cell(r.exponent_verdict, r.exponent_gap_sigma)))):
        table = Table(title=f"{what}: predicted from the sample, measured past it")
        table.add_column("D", justify="right")
        for column in ("predicted (95%)", "measured (95%)", "verdict"):
            table.add_column(column, justify="right", no_wrap=True)
        for row in c.rows:
            table.add_row(str(row.size), *cells(row))
        console.print(table)
    console.print(f"measured: kernel regression on D of the pool's {c.pool - c.test_points} non-test points, tested on "
                  f"{c.test_points} held-out points the prediction never saw; local exponents between neighbouring "
                  f"sizes. Predicted: {c.prediction.learning_curve.assumptions}. "
                  f"{loss_definition(c.prediction.trivial_loss)}")
    console.print(f"predict {c.seconds_predict:.1f} s, measure {c.seconds_measure:.1f} s (pool kernel included)")


# ---------------------------------------------------------------------------------------------------- allocate


def print_allocation(a: Allocation, console: Console | None = None, *, e_given: bool = True) -> None:
    console = console or Console()
    fitted = bool(a.ci)
    table = Table(title=f"kernelscale allocate: C = {a.compute:.4g} ({a.cost.describe()})")
    for column in ("quantity", "value", "95% interval") if fitted else ("quantity", "value"):
        table.add_column(column)

    def row(label, value, name=None, source=None):
        cells = [label, f"{value:.4g}"]
        if fitted:
            cells.append(f"[{source[name][0]:.4g}, {source[name][1]:.4g}]" if source and name in source else "-")
        table.add_row(*cells)

    for label, value, name in (("N_opt", a.n_opt, "n_opt"), ("D_opt", a.d_opt, "d_opt"),
                               ("a_N (N_opt ~ C^a_N)", a.a, "a"), ("a_D (D_opt ~ C^a_D)", a.b, "b")):
        row(label, value, name, a.ci)
    row("loss at optimum" if e_given else "loss at optimum - E", a.loss_opt)
    row("D_opt / N_opt", a.tokens_per_parameter)
    for name in ("E", "A", "B", "alpha", "beta") if e_given else ("A", "B", "alpha", "beta"):
        row(f"model {name}", getattr(a.model, name), name, a.model_ci)
    console.print(table)
    if a.fit is not None:
        console.print(f"fitted to {len(a.fit.n_values)} x {len(a.fit.d_values)} measured losses "
                      f"({a.fit.source.get('arch', '')} on {a.fit.source.get('data', '')}); "
                      f"rms log residual {a.fit.rms_log_residual:.3f}")
    else:
        console.print("no intervals: the loss model was given, not fitted (--arch and --data fit it to measured "
                      "losses, with bootstrap intervals).")
    if not e_given:
        console.print("E not given: N_opt, D_opt and their exponents do not depend on it; the loss at the optimum is "
                      "shown without it.")
    console.print("a_N, a_D: how N_opt and D_opt grow with the budget (the JSON's a and b).")
    console.print(a.explanation)


def print_spectral_allocation(a: SpectralAllocation, console: Console | None = None) -> None:
    """The optimum at C and its exponents, predicted (with --check: measured beside, loss exponent first)."""
    console = console or Console()
    regime = (f"one-pass SGD (learning rate {a.learning_rate:g}, batch {a.batch})" if a.regime == "one-pass-sgd"
              else "a fixed data set trained to convergence (ridge tuned)")
    table = Table(title=title("allocate", a.arch, a.data, f"n={a.n}, {a.kernel.upper()}"))
    for column in ("quantity", "predicted (95%)"):
        table.add_column(column, no_wrap=True, justify="left" if column == "quantity" else "right")
    samples = "steps* x batch" if a.regime == "one-pass-sgd" else "D*, the data set"
    for label, estimate, digits in ((f"N* at C = {a.compute:.3g}", a.n_opt, 4), (f"s* ({samples})", a.samples_opt, 4),
                                    ("L* (loss at the optimum)", a.loss_opt, 4)):
        table.add_row(label, f"{estimate.value:.{digits}g} {interval(estimate, digits, 'g')}")
    table.add_row("eta: L* ~ C^-eta, local", with_interval(a.loss_exponent, 3))
    table.add_row(f"eta, asymptote ({a.phase})", with_interval(a.loss_exponent_asymptote, 3))
    table.add_row("xi: N* ~ C^xi, local", with_interval(a.n_exponent, 3))
    table.add_row(f"xi, asymptote ({a.phase})", with_interval(a.n_exponent_asymptote, 3))
    table.add_row("b (kernel), a (target)", f"{a.kernel_decay.value:.2f}, {a.target_decay.value:.2f}")
    console.print(table)
    low, high = a.exponent_budgets
    console.print(f"{a.kernel.upper()} random features trained by {regime}, predicted from the spectrum. "
                  f"Local exponents over C = {low:.3g}..{high:.3g}; intervals: the four corners of the fits' "
                  f"intervals of (b, a). {phase_words(a)} (docs/theory.md). "
                  f"C = N x samples; {loss_definition(a.trivial_loss)}", highlight=False)
    if a.check is not None:
        _print_frontier_check(a.check, console)
    for note in a.notes:
        console.print(note, highlight=False)
    console.print(a.caveat, highlight=False)
    console.print(f"predicted in {a.seconds:.1f} s" + ("" if a.check is None else
                                                       f"; checked in {a.check.seconds:.1f} s"), highlight=False)


def phase_words(a: SpectralAllocation) -> str:
    """What the phase is, in words: of one-pass SGD, or of a fixed data set trained to convergence."""
    if a.regime == "one-pass-sgd":
        return f"Phase {a.phase} of one-pass SGD on random features"
    return f"The {a.phase} regime of a fixed data set (alpha_N = min(a - 1, b), beta_D = min(a - 1, 2b))"


def _print_frontier_check(c: FrontierCheck, console: Console) -> None:
    table = Table(title=f"--check: one-pass SGD on readout features, C = {c.budgets[0]:.3g}..{c.budgets[1]:.3g}")
    for column in ("exponent", "predicted", "measured (95%)", "verdict"):
        table.add_column(column, no_wrap=True, justify="left" if column == "exponent" else "right")
    table.add_row("eta (L*)", with_interval(c.loss_exponent_predicted, 3), with_interval(c.loss_exponent_measured, 3),
                  verdict_cell(c.loss_exponent_verdict, c.loss_exponent_gap_sigma))
    table.add_row("xi (N*)", with_interval(c.n_exponent_predicted, 3), with_interval(c.n_exponent_measured, 3),
                  verdict_cell(c.n_exponent_verdict, c.n_exponent_gap_sigma))
    console.print(table)
    span = c.decades_of_features
    console.print(f"widths {','.join(map(str, c.widths))} (N = {c.features[0]}..{c.features[-1]} features); the "
                  f"measured N* spans {span:.2f} decades" + (
                      ": too short a range for xi, which converges slowly at these sizes (0.06 to 0.15 low at "
                      "N* < 450 in scratch runs); read eta first" if span < 1.5 else "") + ".", highlight=False)
    if c.diverged:
        console.print(f"one-pass SGD diverged at this step for {', '.join(c.diverged)}: those losses stop there "
                      "(lower --learning-rate to train them).", highlight=False)
    if c.fresh:
        console.print(f"every step drew new points ({c.pool} in all); {c.test_points} more held out for the test "
                      "loss.", highlight=False)
    else:
        console.print(f"a finite data set: {c.test_points} points held out, {c.pool} to train on, each used up to "
                      f"{c.reuse:.2g} times" + (": past 1 this leaves the one-pass theory, which assumes fresh "
                                                 "samples" if c.reuse > 1 else "") + ".", highlight=False)


# ---------------------------------------------------------------------------------------------------- sweep


def print_sweep(s: Sweep, console: Console | None = None) -> None:
    """Two tables that fit 80 columns: the predictions per value, and (with --compare) the theory against the
    measured exponent over the measured D-range, each verdict beside the two numbers it judges."""
    console = console or Console()
    table = Table(title=f"kernelscale sweep: {s.applies_to} option {s.parameter} (n={s.n}, {s.kernel.upper()})")
    for column in (s.parameter, "alpha_K", "a", "alpha_D rec. (95%)", "d", "4/d"):
        table.add_column(column, no_wrap=True, justify="right" if column != s.parameter else "left")
    for point in s.points:
        p, d = point.prediction, point.prediction.intrinsic_dimension
        table.add_row(point.value, number(p.alpha_K, 2), number(p.target_decay, 2), with_interval(p.alpha_D),
                      "-" if d is None else f"{d.twonn:.1f}", "-" if d is None else f"{d.alpha_manifold_twonn:.2f}")
    console.print(table)
    at = s.points[0].prediction.alpha_D_at
    console.print("alpha_D rec.: the recommended prediction, the predicted learning curve's local exponent at "
                  + (f"D = {at}" if at else "its size") + "; a: target decay; d: TwoNN intrinsic dimension, 4/d the "
                  "manifold estimate (a different estimate).")
    if any(point.comparison is not None for point in s.points):
        checked = Table(title="the theory against kernel regression over the measured D-range")
        for column in (s.parameter, "D-range", "theory", "measured (95%)", "verdict"):
            checked.add_column(column, no_wrap=True, justify="right" if column != s.parameter else "left")
        for point in s.points:
            c = point.comparison
            if c is None:
                continue
            theory = c.rows[0]
            checked.add_row(point.value, f"{c.d_range[0]}..{c.d_range[1]}", number(c.alpha_D_predicted, 2),
                            with_interval(c.alpha_D_measured), verdict_cell(theory.verdict, theory.gap_sigma))
        console.print(checked)
    for point in s.points:
        if point.prediction.alpha_D is None:
            console.print(f"{s.parameter}={point.value}: {point.prediction.message}")
    console.print(f"{s.seconds:.1f} s")


PRINTERS = {Prediction: print_prediction, Measurement: print_measurement, Comparison: print_comparison,
            PoolComparison: print_pool_comparison, Allocation: print_allocation, Sweep: print_sweep,
            SpectralAllocation: print_spectral_allocation}


def print_result(result, console: Console | None = None, **options) -> None:
    """The tables and messages of any command's result."""
    PRINTERS[type(result)](result, console, **options)
