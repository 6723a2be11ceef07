"""Predicted against measured exponents on a matrix of cases (`kernelscale compare`).

For each case: ``kernelscale.compare`` on one sample (predict, learning-curve theory, kernel-regression curve; the
width theory E_W(P) on the NNGP spectrum against linear random features and against finite networks' readout
features; at depth >= 2 of an FC network also the finite-width check). Prints two markdown tables, alpha_D and
alpha_W, with the measured exponents' 95% intervals, verdicts, differences and seconds, then a summary of which
rows met the goals (alpha_D within 0.03; alpha_W within 0.03 of linear_rf everywhere and of the readout at depth
1 and 2). Writes ``benchmarks/results/compare.md`` and the scatter plot ``docs/compare_scatter.png``.

    uv run python benchmarks/compare.py [--quick] [--only SUBSTRING] [--resume]
"""

import argparse
import re
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from _machine import describe, fmt

import kernelscale as ks

GOAL = 0.03
CASE_DIR = Path(__file__).parent / "results" / "compare_cases"
SPHERES = [("sphere:dim=3,target=gp", 2000), ("sphere:dim=4,target=gp", 2000)]
REAL = [("digits", 1797), ("mnist5k", 3000)]
CASES = [  # (arch, data, n, kernel)
    *[(f"fc:depth={depth},act={act}", data, n, "ntk") for data, n in SPHERES + REAL
      for depth in (1, 2) for act in ("relu", "erf", "gelu")],
    ("fc:depth=3,act=relu", "sphere:dim=3,target=gp", 2000, "ntk"),
    ("fc:depth=3,act=relu", "sphere:dim=4,target=gp", 2000, "ntk"),
    ("fc:depth=3,act=relu", "teacher:dim=3", 2000, "ntk"),
    ("fc:depth=3,act=relu", "digits", 1797, "ntk"),
    ("fc:depth=4,act=relu", "digits", 1797, "ntk"),
    ("fc:depth=3,act=erf", "digits", 1797, "ntk"),
    ("fc:depth=3,act=relu", "digits", 1797, "nngp"),
    ("fc:depth=3,act=relu", "mnist5k", 3000, "ntk"),
    ("cnn:depth=2,act=relu", "digits", 1000, "ntk"),
]


def _short(data: str) -> str:
    return data.split(":")[0] if data in ("digits", "mnist5k") else data.replace(",target=gp", " GP")


def _diff(a, b) -> str:
    return "-" if a is None or b is None else f"{a.value - b.value:+.3f}"


