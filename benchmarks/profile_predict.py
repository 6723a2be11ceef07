"""Where ``predict``'s time goes: cProfile of one call, the entries with the largest cumulative time.

    python benchmarks/profile_predict.py [--data sphere:dim=8] [--n 16384] [--top 30]

The kernel is jitted and the eigensolver compiled inside the call, as a user's first call does.
"""

import argparse
import cProfile
import io
import pstats
import time

from _machine import describe

import kernelscale as ks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="fc:depth=3,act=relu")
    parser.add_argument("--data", default="sphere:dim=8")
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    print(describe())
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    result = ks.predict(args.arch, args.data, n_samples=args.n, use_cache=False)
    profile.disable()
    print(f"predict {args.arch} on {args.data}, n = {args.n}: {time.perf_counter() - start:.2f} s "
          f"(kernel {result.kernel_seconds:.2f} s on {result.device}, eigh + halves {result.eigh_seconds:.2f} s on "
          f"{result.eigh_device})")
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(args.top)
    print(text.getvalue())


if __name__ == "__main__":
    main()
