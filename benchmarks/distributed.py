"""The multi-process engine's overhead, on this machine's cores (issue #26, item 5).

1. Kernel stage: the same kernel computed by 1 process with 2 CPU devices against 2 processes with 1 CPU device each
   (a JAX job on localhost), on the same cores: wall time of ``compute_kernel`` (tiles, all-gather and assembly
   included), cache off, the best of ``--repeats`` runs of each, alternating. The goal is within 10 %.
2. The distributed top-k solver: bytes each process hands to the sum over processes per pass, against n x l x 8
   (one (n, l) float64 block; l = k + oversampling), counted where kernelscale calls the collective
   (:data:`kernelscale.distributed.traffic`), not on the wire.

    uv run python benchmarks/distributed.py [--arch cnn-gap:depth=1 --data digits --n 512 --repeats 2]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time

WORKER_ENV = "KERNELSCALE_BENCHMARK_WORKER"


def worker(args) -> None:
    """One process: join the job (when the environment names one), time the kernel, then the top-k solver's
    traffic; process 0 prints one JSON line."""
    from kernelscale.distributed import job_settings, join_job, traffic

    join_job(job_settings())
    import numpy as np

    import kernelscale as ks
    from kernelscale.distributed import is_output_process, process_count
    from kernelscale.architectures import as_architecture
    from kernelscale.kernels import kernel_operator
    from kernelscale.spectrum import TOPK_OVERSAMPLE, topk_spectrum

    data = ks.load_dataset(args.data, n_samples=args.n, seed=0, input_kind=as_architecture(args.arch).input_kind)
    start = time.perf_counter()
    matrix = ks.compute_kernel(args.arch, data.x, kind="ntk", use_cache=False)
    seconds = time.perf_counter() - start
    operator = kernel_operator(args.arch, data.x, kind="ntk", use_cache=False)
    before = traffic.sum_calls, traffic.sum_bytes
    topk_spectrum(operator, None, n_eigs=args.n_eigs, n_halves=0)
    calls, volume = traffic.sum_calls - before[0], traffic.sum_bytes - before[1]
    width = args.n_eigs + max(10, int(TOPK_OVERSAMPLE * args.n_eigs))
    if is_output_process():
        print(json.dumps({"seconds": seconds, "processes": process_count(), "devices": matrix.devices,
                          "sum_calls": calls, "sum_bytes": volume, "block_bytes": args.n * width * 8,
                          "checksum": float(np.sum(matrix.matrix))}), flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def run(processes: int, devices: int, args) -> dict:
    """The worker as a job of ``processes`` x ``devices`` CPU devices; process 0's JSON."""
    port = _free_port()
    base = {**os.environ, WORKER_ENV: "1", "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    if processes > 1:
        base |= {"KERNELSCALE_COORDINATOR": f"localhost:{port}", "KERNELSCALE_NUM_PROCESSES": str(processes)}
    command = [sys.executable, __file__, *sys.argv[1:]]
    workers = [subprocess.Popen(command, env={**base, "KERNELSCALE_PROCESS_ID": str(pid)} if processes > 1 else base,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for pid in range(processes)]
    outputs = [w.communicate(timeout=3600) for w in workers]
    for w, (_, err) in zip(workers, outputs):
        if w.returncode != 0:
            raise SystemExit(f"a worker failed:\n{err[-3000:]}")
    return json.loads(outputs[0][0].strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="cnn-gap:depth=1")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--n-eigs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if os.environ.get(WORKER_ENV):
        return worker(args)
    sys.path.insert(0, os.path.dirname(__file__))
    from _machine import describe

    print(describe())
    print(f"kernel: {args.arch} NTK on {args.n} points of {args.data}; top-k: k = {args.n_eigs}, no half-samples")
    runs = {"1 process x 2 devices": [], "2 processes x 1 device": []}
    for _ in range(args.repeats):
        runs["1 process x 2 devices"].append(run(1, 2, args))
        runs["2 processes x 1 device"].append(run(2, 1, args))
    best = {name: min(r["seconds"] for r in results) for name, results in runs.items()}
    print(f"{'layout':<24} {'kernel s (best)':>16} {'all runs':>20} {'checksum':>22}")
    for name, results in runs.items():
        times = ", ".join(f"{r['seconds']:.2f}" for r in results)
        print(f"{name:<24} {best[name]:>16.2f} {times:>20} {results[0]['checksum']:>22.15g}")
    print(f"engine overhead: 2 x 1 / 1 x 2 = {best['2 processes x 1 device'] / best['1 process x 2 devices']:.3f}")
    job = runs["2 processes x 1 device"][0]
    # the solver's sums: one of the (n,) diagonal, then one (n, l) block per pass
    per_pass = (job["sum_bytes"] - args.n * 8) / (job["sum_calls"] - 1)
    print(f"top-k, 2 processes: {job['sum_calls']} sums over processes from process 0 (the diagonal, then one per "
          f"pass): {per_pass:.0f} bytes per pass; n x l x 8 = {job['block_bytes']} bytes; ratio "
          f"{per_pass / job['block_bytes']:.3f}")


if __name__ == "__main__":
    main()
