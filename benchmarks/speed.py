"""Cost of predict against the bare computation in the same run (issue: predict, item 11).

Bare: neural-tangents kernel (one jitted kernel_fn call, no batching) + numpy eigh of K/n + one least-squares fit of log lambda on log i.
kernelscale: predict() (planned blocks, checks, half-sample spectra, windowed fits with uncertainty).
Both on the same sample, kernel cache off; each is run twice and the faster run is kept (no compile time in
either); the ratio is the figure to read.

    uv run python benchmarks/speed.py [--cases digits:1797 mnist5k:3000]
"""

import argparse
import time

import jax
import numpy as np
from _machine import describe

import kernelscale as ks

ARCH = "fc:depth=3,act=relu"


def bare(arch, x):
    start = time.perf_counter()
    n = len(x)
    matrix = np.asarray(jax.jit(arch.kernel_fn, static_argnames="get")(x, None, "ntk"))  # one jitted call
    values, vectors = np.linalg.eigh(matrix / n)
    values = values[::-1]
    index = np.arange(1, n // 4)
    np.polyfit(np.log(index), np.log(values[index - 1]), 1)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", nargs="+", default=["digits:1797", "mnist5k:3000"])
    args = parser.parse_args()
    print(describe())
    arch = ks.parse_architecture(ARCH)
    print(f"arch {arch.spec}, NTK\n")
    print("| data | n | bare s | predict s | ratio | predict: kernel s | eigh + halves s |")
    print("|---|---|---|---|---|---|---|")
    for case in args.cases:
        name, n = case.split(":")
        n = int(n)
        data = ks.load_dataset(name, n_samples=n, seed=0)
        t_bare = min(bare(arch, data.x) for _ in range(2))
        t_predict = np.inf
        for _ in range(2):
            start = time.perf_counter()
            p = ks.predict(arch, data, use_cache=False)
            t_predict = min(t_predict, time.perf_counter() - start)
        print(f"| {name} | {n} | {t_bare:.2f} | {t_predict:.2f} | {t_predict / t_bare:.2f} | "
              f"{p.kernel_seconds:.2f} | {p.eigh_seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
