#!/bin/bash
# The GPU measurements of docs/benchmarks.md, as run on the device machine (one NVIDIA H100 or H200, its own
# JAX with CUDA). neural-tangents, frozendict, mlxtend and scikit-dimension travel as wheels in .whl/.
#   bash benchmarks/gpu.sh STEP ARGS...   (steps: env, tests, python, eigh, predict N..., cnn DATA:N...)
# Writes tables and JSON under ${OUT:-/tmp/out}.
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
if [ -d .whl ] && ! python3 -c "import frozendict, mlxtend, skdim" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1 KERNELSCALE_CACHE=/tmp/kernelscale-cache
step=$1; shift
case $step in
  env)
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    python3 -c "import sys, jax, numpy, scipy; import kernelscale; print(sys.version.split()[0], 'jax', jax.__version__, 'numpy', numpy.__version__, 'scipy', scipy.__version__, jax.devices())"
    nproc ;;
  tests)
    python3 -m pytest -q -p no:cacheprovider "$@" ;;
  python)
    python3 "$@" ;;
  eigh)
    python3 benchmarks/gpu_eigh.py --out "$OUT/gpu_eigh.md" "$@" ;;
  predict)  # FC depth-3 ReLU NTK on sphere:dim=8, end to end through the CLI, wall time of the whole process
    for n in "$@"; do
      start=$(date +%s.%N)
      python3 -m kernelscale predict --arch fc:depth=3,act=relu --data sphere:dim=8 --n "$n" --no-cache \
        --json "$OUT/predict_$n.json" 2>"$OUT/predict_$n.err"
      rc=$?
      echo "predict n=$n rc=$rc wall $(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')") s"
      python3 -c "import json; p=json.load(open('$OUT/predict_$n.json')); print({k: p[k] for k in ('alpha_K','alpha_K_ci','seconds','kernel_seconds','eigh_seconds','device','eigh_device','eigensolver')})" 2>/dev/null || tail -3 "$OUT/predict_$n.err"
    done ;;
  cnn)  # CNN with global average pooling (DATA:N, e.g. mnist5k:1024 digits:1797): kernel time and device memory
    python3 - "$@" <<'PY'
import sys, time
import jax
import kernelscale as ks
from kernelscale.kernels import select_device
from kernelscale.memory import plan_memory
arch = ks.parse_architecture("cnn-gap:depth=2")
print(arch.spec)
print("| data | n | block | planned block GiB | seconds | pairs/s | device peak GiB |")
for case in sys.argv[1:]:
    name, n = case.split(":")
    n = int(n)
    data = ks.load_dataset(name, n_samples=n, seed=0, input_kind="image")
    plan = plan_memory(arch, data.x, device=select_device(None))
    start = time.perf_counter()
    k = ks.compute_kernel(arch, data.x, use_cache=False)
    seconds = time.perf_counter() - start
    peak = (jax.devices()[0].memory_stats() or {}).get("peak_bytes_in_use", 0) / 2**30
    print(f"| {name} | {n} | {plan.batch_size} | {plan.block_bytes / 2**30:.2f} | {seconds:.2f} | {n * n / seconds:.3g} | "
          f"{peak:.2f} |", flush=True)
PY
    ;;
  *) echo "unknown step $step"; exit 2 ;;
esac