def _rows(c):
    """The recommended alpha_D row, and the alpha_W rows by kind: linear_rf, readout, finite-width check."""
    kinds = {}
    names = {ks.RowKind.W_FINITE_WIDTH: "fw", ks.RowKind.W_LINEAR_RF: "rf", ks.RowKind.W_READOUT: "readout"}
    for row in c.rows:
        if row.kind in names:
            kinds[names[row.kind]] = row
    return c.rows[0], kinds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="the first three cases only")
    parser.add_argument("--only", default=None, help="cases whose arch or data contains this string")
    parser.add_argument("--match", default=None, help="cases whose 'arch data' matches this regular expression, e.g. "
                        "'fc:depth=1,act=(relu|erf) (digits|mnist5k|sphere:dim=3)'")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the cases saved by an interrupted run of the same code (results/compare_cases)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "compare.md"))
    parser.add_argument("--scatter", default=str(Path(__file__).parent.parent / "docs" / "compare_scatter.png"))
    args = parser.parse_args()
    cases = CASES[:3] if args.quick else CASES
    if args.only:
        cases = [case for case in cases if args.only in case[0] or args.only in case[1]]
    if args.match:
        cases = [case for case in cases if re.search(args.match, f"{case[0]} {case[1]}")]
    print(describe(), "\n", flush=True)
    results = []
    for arch, data, n, kernel in cases:
        depth = int(arch.split("depth=")[1].split(",")[0])
        finite = arch.startswith("fc") and depth >= 2
        saved = CASE_DIR / f"{arch}_{data}_{n}_{kernel}.json".replace(":", "-").replace(",", "-")
        if args.resume and saved.exists():
            c = ks.Comparison.from_json(saved.read_text())
        else:
            try:
                c = ks.compare(arch, data, n_samples=n, kernel=kernel, repeats=5, seed=0, finite_width=finite)
            except ks.KernelscaleError as exc:
                print(f"{arch} {data}: error: {exc}", flush=True)
                continue
            CASE_DIR.mkdir(parents=True, exist_ok=True)
            saved.write_text(c.to_json())
        d_row, w = _rows(c)
        print(f"{arch} {_short(data)} {kernel}: alpha_D {fmt(c.alpha_D_predicted)}/{fmt(c.alpha_D_measured)}; "
              f"E_W {fmt(w['rf'].predicted)} linear_rf {fmt(w['rf'].measured)}; E_W {fmt(w['readout'].predicted)} "
              f"readout {fmt(w['readout'].measured)}"
              + (f"; finite-width {fmt(w['fw'].predicted)} ({c.seconds_finite_width:.1f} s)" if "fw" in w else ""),
              flush=True)
        results.append((arch, data, kernel, depth, c))

    lines = [describe(), "", "alpha_D (recommended: the learning-curve theory over the measured D-range):", "",
             "| arch | data | n | kernel | D-range | theory | kernel-only | task-aware | measured | verdict | diff | "
             "predict s | measure s |", "|" + "---|" * 13]
    for arch, data, kernel, depth, c in results:
        d_row, _ = _rows(c)
        lines.append(f"| {arch} | {_short(data)} | {c.n} | {kernel} | {c.d_range[0]}..{c.d_range[1]} | "
                     f"{fmt(c.alpha_D_predicted)} | "
                     f"{fmt(c.prediction.alpha_D_kernel_only)} | "
                     f"{fmt(c.prediction.alpha_D_task_aware)} | "
                     f"{fmt(c.alpha_D_measured)} | {d_row.verdict} | "
                     f"{_diff(c.alpha_D_predicted, c.alpha_D_measured)} | {c.seconds_predict:.1f} | "
                     f"{c.seconds_measure:.1f} |")
    lines += ["", "alpha_W (theory E_W(P) on the NNGP spectrum; linear_rf against P, readout against width; "
              "finite-width check at depth >= 2):", "",
              "| arch | data | widths | theory (P) | linear_rf | diff | theory (width) | readout | verdict | diff | "
              "finite-width check | diff | check s |", "|" + "---|" * 13]
    for arch, data, kernel, depth, c in results:
        _, w = _rows(c)
        fw = w.get("fw")
        check = (f"{fmt(fw.predicted)} | {_diff(fw.predicted, fw.measured)} | "
                 f"{c.seconds_finite_width:.1f} |") if fw else "- | - | - |"
        lines.append(f"| {arch} | {_short(data)} | {c.width_range[0]}..{c.width_range[1]} | "
                     f"{fmt(w['rf'].predicted)} | {fmt(w['rf'].measured)} "
                     f"| {_diff(w['rf'].predicted, w['rf'].measured)} | "
                     f"{fmt(w['readout'].predicted)} | "
                     f"{fmt(w['readout'].measured)} | {w['readout'].verdict} | "
                     f"{_diff(w['readout'].predicted, w['readout'].measured)} | {check}")
    lines += ["", f"Goals (|difference| <= {GOAL}):"]
    for label, picks in (
            ("alpha_D theory against kernel regression", [(r, r[4].alpha_D_predicted, r[4].alpha_D_measured)
                                                          for r in results]),
            ("alpha_W theory against linear_rf", [(r, _rows(r[4])[1]["rf"].predicted, _rows(r[4])[1]["rf"].measured)
                                                  for r in results]),
            ("alpha_W theory against the readout, depth 1 and 2",
             [(r, _rows(r[4])[1]["readout"].predicted, _rows(r[4])[1]["readout"].measured)
              for r in results if r[3] <= 2 and r[0].startswith("fc")])):
        failed = [f"{r[0]} {_short(r[1])} {r[2]} ({_diff(p, m)})" for r, p, m in picks if abs(p.value - m.value) > GOAL]
        lines.append(f"- {label}: {len(picks) - len(failed)} of {len(picks)} rows within {GOAL}"
                     + (f"; missed: {'; '.join(failed)}" if failed else ""))
    deep = [r for r in results if r[3] >= 3 and "fw" in _rows(r[4])[1]]
    for r in deep:
        w = _rows(r[4])[1]
        lines.append(f"- {r[0]} {_short(r[1])}: readout gap "
                     f"{_diff(w['readout'].predicted, w['readout'].measured)} with the NNGP theory, "
                     f"{_diff(w['fw'].predicted, w['fw'].measured)} with the finite-width check")
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    Path(args.out).write_text(text)

    fig, ax = plt.subplots(figsize=(6, 6))
    for marker, pick, label in (("o", lambda c, w: (c.alpha_D_predicted, c.alpha_D_measured), "alpha_D"),
                                ("s", lambda c, w: (w["rf"].predicted, w["rf"].measured), "alpha_W, linear_rf"),
                                ("^", lambda c, w: (w["readout"].predicted, w["readout"].measured),
                                 "alpha_W, readout")):
        first = True
        for *_, c in results:
            p, m = pick(c, _rows(c)[1])
            predicted, ci, measured, mci = p.value, p.ci, m.value, m.ci
            ax.errorbar(measured, predicted, xerr=[[measured - mci[0]], [mci[1] - measured]],
                        yerr=[[predicted - ci[0]], [ci[1] - predicted]], fmt=marker, ms=4, capsize=2,
                        color={"o": "C0", "s": "C1", "^": "C2"}[marker], label=label if first else None)
            first = False
    values = [v.value for *_, c in results for v in (c.alpha_D_measured, c.alpha_D_predicted, c.alpha_W_measured)]
    span = [0.8 * min(values), 1.25 * max(values)]
    ax.plot(span, span, "k--", lw=1, label="predicted = measured")
    ax.set(xscale="log", yscale="log", xlabel="measured exponent", ylabel="predicted exponent",
           title="kernelscale compare (log axes; error bars: 95% intervals)")
    ticks = [t for t in (0.3, 0.5, 1.0, 2.0, 4.0) if span[0] <= t <= span[1]]
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
        axis.set_major_formatter(matplotlib.ticker.FixedFormatter([f"{t:g}" for t in ticks]))
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.scatter, dpi=110)
    print(f"wrote {args.out} and {args.scatter}")


if __name__ == "__main__":
    main()
