"""Limits of ``jax.numpy.linalg.eigh`` on the JAX default device (issue: scale, item 2): for each dtype and n,
does the full eigendecomposition run, how long does it take, how much device memory does it use, and is the
result right?

Each (dtype, n) cell runs in a fresh process with a time limit, so that a solver error, an out-of-memory or a crash
is recorded as that cell's outcome. The matrix is a random symmetric one, made on the device: (G + G^T) / 2 with
G of standard normals. Checked on 16 random eigenpairs: the relative residual max_j ||A v_j - w_j v_j|| / ||A||_2
and the loss of orthogonality max |V_J^T V_J - I|.

    python benchmarks/gpu_eigh.py [--float64 4096 8192 ...] [--float32 ...] [--host 4096 8192] [--timeout 240]

Solvers ("where"): ``jnp`` is ``jax.numpy.linalg.eigh``; ``kernelscale`` is the device path of
``kernelscale.eigendecompose`` (``jax.lax.linalg.eigh`` without the symmetrized copy, the input buffer donated);
``host`` is scipy's divide and conquer (``evd``) on the same matrix, for a ratio. Peak device memory depends on
``XLA_PYTHON_CLIENT_MEM_FRACTION`` (JAX takes 75% of the GPU by default).
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

CELL = r"""
import json, sys, time
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import numpy as np
dtype, n, where = sys.argv[1], int(sys.argv[2]), sys.argv[3]
key = jax.random.PRNGKey(n)
g = jax.random.normal(key, (n, n), dtype=dtype)
a = (g + g.T) / 2
del g
a.block_until_ready()
device = jax.devices()[0]
row = {"dtype": dtype, "n": n, "where": where, "matrix_gib": n * n * a.dtype.itemsize / 2**30}
if where == "host":
    import scipy.linalg
    host = np.asarray(a)
    start = time.perf_counter()
    w, v = scipy.linalg.eigh(host, driver="evd", check_finite=False)
    row["seconds"] = time.perf_counter() - start
    row["compile_seconds"] = 0.0
else:
    host = np.asarray(a)
    if where == "jnp":  # jnp.linalg.eigh: symmetrizes a copy of the input
        function = jax.jit(jnp.linalg.eigh)
    else:  # kernelscale's: no symmetrized copy, the input buffer donated (kernelscale.spectrum)
        from kernelscale.spectrum import _jitted_device_eigh
        solve = _jitted_device_eigh()
        function = jax.jit(lambda a: solve(a, 1.0)[1::-1], donate_argnums=0)
    start = time.perf_counter()
    compiled = function.lower(a).compile()
    row["compile_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    w, v = compiled(a)
    v.block_until_ready()
    row["seconds"] = time.perf_counter() - start
    stats = device.memory_stats() or {}
    row["peak_gib"] = stats.get("peak_bytes_in_use", 0) / 2**30
    w, v = np.asarray(w), np.asarray(v)
rng = np.random.default_rng(0)
cols = rng.choice(n, size=min(16, n), replace=False)
norm = float(np.max(np.abs(w)))
vj = v[:, cols]
row["finite"] = bool(np.all(np.isfinite(w)) and np.all(np.isfinite(v)))
row["residual"] = float(np.max(np.linalg.norm(host @ vj - vj * w[cols], axis=0)) / norm)
row["orthogonality"] = float(np.max(np.abs(vj.T @ vj - np.eye(len(cols)))))
row["ascending"] = bool(np.all(np.diff(w) >= 0))
print(json.dumps(row))
"""


def run_cell(dtype: str, n: int, where: str, timeout: float) -> dict:
    try:
        out = subprocess.run([sys.executable, "-c", CELL, dtype, str(n), where], capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"dtype": dtype, "n": n, "where": where, "error": f"no result within {timeout:.0f} s"}
    if out.returncode != 0:
        lines = [line for line in out.stderr.strip().splitlines() if line.strip()]
        reason = next((line for line in reversed(lines) if "Error" in line or "error" in line), lines[-1] if lines
                      else f"exit code {out.returncode}")
        return {"dtype": dtype, "n": n, "where": where, "error": f"rc {out.returncode}: {reason.strip()[:300]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--float64", nargs="*", type=int, default=[4096, 8192, 16384, 16385, 23170, 32768])
    parser.add_argument("--float32", nargs="*", type=int, default=[8192, 16384, 23170, 23171, 32768, 46340])
    parser.add_argument("--host", nargs="*", type=int, default=[4096, 8192])
    parser.add_argument("--solvers", nargs="+", default=["jnp", "kernelscale"], choices=["jnp", "kernelscale"])
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--out", default=None, help="also write the table (markdown) here")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from _machine import describe

    lines = [describe(), "", "| dtype | n | solver | matrix GiB | compile s | eigh s | peak device GiB | residual | "
             "orthogonality | outcome |", "|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    cells = ([("float64", n, solver) for n in args.float64 for solver in args.solvers]
             + [("float32", n, solver) for n in args.float32 for solver in args.solvers]
             + [("float64", n, "host") for n in args.host])
    for dtype, n, where in cells:
        row = run_cell(dtype, n, where, args.timeout)
        gib = n * n * (8 if dtype == "float64" else 4) / 2**30
        if "error" in row:
            line = f"| {dtype} | {n} | {where} | {gib:.2f} | | | | | | {row['error']} |"
        else:
            good = row["finite"] and row["ascending"] and row["residual"] < 1e3 * (2e-16 if dtype == "float64"
                                                                                    else 1e-7) * n
            line = (f"| {dtype} | {n} | {where} | {gib:.2f} | {row['compile_seconds']:.2f} | {row['seconds']:.2f} | "
                    f"{row.get('peak_gib', float('nan')):.2f} | {row['residual']:.1e} | {row['orthogonality']:.1e} | "
                    f"{'ok' if good else 'WRONG RESULT'} |")
        lines.append(line)
        print(line, flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
