"""What the predicted curves L(D) and L(P) and the width kernel add to ``predict`` (issue 24, item 7).

In one process, alternating, best of 5 each, kernels from a warmed cache (so each ratio is over the rest of
predict's work, the most demanding comparison), with and without the intrinsic dimension:

* ``default``: ``predict`` as users run it: both curves, L(P) on the NNGP (a second kernel, its eigendecomposition
  and its tail fits, beside the NTK's);
* ``one kernel``: the same with ``width_kernel="ntk"``: both curves on the NTK's spectrum;
* ``no curves``: ``width_kernel="ntk"`` with ``kernelscale.predict``'s ``predict_curve`` replaced by a function
  that returns None (predict as it was before the curves).

    uv run python benchmarks/curve_cost.py [--cases digits:1797 mnist5k:3000]
"""

import argparse
import importlib
import time

from _machine import describe

import kernelscale as ks

api = importlib.import_module("kernelscale.predict")  # the module (kernelscale.predict is the function)

ARCH = "fc:depth=3,act=relu"
MODES = ("default", "one kernel", "no curves")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", nargs="+", default=["digits:1797", "mnist5k:3000"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(describe())
    print(f"arch {ARCH}, NTK (L(P) on the NNGP by default); kernels from the cache; best of {args.runs} alternating "
          "runs\n")
    print("| data | n | intrinsic dimension | default s | one kernel s | no curves s | default / no curves | "
          "one kernel / no curves | curves' own s |")
    print("|---|---|---|---|---|---|---|---|---|")
    with_curves = api.predict_curve
    for case in args.cases:
        data, n = case.split(":")
        n = int(n)
        ks.predict(ARCH, data, n_samples=n)  # warms both kernels' cache, the jit and the imports
        for intrinsic in (True, False):
            times = {mode: [] for mode in MODES}
            curve_seconds = []
            for _ in range(args.runs):
                for mode in MODES:
                    def timed(*a, **k):
                        t = time.perf_counter()
                        out = with_curves(*a, **k)
                        curve_seconds.append(time.perf_counter() - t)
                        return out

                    api.predict_curve = (lambda *a, **k: None) if mode == "no curves" else timed
                    start = time.perf_counter()
                    ks.predict(ARCH, data, n_samples=n, intrinsic=intrinsic,
                               width_kernel="nngp" if mode == "default" else "ntk")
                    times[mode].append(time.perf_counter() - start)
            api.predict_curve = with_curves
            best = {mode: min(values) for mode, values in times.items()}
            own = min(a + b for a, b in zip(curve_seconds[::2], curve_seconds[1::2]))
            print(f"| {data} | {n} | {'on' if intrinsic else 'off'} | {best['default']:.3f} | "
                  f"{best['one kernel']:.3f} | {best['no curves']:.3f} | {best['default'] / best['no curves']:.3f} | "
                  f"{best['one kernel'] / best['no curves']:.3f} | {own:.3f} |", flush=True)


if __name__ == "__main__":
    main()
