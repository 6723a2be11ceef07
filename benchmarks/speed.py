"""Cost of predict against the bare computation in the same run (issue: predict, item 11).

Bare: neural-tangents kernel (nt.batch) + numpy eigh of K/n + one least-squares fit of log lambda on log i.
kernelscale: predict() (planned blocks, checks, half-sample spectra, windowed fits with uncertainty).
Both on the same sample, kernel cache off, after one warm-up call; the ratio is the figure to read.

    uv run python benchmarks/speed.py [--cases digits:1797 mnist5k:3000]
"""

import argparse
import time

import numpy as np
from _machine import describe

import kernelscale as ks
from kernelscale._compat import nt

ARCH = "fc:depth=3,act=relu"


def bare(arch, x):
    start = time.perf_counter()
    n = len(x)
    batch = max(d for d in range(1, 501) if n % d == 0)
    matrix = np.asarray(nt.batch(arch.kernel_fn, batch_size=batch)(x, None, "ntk"))
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
        ks.predict(arch, ks.load_dataset(name, n_samples=600, seed=0), use_cache=False)  # warm-up
        bare(arch, data.x[:300])
        t_bare = bare(arch, data.x)
        start = time.perf_counter()
        p = ks.predict(arch, data, use_cache=False)
        t_predict = time.perf_counter() - start
        print(f"| {name} | {n} | {t_bare:.2f} | {t_predict:.2f} | {t_predict / t_bare:.2f} | "
              f"{p.kernel_seconds:.2f} | {p.eigh_seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
