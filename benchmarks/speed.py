"""Speed of each stage against the baseline a user would otherwise write, in the same run on this machine
(issues: predict item 11; scale item 6). Every row is a ratio (kernelscale / baseline, lower is faster); absolute
times are only meaningful on the machine named at the top.

Stages:
  1. kernel: ``compute_kernel`` (planned blocks over all devices, float64, checks) against ``neural_tangents.batch``
     with the same block size, on the same inputs: seconds and pairs per second.
  2. eigendecomposition of the same K/n: kernelscale ``eigendecompose`` on the default device, as predict runs it
     (host LAPACK, or cuSOLVER on a GPU; with the PSD and symmetry checks) against ``numpy.linalg.eigh``, ``scipy.linalg.eigh`` (divide and conquer, ``evd``) and ``jax.numpy.linalg.eigh``;
     ``eigenvalues_and_powers`` (what predict runs: eigenvalues and target powers, the eigenvectors never formed)
     against numpy eigh followed by ``U^T y``; and the top-k eigensolver (k = n/8) against the full one.
  3. end to end: ``predict`` (with and without the intrinsic dimension) against the naive pipeline (one jitted
     kernel_fn call, numpy eigh, one least-squares fit of log lambda on log i).
Each timing is the best of 3 runs, kernel cache off; every run of compute_kernel, predict and the naive pipeline
jits the kernel afresh (tracing and compiling included on both sides).

    uv run python benchmarks/speed.py [--cases digits:1797 mnist5k:3000]
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
from _machine import describe

import kernelscale as ks
from kernelscale._compat import nt
from kernelscale.kernels import kernel_operator, select_device
from kernelscale.memory import plan_memory
from kernelscale.spectrum import randomized_eigh

ARCH = "fc:depth=3,act=relu"


def best(function, repeats: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def naive(arch, x):
    n = len(x)
    matrix = np.asarray(jax.jit(arch.kernel_fn, static_argnames="get")(x, None, "ntk"))  # one jitted call
    values = np.linalg.eigh(matrix / n)[0][::-1]
    index = np.arange(1, n // 4)
    np.polyfit(np.log(index), np.log(values[index - 1]), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", nargs="+", default=["digits:1797", "mnist5k:3000"])
    args = parser.parse_args()
    print(describe())
    arch = ks.parse_architecture(ARCH)
    print(f"arch {arch.spec}, NTK, float64; best of 3 runs each\n")
    kernel_rows, eigh_rows, end_rows = [], [], []
    for case in args.cases:
        name, n = case.split(":")
        n = int(n)
        data = ks.load_dataset(name, n_samples=n, seed=0)
        x = data.x
        batch = plan_memory(arch, x, device=select_device(None)).batch_size
        batch = max(d for d in range(1, batch + 1) if n % d == 0)  # nt.batch needs n divisible by the block size
        t_ks, kernel = best(lambda: ks.compute_kernel(arch, x, batch_size=batch, use_cache=False))
        batched = nt.batch(arch.kernel_fn, batch_size=batch, device_count=0)
        t_nt, reference = best(lambda: np.asarray(batched(x, None, "ntk")))
        assert np.allclose(kernel.matrix, reference, rtol=1e-7, atol=1e-12)
        pairs = n * n
        kernel_rows.append(f"| {name} | {n} | {batch} | {t_ks:.2f} | {t_nt:.2f} | {t_ks / t_nt:.2f} | "
                           f"{pairs / t_ks:.3g} | {pairs / t_nt:.3g} |")
        matrix = kernel.matrix
        t_ours, _ = best(lambda: ks.eigendecompose(matrix, device=None))  # the JAX default device, as predict
        t_numpy, _ = best(lambda: np.linalg.eigh(matrix / n))
        t_scipy, _ = best(lambda: scipy.linalg.eigh(matrix / n, driver="evd"))
        t_jax, _ = best(lambda: jax.block_until_ready(jnp.linalg.eigh(jnp.asarray(matrix / n))))
        y = np.asarray(data.y, dtype=np.float64).reshape(n, -1)
        t_powers, _ = best(lambda: ks.eigenvalues_and_powers(matrix, y, device=None))
        t_numpy_powers, _ = best(lambda: np.sum((np.linalg.eigh(matrix / n)[1].T @ y) ** 2, axis=1))
        k = n // 8
        operator = kernel_operator(arch, x, batch_size=batch)
        t_topk, _ = best(lambda: randomized_eigh(lambda v: operator.matvec(v) / n, n, k))
        eigh_rows.append(f"| {name} | {n} | {t_ours:.2f} | {t_numpy:.2f} | {t_scipy:.2f} | {t_jax:.2f} | "
                         f"{t_ours / t_numpy:.2f} | {t_ours / t_scipy:.2f} | {t_ours / t_jax:.2f} | "
                         f"{t_powers:.2f} | {t_numpy_powers:.2f} | {t_powers / t_numpy_powers:.2f} | {k} | "
                         f"{t_topk:.2f} | {t_topk / (t_ks + t_ours):.2f} |")
        t_naive, _ = best(lambda: naive(arch, x))
        t_predict, p = best(lambda: ks.predict(arch, data, use_cache=False, intrinsic=False))
        t_full, _ = best(lambda: ks.predict(arch, data, use_cache=False))
        end_rows.append(f"| {name} | {n} | {t_naive:.2f} | {t_predict:.2f} | {t_predict / t_naive:.2f} | "
                        f"{t_full:.2f} | {t_full / t_naive:.2f} | {p.kernel_seconds:.2f} | {p.eigh_seconds:.2f} |")
        print(f"{case} done", flush=True)
    print("\n1. Kernel: compute_kernel against neural_tangents.batch (same block size)\n")
    print("| data | n | block | kernelscale s | nt.batch s | ratio | kernelscale pairs/s | nt.batch pairs/s |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(kernel_rows))
    print("\n2. Eigendecomposition of the same K/n; top-k (k = n/8, blocks recomputed on each of 3 passes) against "
          "kernel + full eigh\n")
    print("| data | n | kernelscale s | numpy s | scipy evd s | jax s | vs numpy | vs scipy | vs jax | "
          "values + powers s | numpy eigh + U^T y s | ratio | k | top-k s | top-k / (kernel + eigh) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(eigh_rows))
    print("\n3. End to end: predict against the naive pipeline\n")
    print("| data | n | naive s | predict (no intrinsic dim) s | ratio | predict s | ratio | predict: kernel s | "
          "eigh + halves s |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(end_rows))


if __name__ == "__main__":
    main()
