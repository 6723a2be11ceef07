"""Predicted against measured exponents on a matrix of cases (issue: measure and compare, item 6).

For each case: ``kernelscale.compare`` (predict, learning-curve theory, kernel-regression curve, readout random-feature
curve) on the same sample; prints a markdown table with the recommended prediction, the kernel-only duality estimate
beside it, the measured exponents with 95% intervals, verdicts, and seconds spent predicting and measuring. Writes
``benchmarks/results/compare.md`` and a scatter plot ``docs/compare_scatter.png`` (predicted against measured,
y = x line, error bars).

    uv run python benchmarks/compare.py [--quick]
"""

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from _machine import describe, fmt

import kernelscale as ks

CASES = [  # (arch, data, n, kernel)
    ("fc:depth=3,act=relu", "sphere:dim=3,target=gp", 2000, "ntk"),
    ("fc:depth=3,act=relu", "sphere:dim=4,target=gp", 2000, "ntk"),
    ("fc:depth=3,act=relu", "teacher:dim=3", 2000, "ntk"),
    ("fc:depth=3,act=relu", "digits", 1797, "ntk"),
    ("fc:depth=3,act=relu", "mnist5k", 3000, "ntk"),
    ("fc:depth=1,act=relu", "digits", 1797, "ntk"),
    ("fc:depth=2,act=relu", "digits", 1797, "ntk"),
    ("fc:depth=4,act=relu", "digits", 1797, "ntk"),
    ("fc:depth=1,act=erf", "digits", 1797, "ntk"),
    ("fc:depth=3,act=erf", "digits", 1797, "ntk"),
    ("fc:depth=3,act=relu", "digits", 1797, "nngp"),
    ("cnn:depth=2,act=relu", "digits", 1000, "ntk"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="first three cases only")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "compare.md"))
    parser.add_argument("--scatter", default=str(Path(__file__).parent.parent / "docs" / "compare_scatter.png"))
    args = parser.parse_args()
    lines = [describe(), "",
             "| arch | data | n | kernel | D-range | alpha_D theory (recommended) | alpha_D kernel-only | "
             "alpha_D task-aware | alpha_D measured | verdict | diff | alpha_W theory | alpha_W measured | "
             "verdict | predict s | measure s | ratio |",
             "|" + "---|" * 17]
    print("\n".join(lines), flush=True)
    points = []
    for arch, data, n, kernel in CASES[:3] if args.quick else CASES:
        start = time.perf_counter()
        try:
            c = ks.compare(arch, data, n_samples=n, kernel=kernel, repeats=5, seed=0)
        except ks.KernelscaleError as exc:
            line = f"| {arch} | {data} | {n} | {kernel} | error: {exc} |"
            print(line, flush=True)
            lines.append(line)
            continue
        d_row, w_row = c.rows[0], c.rows[-1]
        diff = c.alpha_D_predicted - c.alpha_D_measured
        line = (f"| {arch} | {data.split(':')[0] if data in ('digits', 'mnist5k') else data} | {c.n} | {kernel} | "
                f"{c.d_range[0]}..{c.d_range[1]} | {fmt(c.alpha_D_predicted, c.alpha_D_predicted_ci)} | "
                f"{fmt(c.prediction.alpha_D_kernel_only, c.prediction.alpha_D_kernel_only_ci)} | "
                f"{fmt(c.prediction.alpha_D_task_aware, c.prediction.alpha_D_task_aware_ci)} | "
                f"{fmt(c.alpha_D_measured, c.alpha_D_measured_ci)} | {d_row.verdict} | {diff:+.3f} | "
                f"{fmt(c.alpha_W_predicted, c.alpha_W_predicted_ci)} | "
                f"{fmt(c.alpha_W_measured, c.alpha_W_measured_ci)} | {w_row.verdict} | "
                f"{c.seconds_predict:.1f} | {c.seconds_measure:.1f} | "
                f"{c.seconds_measure / c.seconds_predict:.1f} |")
        print(line, flush=True)
        lines.append(line)
        points.append((f"{arch.split(',')[0]} {data.split(':')[0]} {kernel}", c))
        del start
    Path(args.out).write_text("\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(6, 6))
    for label, c in points:
        for predicted, ci, measured, mci, marker in (
                (c.alpha_D_predicted, c.alpha_D_predicted_ci, c.alpha_D_measured, c.alpha_D_measured_ci, "o"),
                (c.alpha_W_predicted, c.alpha_W_predicted_ci, c.alpha_W_measured, c.alpha_W_measured_ci, "s")):
            if predicted is None or measured is None:
                continue
            ax.errorbar(measured, predicted, xerr=[[measured - mci[0]], [mci[1] - measured]],
                        yerr=[[predicted - ci[0]], [ci[1] - predicted]], fmt=marker, ms=4, capsize=2)
    top = max([1.0] + [max(c.alpha_D_measured, c.alpha_D_predicted) for _, c in points])
    ax.plot([0, top], [0, top], "k--", lw=1, label="y = x")
    ax.set(xlabel="measured exponent", ylabel="predicted exponent",
           title="kernelscale compare: alpha_D (circles), alpha_W (squares)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.scatter, dpi=110)
    print(f"\nwrote {args.out} and {args.scatter}")


if __name__ == "__main__":
    main()
