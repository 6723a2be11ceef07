"""Dataset sweeps (issue: allocation, intrinsic dimension, sweeps; item 3): the shape of Bahri et al.'s experiments
on the data available offline. Class grouping (their CIFAR-100 superclasses) and Gaussian input noise (their
CIFAR-10 noise) on digits and mnist5k, with predicted and measured alpha_D per variant; depth and activation on digits.

    uv run python benchmarks/sweep.py [--quick]

Writes ``benchmarks/results/sweep.md`` and ``docs/sweep_<data>_<option>.png``.
"""

import argparse
import time
from pathlib import Path

from _machine import describe, fmt

import kernelscale as ks
from kernelscale.plots import plot_sweep

SWEEPS = [  # (arch, data, n, option, values, compare)
    ("fc:depth=3,act=relu", "digits", 1797, "classes", [10, 5, 2], True),
    ("fc:depth=3,act=relu", "digits", 1797, "input_noise", [0, 0.25, 0.5, 1.0], True),
    ("fc:depth=3,act=relu", "mnist5k", 3000, "classes", [10, 5, 2], True),
    ("fc:depth=3,act=relu", "mnist5k", 3000, "input_noise", [0, 0.25, 0.5, 1.0], True),
    ("fc:depth=3,act=relu", "digits", 1797, "depth", [1, 2, 3, 4], True),
    ("fc:depth=3", "digits", 1797, "act", ["relu", "erf", "gelu"], True),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="first sweep only, n = 1000")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "sweep.md"))
    parser.add_argument("--figures", default=str(Path(__file__).parent.parent / "docs"))
    args = parser.parse_args()
    lines = [describe(), "",
             "| arch | data | n | option | value | alpha_K | target a | alpha_D recommended (L(D) at 10 n) | d TwoNN / MLE | "
             "4/d | "
             "alpha_D theory (D-range) | alpha_D measured | verdict | sweep total s |",
             "|" + "---|" * 14]
    print("\n".join(lines), flush=True)
    for arch, data, n, option, values, with_compare in SWEEPS[:1] if args.quick else SWEEPS:
        n = 1000 if args.quick else n
        start = time.perf_counter()
        result = ks.sweep(arch, data, parameter=option, values=values, n_samples=n, with_compare=with_compare)
        for point in result.points:
            p, c, d = point.prediction, point.comparison, point.prediction.intrinsic_dimension
            row = (f"| {arch} | {data} | {n} | {option} | {point.value} | {fmt(p.alpha_K)} | "
                   f"{fmt(None if p.target_decay is None else p.target_decay.value)} | {fmt(p.alpha_D)} | {d.twonn:.2f} / {d.mle:.2f} | "
                   f"{d.alpha_manifold_twonn:.3f} | "
                   f"{fmt(c.alpha_D_predicted) if c else '-'} | "
                   f"{fmt(c.alpha_D_measured) if c else '-'} | "
                   f"{c.rows[0].verdict if c else '-'} | {time.perf_counter() - start:.0f} |")
            lines.append(row)
            print(row, flush=True)
        if not args.quick:
            plot_sweep(result, Path(args.figures) / f"sweep_{data}_{option}.png")
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
