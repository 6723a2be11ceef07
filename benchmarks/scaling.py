"""How the cost of each stage grows with n (issue: scale, item 7): seconds and peak memory per stage against n, on
log-log axes, with n^2 and n^3 reference slopes.

Each (stage, n) runs in a fresh process; time is wall time of the stage alone, memory is the growth of the process's
peak resident set (ru_maxrss) during the stage, so inputs made before it (the matrix for eigh) are not counted.
Data: sphere:dim=8 (any n), FC depth 3 ReLU NTK, float64, kernel cache off.

    uv run python benchmarks/scaling.py [--sizes 600 1200 2400 4800]

Writes benchmarks/results/scaling.md and docs/scaling.png.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

STAGES = ["kernel", "eigh", "spectrum", "topk", "predict"]
STAGE_CODE = r"""
import json, resource, sys, time
import numpy as np
import kernelscale as ks
from kernelscale.kernels import kernel_operator
from kernelscale.spectrum import randomized_eigh
stage, n = sys.argv[1], int(sys.argv[2])
arch = ks.parse_architecture("fc:depth=3,act=relu")
data = ks.load_dataset("sphere:dim=8", n_samples=n, seed=0)
matrix = ks.compute_kernel(arch, data.x[:64], use_cache=False)  # compile before timing
if stage in ("eigh", "spectrum"):
    matrix = ks.compute_kernel(arch, data.x, use_cache=False).matrix
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if stage == "kernel":
    ks.compute_kernel(arch, data.x, use_cache=False)
elif stage == "eigh":
    ks.eigendecompose(matrix, device=None)
elif stage == "spectrum":
    ks.spectrum(matrix, None, n_halves=2, device=None)
elif stage == "topk":
    op = kernel_operator(arch, data.x)
    randomized_eigh(lambda v: op.matvec(v) / n, n, n // 8)
elif stage == "predict":
    ks.predict(arch, data, use_cache=False, intrinsic=False)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
import jax
stats = jax.devices()[0].memory_stats() if jax.devices()[0].platform != "cpu" else None
device_peak = stats.get("peak_bytes_in_use", 0) / 2**20 if stats else None
print(json.dumps({"stage": stage, "n": n, "seconds": seconds, "peak_mb": peak / 1024, "device_peak_mb": device_peak}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", type=int, default=[600, 1200, 2400, 4800])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "scaling.md"))
    parser.add_argument("--plot", default=str(Path(__file__).parent.parent / "docs" / "scaling.png"))
    parser.add_argument("--stages", nargs="+", default=STAGES, choices=STAGES)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per cell")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from _machine import describe

    lines = [describe(), "", "FC depth 3 ReLU NTK on sphere:dim=8, float64; one fresh process per cell; "
             "host peak = growth of peak RSS during the stage; device peak = the accelerator's peak bytes in use "
             "(the whole process)", "",
             "| stage | n | seconds | host peak MB | device peak MB |", "|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    results = []
    for stage in args.stages:
        for n in args.sizes:
            try:
                out = subprocess.run([sys.executable, "-c", STAGE_CODE, stage, str(n)], capture_output=True,
                                     text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                lines.append(f"| {stage} | {n} | over {args.timeout:.0f} | | |")
                print(lines[-1], flush=True)
                continue
            if out.returncode != 0:
                raise SystemExit(f"{stage} n={n} failed:\n{out.stderr[-2000:]}")
            row = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(row)
            device_peak = "-" if row["device_peak_mb"] is None else f"{row['device_peak_mb']:.0f}"
            line = f"| {stage} | {n} | {row['seconds']:.2f} | {row['peak_mb']:.0f} | {device_peak} |"
            lines.append(line)
            print(line, flush=True)
    import numpy as np

    lines += ["", "| stage | slope of log seconds on log n (largest two n) |", "|---|---|"]
    for stage in args.stages:
        rows = sorted((r for r in results if r["stage"] == stage), key=lambda r: r["n"])[-2:]
        if len(rows) < 2:
            continue
        slope = np.log(rows[1]["seconds"] / rows[0]["seconds"]) / np.log(rows[1]["n"] / rows[0]["n"])
        lines.append(f"| {stage} | {slope:.2f} |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines[-len(args.stages) - 3:]))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kernelscale.plots import readable_log_ticks

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    sizes = np.array(sorted(args.sizes), dtype=float)
    for stage in args.stages:
        rows = sorted((r for r in results if r["stage"] == stage), key=lambda r: r["n"])
        left.loglog([r["n"] for r in rows], [r["seconds"] for r in rows], "o-", label=stage)
        grew = [r for r in rows if r["peak_mb"] > 0]  # 0: the stage stayed under the peak its process already had
        right.loglog([r["n"] for r in grew], [r["peak_mb"] for r in grew], "o-", label=f"{stage} host")
        if any(r["device_peak_mb"] for r in rows):
            right.loglog([r["n"] for r in rows], [max(r["device_peak_mb"] or 0, 1e-1) for r in rows], "s--",
                         label=f"{stage} device")
    for ax, unit, top in ((left, "wall time (s)", max(r["seconds"] for r in results)),
                          (right, "growth of peak memory during the stage (MB)", max(r["peak_mb"] for r in results))):
        ax.loglog(sizes, top * (sizes / sizes[-1]) ** 2, "k:", lw=1, label="n^2")
        ax.loglog(sizes, top * (sizes / sizes[-1]) ** 3, "k--", lw=1, label="n^3")
        ax.set(xlabel="sample size n", ylabel=unit)
        ax.legend(fontsize=7)
        readable_log_ticks(ax)
    fig.suptitle(describe(), fontsize=7)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)


if __name__ == "__main__":
    main()
