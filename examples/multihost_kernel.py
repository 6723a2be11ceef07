"""Compute one kernel matrix with several processes or hosts (jax.distributed), assembled through a shared cache.

Every process computes its share of the blocks (block index = process index mod process count) into the partial
folder of the shared cache; process 0 then waits for all blocks and assembles the matrix, which later calls (any
host, `predict` included) read from the cache.

Run on each host (or several times on one host, as the test does), with the cache on a file system all see:

    KERNELSCALE_CACHE=/shared/cache uv run python examples/multihost_kernel.py \
        --coordinator HOST0:12345 --processes 2 --process-id I --n 2000

Without --coordinator, the share comes from --process-id/--processes alone (no jax.distributed), which is all the
block split needs: jax.distributed only supplies the process index and count, and makes each process's local
devices its own.
"""

import argparse
import time

import kernelscale as ks
from kernelscale.kernels import missing_blocks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--coordinator", default=None, help="HOST:PORT of process 0 (jax.distributed)")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--process-id", type=int, default=0)
    parser.add_argument("--arch", default="fc:depth=3,act=relu")
    parser.add_argument("--data", default="sphere:dim=8")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=250)
    args = parser.parse_args()
    index, count = args.process_id, args.processes
    if args.coordinator:
        import jax

        jax.distributed.initialize(args.coordinator, num_processes=count, process_id=index)
        index, count = jax.process_index(), jax.process_count()
    data = ks.load_dataset(args.data, n_samples=args.n, seed=0)  # same seed: the same sample on every host
    computed = ks.compute_kernel_share(args.arch, data.x, batch_size=args.batch_size, share=(index, count))
    print(f"process {index}/{count}: computed {computed} blocks", flush=True)
    if index == 0:
        while missing_blocks(args.arch, data.x, batch_size=args.batch_size):
            time.sleep(1)  # the others are still computing their shares
        matrix = ks.compute_kernel(args.arch, data.x, batch_size=args.batch_size)
        print(f"process 0: assembled {matrix.n} x {matrix.n} from {matrix.resumed_blocks} saved blocks", flush=True)


if __name__ == "__main__":
    main()
