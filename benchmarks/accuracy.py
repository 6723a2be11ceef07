"""Accuracy of alpha_K against the closed form on the sphere (issue: predict, item 10).

Sphere data S^(d-1), n points, depth-3 ReLU FC (b_std > 0), NTK and NNGP, d = 3..8. Truth: 1/(d-1) (NTK) and
3/(d-1) (NNGP). Prints a markdown table with errors and interval coverage.

    uv run python benchmarks/accuracy.py [--n 4000] [--seeds 0 1]
"""

import argparse
import time

from _machine import describe

import kernelscale as ks
from kernelscale.theory import sphere_alpha_K

ARCH = "fc:depth=3,act=relu,w_std=1.41,b_std=0.05"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--dims", type=int, nargs="+", default=[3, 4, 5, 6, 7, 8])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    print(describe())
    print(f"arch {ARCH}, n = {args.n}\n")
    print("| kernel | d | seed | truth | alpha_K | error | interval | half-width | covers | status | window | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for kind in ("ntk", "nngp"):
        for dim in args.dims:
            for seed in args.seeds:
                start = time.perf_counter()
                p = ks.predict(ARCH, f"sphere:dim={dim}", n_samples=args.n, kernel=kind, seed=seed, use_cache=False)
                truth = sphere_alpha_K(dim, kind)
                if p.alpha_K is None:
                    print(f"| {kind} | {dim} | {seed} | {truth:.3f} | - | - | - | - | no | {p.status} | - | "
                          f"{time.perf_counter() - start:.0f} |")
                    continue
                low, high = p.alpha_K.ci
                print(f"| {kind} | {dim} | {seed} | {truth:.3f} | {p.alpha_K.value:.3f} | {p.alpha_K.value - truth:+.3f} | "
                      f"[{low:.3f}, {high:.3f}] | {(high - low) / 2:.3f} | {'yes' if low <= truth <= high else 'NO'} "
                      f"| {p.status} | {p.fit_window[0]}..{p.fit_window[1]} | {time.perf_counter() - start:.0f} |",
                      flush=True)


if __name__ == "__main__":
    main()
