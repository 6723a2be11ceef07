"""Trained networks beside the kernel and random-feature models (issue: measure and compare, item 5).

For each case, ``kernelscale.compare(..., trained=True)`` on one sample: the learning-curve theory's alpha_D and
alpha_W; alpha_D measured by kernel regression (infinite-width network) and by trained networks of width 64 over the
same D-range; alpha_W measured by readout random features and by trained networks against width on all training
points. Trained networks: Adam, cosine-decayed step size 3e-3, 3000 full-batch steps, float32, zero readout, early
stopping on a validation split (kernelscale/training.py). Prints a markdown table with seconds per case, writes
``benchmarks/results/trained.md`` and ``docs/trained_curves.png`` (loss against D and against width, per model).

    uv run python benchmarks/trained.py [--quick] [--steps S]
"""

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _machine import describe, fmt

import kernelscale as ks
from kernelscale.plots import readable_log_ticks
from kernelscale.report import short_title

CASES = [  # (arch, data, n)
    ("fc:depth=3,act=relu", "sphere:dim=3,target=gp", 2000),
    ("fc:depth=3,act=relu", "digits", 1797),
    ("fc:depth=3,act=relu", "mnist5k", 3000),
]




def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="first case only, 1000 steps")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--only", default=None, help="cases whose data contains this string")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "trained.md"))
    parser.add_argument("--figure", default=str(Path(__file__).parent.parent / "docs" / "trained_curves.png"))
    args = parser.parse_args()
    settings = ks.TrainingSettings(steps=1000 if args.quick else args.steps)
    lines = [describe(), "", f"training: {settings}", "",
             "| data | n | alpha_D theory | alpha_D kernel regression | alpha_D trained (width 64) | verdict | "
             "alpha_W theory E_W (trained widths) | alpha_W readout features (16..) | alpha_W trained | "
             "trained width curve | verdict | "
             "trained test loss at largest D / width | predict s | measure s |",
             "|" + "---|" * 14]
    print("\n".join(lines), flush=True)
    results = []
    cases = [case for case in (CASES[:1] if args.quick else CASES) if args.only is None or args.only in case[1]]
    for arch, data, n in cases:
        start = time.perf_counter()
        c = ks.compare(arch, data, n_samples=n, repeats=5, seed=0, trained=True, training=settings)
        trained_d, trained_w = c.row(ks.RowKind.D_TRAINED), c.row(ks.RowKind.W_TRAINED)
        curves = c.measurement.curves
        width_curve = curves["trained_width"]
        line = (f"| {data} | {c.n} | {fmt(trained_d.predicted)} | "
                f"{fmt(c.alpha_D_measured)} | "
                f"{fmt(trained_d.measured)} | {trained_d.verdict} | "
                f"{fmt(trained_w.predicted)} | "
                f"{fmt(c.alpha_W_measured)} | "
                f"{fmt(trained_w.measured)} | "
                f"{width_curve.x[0]}..{width_curve.x[-1]} at D = {width_curve.settings['D']}, "
                f"{width_curve.fit.status} | {trained_w.verdict} | "
                f"{np.mean(curves['trained_data'].losses[-1]):.4f} / {np.mean(width_curve.losses[-1]):.4f} | "
                f"{c.seconds_predict:.1f} | {c.seconds_measure:.1f} |")
        print(line, flush=True)
        for curve in (curves["trained_data"], width_curve):
            if curve.fit.message:
                print(f"  {data} {curve.regime}: {curve.fit.message}", flush=True)
        lines.append(line)
        results.append((data, c))
        del start
    Path(args.out).write_text("\n".join(lines) + "\n")
    fig, axes = plt.subplots(len(results), 2, figsize=(10, 3.4 * len(results)), squeeze=False)
    for (data, c), (ax_d, ax_w) in zip(results, axes):
        curves = c.measurement.curves
        for regime, ax, label in (("data", ax_d, "kernel regression (NTK)"), ("trained_data", ax_d, "trained, width 64"),
                                  ("width", ax_w, "readout random features"), ("trained_width", ax_w, "trained")):
            curve = curves[regime]
            ax.errorbar(curve.x, np.mean(curve.losses, axis=1), yerr=np.std(curve.losses, axis=1), marker="o",
                        ms=3, capsize=2, label=f"{label}: {fmt(curve.fit.exponent)}")
        ax_d.plot(c.theory_sizes, c.theory_errors, "k--", lw=1, label="theory E_g(D), held out")
        name = short_title(c.arch, c.data)
        ax_d.set(xscale="log", yscale="log", xlabel="training-set size D", ylabel="held-out test MSE",
                 title=f"{name}: loss against D")
        ax_w.set(xscale="log", yscale="log", xlabel="network width",
                 ylabel="test MSE (readout: on the pool, infinite data)", title=f"{name}: loss against width")
        for ax in (ax_d, ax_w):
            ax.title.set_fontsize(9)
            ax.legend(fontsize=7)
            readable_log_ticks(ax)
    fig.tight_layout()
    fig.savefig(args.figure, dpi=100)
    print(f"\nwrote {args.out} and {args.figure}")


if __name__ == "__main__":
    main()
