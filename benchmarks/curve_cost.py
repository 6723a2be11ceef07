"""What the predicted curves L(D) and L(P) add to ``predict`` (issue: predict past the sample, item 6).

In one process: ``predict`` as it runs now (default sizes, both curves) against the same call with the curves
switched off (``kernelscale.predict``'s ``predict_curve`` replaced by a function that returns None: predict as it was before
the curves), alternating, best of 5 each, kernels from a warmed cache (so the ratio is over the rest of predict's
work, the most demanding comparison) with and without the intrinsic dimension.

    uv run python benchmarks/curve_cost.py [--cases digits:1797 mnist5k:3000]
"""

import argparse
import importlib
import time

from _machine import describe

import kernelscale as ks

api = importlib.import_module("kernelscale.predict")  # the module (kernelscale.predict is the function)

ARCH = "fc:depth=3,act=relu"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", nargs="+", default=["digits:1797", "mnist5k:3000"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(describe())
    print(f"arch {ARCH}, NTK; kernels from the cache; best of {args.runs} alternating runs\n")
    print("| data | n | intrinsic dimension | predict with curves s | without s | ratio | curves' own s |")
    print("|---|---|---|---|---|---|---|")
    with_curves = api.predict_curve
    for case in args.cases:
        data, n = case.split(":")
        n = int(n)
        ks.predict(ARCH, data, n_samples=n)  # warms the kernel cache, the jit and the imports
        for intrinsic in (True, False):
            times = {"with": [], "without": []}
            curve_seconds = []
            for _ in range(args.runs):
                for mode in ("with", "without"):
                    def timed(*a, **k):
                        t = time.perf_counter()
                        out = with_curves(*a, **k)
                        curve_seconds.append(time.perf_counter() - t)
                        return out

                    api.predict_curve = timed if mode == "with" else (lambda *a, **k: None)
                    start = time.perf_counter()
                    ks.predict(ARCH, data, n_samples=n, intrinsic=intrinsic)
                    times[mode].append(time.perf_counter() - start)
            api.predict_curve = with_curves
            best_with, best_without = min(times["with"]), min(times["without"])
            own = min(a + b for a, b in zip(curve_seconds[::2], curve_seconds[1::2]))
            print(f"| {data} | {n} | {'on' if intrinsic else 'off'} | {best_with:.3f} | {best_without:.3f} | "
                  f"{best_with / best_without:.3f} | {own:.3f} |", flush=True)


if __name__ == "__main__":
    main()
