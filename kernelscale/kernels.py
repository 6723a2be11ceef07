"""NNGP / NTK Gram matrices: a memory plan first, then batched float64 blocks on a JAX device, cached on disk.

``compute_kernel(arch, x, kind="ntk")`` returns a :class:`KernelMatrix` holding the (n, n) Gram matrix
``K[i, j] = k(x_i, x_j)`` of the architecture's infinite-width kernel. The matrix is computed in square blocks of
``batch_size`` points (only blocks on or above the diagonal; the rest by symmetry), in float64 with the highest
matmul precision (on GPUs float32 would silently use TF32, a noise floor near 1e-3 of the top eigenvalue).

Blocks are spread round-robin over all local JAX devices of the chosen platform (each block's inputs are placed on
its device, so the jitted kernel runs there; up to one block per device is in flight at a time). With the cache on,
every finished block is saved under ``kernel-<key>.partial-b<batch_size>/`` as soon as it is done, so an
interrupted computation resumes where it stopped; the folder is removed once the whole matrix is cached.

In a multi-process JAX job (:mod:`kernelscale.distributed`) the blocks are tiles of the upper triangle owned by the
job's devices: tile t (in row-major order of the grid) by the device of rank ``t mod devices``, computed by its
process and kept there, saved to the same per-tile cache (a shared path lets a rerun after a lost process resume from
every finished tile). :func:`compute_kernel` then gathers the tiles into every process (one all-gather; each process
continues with the same matrix), and :func:`kernel_operator` keeps them where they are for the distributed top-k
solver (:class:`TileOperator`: local tile products, one sum over processes per pass).
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import time
import warnings
from collections import deque
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np

from ._compat import nt, precise, precise_function
from .architectures import Architecture, as_architecture
from ._io import write_atomically, write_text_atomically
from .cache import cache_dir
from .distributed import (all_gather, all_processes, busiest_host, in_job, job_devices, local_ranks, process_count,
                          process_index, sum_over_processes)
from .errors import DataError, KernelError, MemoryPlanError
from .memory import available_host_memory, gathered_eigh_bytes, network_errors, plan_block, plan_memory
from .options import check, validated
from .progress import Progress, no_progress
from .random import generator

@dataclasses.dataclass(frozen=True)
class KernelMatrix:
    """A Gram matrix and where it came from.

    Attributes:
      matrix: (n, n) float64, symmetric.
      kind: ``"ntk"`` or ``"nngp"``.
      arch: the architecture's spec string.
      device: the platform of the JAX device that computed it (``"cpu"``, ``"gpu"``...); for a cached matrix the one
        that computed it before (``"unknown"`` for caches older than that record).
      seconds: wall time of the computation (or of the cache read).
      from_cache: whether it was read from the on-disk cache.
      devices: how many devices computed blocks (0 when read from the cache); in a job, all of the job's.
      resumed_blocks: blocks read from an interrupted earlier computation instead of being computed (in a job,
        summed over its processes).
      processes: the processes of the JAX job that computed it (1 without a job).
    """

    matrix: np.ndarray
    kind: str
    arch: str
    device: str
    seconds: float
    from_cache: bool = False
    devices: int = 1
    resumed_blocks: int = 0
    processes: int = 1

    @property
    def n(self) -> int:
        return int(self.matrix.shape[0])


def select_device(device: str | None) -> jax.Device:
    """``None`` -> JAX's default device; ``"cpu"`` / ``"gpu"`` -> the first device of that platform."""
    return select_devices(device)[0]


def select_devices(device: str | None) -> list[jax.Device]:
    """All local devices of the platform ``device`` names (``None``: JAX's default platform)."""
    if device is None:
        return jax.local_devices()
    check("device", device)
    try:
        return jax.local_devices(backend=device)
    except RuntimeError:
        raise KernelError(f"device={device!r} was requested but JAX sees no {device.upper()} "
                          f"(available: {', '.join(sorted({d.platform for d in jax.devices()}))}). "
                          "Install JAX with CUDA support, or use --device cpu.") from None


def cache_key(arch: Architecture, x: np.ndarray, kind: str) -> str:
    """SHA-256 of everything that determines the matrix: spec, kind, inputs, dtype and library versions, and for a
    user's stax network its :func:`network_fingerprint` (its name alone does not determine it)."""
    digest = hashlib.sha256()
    for part in (arch.spec, kind, str(x.shape), str(x.dtype), nt.__version__, jax.__version__, "float64", "v1",
                 network_fingerprint(arch, x)):
        digest.update(part.encode() + b"\0")
    digest.update(np.ascontiguousarray(x).tobytes())
    return digest.hexdigest()[:32]


PROBE_POINTS = 3


@precise_function
def network_fingerprint(arch: Architecture, x: np.ndarray) -> str:
    """For a user's stax network, a hash of its NNGP and NTK on PROBE_POINTS fixed random points of x's per-point shape
    (the ``"network_probe"`` stream): an edited network, even under the same name, has another fingerprint, so it
    never reads the kernel cached for the old one. Empty for a kernelscale spec, which its spec string determines."""
    if arch.name != "stax":
        return ""
    probe = generator(0, "network_probe").standard_normal((PROBE_POINTS, *x.shape[1:]))
    with network_errors(probe):
        kernels = arch.kernel_fn(probe, None, ("nngp", "ntk"))
    return hashlib.sha256(b"".join(np.asarray(k, dtype=np.float64).tobytes() for k in kernels)).hexdigest()[:32]


def cache_path(arch: Architecture, x: np.ndarray, kind: str) -> Path:
    """Where the whole matrix is cached: ``cache_dir() / kernel-<cache_key>.npy``."""
    return cache_dir() / f"kernel-{cache_key(arch, x, kind)}.npy"


def save_atomically(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` (.npy), creating the folder; no partial file is left on error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda f: np.save(f, array))


def _blocks(n: int, batch_size: int) -> list[tuple[slice, slice]]:
    starts = range(0, n, batch_size)
    return [(slice(i, min(i + batch_size, n)), slice(j, min(j + batch_size, n)))
            for i in starts for j in starts if j >= i]


def _partial_folder(path: Path, batch_size: int) -> Path:
    """Where the finished blocks of the matrix cached at ``path`` live while it is computed."""
    return path.with_name(path.stem + f".partial-b{batch_size}")


def _block_path(folder: Path, rows: slice, cols: slice) -> Path:
    return folder / f"block-{rows.start}-{cols.start}.npy"


def _saved_block(partial: Path | None, rows: slice, cols: slice) -> np.ndarray | None:
    """The block ``K[rows, cols]`` an earlier computation saved in ``partial``, or None (no folder, no file, or an
    unreadable or wrongly shaped one, which is then recomputed)."""
    path = _block_path(partial, rows, cols) if partial is not None else None
    if path is None or not path.is_file():
        return None
    try:
        block = np.load(path)
    except (OSError, ValueError):
        return None
    return block if block.shape == (rows.stop - rows.start, cols.stop - cols.start) else None


def evaluate_blocks(kernel_fn: Callable, x: np.ndarray, blocks: list[tuple[slice, slice]],
                    devices: list[jax.Device], kind: str, placement: list[jax.Device] | None = None):
    """Yield ``(rows, cols, K[rows, cols])`` (float64 arrays) for each block, spread round-robin over ``devices``
    (or on ``placement[i]`` for block i) with one block in flight per device (JAX dispatch is asynchronous on
    accelerators: committed inputs run the jitted kernel on their device while the host collects the previous
    result; on CPU devices kernelscale turns asynchronous dispatch off, see ``_compat``)."""
    in_flight: deque = deque()
    for i, (rows, cols) in enumerate(blocks):
        target = devices[i % len(devices)] if placement is None else placement[i]
        # a generator's body runs in its consumer's context: scope each call. neural-tangents warns that a FanIn
        # layer's inputs may be correlated; in a residual block one branch has a fresh convolution, which leaves the
        # two uncorrelated, so the sum's kernel is the sum of theirs (as in neural-tangents' own WideResNet)
        with precise(), network_errors(x), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="`FanIn` layers assume independent inputs")
            in_flight.append((rows, cols, kernel_fn(jax.device_put(x[rows], target), jax.device_put(x[cols], target),
                                                    get=kind)))
        if len(in_flight) >= len(devices):
            rows_done, cols_done, result = in_flight.popleft()
            yield rows_done, cols_done, np.asarray(result, dtype=np.float64)
    while in_flight:
        rows_done, cols_done, result = in_flight.popleft()
        yield rows_done, cols_done, np.asarray(result, dtype=np.float64)


@validated
@precise_function
def compute_kernel(arch: str | Architecture | tuple, x: np.ndarray, *, kind: str = "ntk", device: str | None = None,
                   devices: int | None = None, batch_size: int | None = None, use_cache: bool = True,
                   progress: Progress = no_progress) -> KernelMatrix:
    """The (n, n) float64 Gram matrix of the architecture's infinite-width ``kind`` kernel on inputs ``x``.

    Args:
      arch: spec string, :class:`Architecture` or stax triple.
      x: inputs, shape (n, F) for fully connected or (n, H, W, C) for convolutional architectures.
      kind: ``"ntk"`` or ``"nngp"``.
      device: ``"cpu"``, ``"gpu"`` or None (JAX's default platform).
      devices: how many of that platform's local devices to spread blocks over (None: all of them); in a
        multi-process job every device of the job computes tiles.
      batch_size: points per block; chosen from the memory plan when None.
      use_cache: read and write the on-disk cache (:func:`cache_dir`): the whole matrix, and while it is computed
        every finished block (an interrupted computation resumes).
      progress: ``progress("kernel", blocks_done, blocks_total)``.
    """
    arch, x = _check_inputs(arch, x)
    start = time.perf_counter()
    path = cache_path(arch, x, kind) if use_cache and arch.cacheable else None
    if in_job():
        return _job_kernel(arch, x, kind, device=device, batch_size=batch_size, path=path, progress=progress)
    cached = _read_cached(path, len(x), kind, arch, start)
    if cached is not None:
        return cached
    used = _use_devices(device, devices)
    plan = plan_memory(arch, x, device=used[0], batch_size=batch_size)
    blocks = _blocks(len(x), plan.batch_size)
    partial = _partial_folder(path, plan.batch_size) if path is not None and len(blocks) > 1 else None
    matrix = _GramMatrix(np.empty((len(x), len(x)), dtype=np.float64), f"the {kind} kernel of {arch.spec}",
                         len(blocks), progress)
    to_compute = [(rows, cols) for rows, cols in blocks if not matrix.resume(partial, rows, cols)]
    try:
        for rows, cols, block in evaluate_blocks(_jitted_kernel_fn(arch), x, to_compute, used, kind):
            if partial is not None:
                save_atomically(_block_path(partial, rows, cols), block)
            matrix.store(rows, cols, block)
    except KeyboardInterrupt as interrupt:
        interrupt.add_note(_interrupted(matrix, partial, arch))
        raise
    seconds = time.perf_counter() - start
    if path is not None:
        save_atomically(path, matrix.values)
        write_text_atomically(_device_record(path), used[0].platform + "\n")
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)
    return KernelMatrix(matrix.values, kind, arch.spec, used[0].platform, seconds, devices=len(used),
                        resumed_blocks=matrix.resumed)


def _interrupted(matrix: _GramMatrix, partial: Path | None, arch: Architecture) -> str:
    """What an interrupted kernel computation leaves, and what a rerun does."""
    if partial is not None:
        saved = len(list(partial.glob("block-*.npy")))
        return (f"interrupted: {saved} of the {matrix.total} blocks of {matrix.what} are saved in {partial}; "
                "rerunning the same command resumes from them.")
    why = ("this network has no name, so its kernel is not cached (from_stax(..., name=...))" if not arch.cacheable
           else "the cache is off" if matrix.total > 1 else "the matrix is one block")
    return (f"interrupted: {matrix.done} of the {matrix.total} blocks of {matrix.what} were computed but not saved "
            f"({why}); a rerun starts over.")


def _read_cached(path: Path | None, n: int, kind: str, arch: Architecture, start: float) -> KernelMatrix | None:
    """The cached matrix at ``path`` with the platform that computed it, or None (no cache, none there, or an
    unreadable entry, which is then recomputed and overwritten)."""
    if path is None or not path.is_file():
        return None
    try:
        matrix = np.load(path)
    except (OSError, ValueError):
        return None
    if matrix.shape != (n, n):
        return None
    where = _device_record(path)
    device_name = where.read_text().strip() if where.is_file() else "unknown"
    return KernelMatrix(matrix, kind, arch.spec, device_name, time.perf_counter() - start, from_cache=True, devices=0)


@dataclasses.dataclass
class _GramMatrix:
    """The matrix being filled block by block: each block checked finite, stored with its transpose, and counted."""

    values: np.ndarray
    what: str
    total: int
    progress: Progress
    done: int = 0
    resumed: int = 0

    def __post_init__(self):
        self.progress("kernel", 0, self.total)

    def store(self, rows: slice, cols: slice, block: np.ndarray) -> None:
        if not np.isfinite(max(float(block.max()), -float(block.min()))):  # NaN and inf propagate
            raise KernelError(f"{self.what} has NaN or infinite entries on these inputs; check the inputs' scale and "
                              "the architecture's w_std / b_std.")
        self.values[rows, cols] = block
        if cols != rows:
            _store_transposed(self.values, rows, cols, block)
        self.done += 1
        self.progress("kernel", self.done, self.total)

    def resume(self, partial: Path | None, rows: slice, cols: slice) -> bool:
        """Store the block saved by an interrupted computation, if there is a readable one; whether it was."""
        block = _saved_block(partial, rows, cols)
        if block is None:
            return False
        self.resumed += 1
        self.store(rows, cols, block)
        return True


def _device_record(path: Path) -> Path:
    """Beside a cached kernel: the platform of the device that computed it."""
    return path.with_suffix(".device")


def _store_transposed(matrix: np.ndarray, rows: slice, cols: slice, block: np.ndarray, tile: int = 256) -> None:
    """``matrix[cols, rows] = block.T`` in cache-sized tiles (twice as fast as one strided copy for 2048^2 blocks)."""
    target = matrix[cols, rows]
    for r in range(0, block.shape[0], tile):
        for c in range(0, block.shape[1], tile):
            target[c:c + tile, r:r + tile] = block[r:r + tile, c:c + tile].T


def _jitted_kernel_fn(arch: Architecture) -> Callable:
    # A fresh jit per kernel computation (or per operator). Sharing one jitted function across calls through an
    # lru_cache made XLA's CPU convolutions segfault intermittently (cnn, cnn-gap and resnet kernels in a loop: 1 of
    # 3 runs of 30 calls); with a fresh jit, 0 of 7 runs.
    return jax.jit(arch.kernel_fn, static_argnames="get")


# ---------------------------------------------------------------------------------------------- multi-process job

def tile_owners(n_tiles: int, n_devices: int) -> list[int]:
    """The global device rank that owns each tile of the upper triangle: ``t mod n_devices`` for tile t."""
    return [t % n_devices for t in range(n_tiles)]


def _job_kernel(arch: Architecture, x: np.ndarray, kind: str, *, device: str | None, batch_size: int | None,
                path: Path | None, progress: Progress) -> KernelMatrix:
    """:func:`compute_kernel` in a multi-process job: the cached matrix when every process sees it; else each
    process computes (or resumes) the tiles its devices own, and one all-gather gives every process the matrix.
    Process 0 then caches the whole matrix."""
    start = time.perf_counter()
    if path is not None and all_processes(path.is_file()):
        cached = _read_cached(path, len(x), kind, arch, start)
        if all_processes(cached is not None):
            return dataclasses.replace(cached, processes=process_count())
    host = busiest_host(available_host_memory())
    if gathered_eigh_bytes(len(x)) > host.per_process:
        raise MemoryPlanError(
            f"n={len(x)} needs {gathered_eigh_bytes(len(x)) / 2**30:.1f} GiB per process for the gathered kernel "
            f"matrix and its eigendecomposition, but the busiest host has {host.available / 2**30:.1f} GiB for its "
            f"{host.processes} processes. Use a smaller n, or the top-k eigensolver (predict --eigensolver topk).")
    devices = job_devices(device)
    grid = _job_grid(arch, x, devices, batch_size)
    partial = _partial_folder(path, grid[0][0].stop) if path is not None and len(grid) > 1 else None
    what = f"the {kind} kernel of {arch.spec}"
    owned, resumed = _owned_tiles(arch, x, kind, grid, devices, partial, progress)
    matrix = _gathered(grid, owned, devices, _GramMatrix(np.empty((len(x), len(x))), what, len(grid), no_progress))
    resumed = int(sum_over_processes(np.array([resumed], dtype=np.float64))[0])
    if path is not None and process_index() == 0:
        save_atomically(path, matrix.values)
        write_text_atomically(_device_record(path), devices[0].platform + "\n")
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)
    return KernelMatrix(matrix.values, kind, arch.spec, devices[0].platform, time.perf_counter() - start,
                        devices=len(devices), resumed_blocks=resumed, processes=process_count())


def _job_grid(arch: Architecture, x: np.ndarray, devices: list[jax.Device], batch_size: int | None
              ) -> list[tuple[slice, slice]]:
    """The tile grid every process agrees on: the smallest block any process's memory plan allows."""
    mine = devices[local_ranks(devices)[0]]
    planned = plan_block(arch, x, device=mine, batch_size=batch_size)[0]
    agreed = int(all_gather(np.array([planned], dtype=np.int64)).min())
    return _blocks(len(x), agreed)


def _owned_tiles(arch: Architecture, x: np.ndarray, kind: str, grid: list[tuple[slice, slice]],
                 devices: list[jax.Device], partial: Path | None, progress: Progress
                 ) -> tuple[dict[int, np.ndarray], int]:
    """{tile index: K[rows, cols]} of the tiles this process's devices own (:func:`tile_owners`), each read from the
    per-tile cache when a finished copy is there, else computed on its owner device and saved; and how many were
    read."""
    owners, local = tile_owners(len(grid), len(devices)), set(local_ranks(devices))
    mine = [t for t in range(len(grid)) if owners[t] in local]
    tiles: dict[int, np.ndarray] = {}
    for t in mine:
        block = _saved_block(partial, *grid[t])
        if block is not None:
            tiles[t] = block
    resumed, todo = len(tiles), [t for t in mine if t not in tiles]
    index = {(grid[t][0].start, grid[t][1].start): t for t in todo}
    stage = f"kernel (process {process_index()}'s {len(mine)} of {len(grid)} tiles)"
    progress(stage, resumed, len(mine))
    for rows, cols, block in evaluate_blocks(_jitted_kernel_fn(arch), x, [grid[t] for t in todo],
                                             [devices[rank] for rank in sorted(local)], kind,
                                             placement=[devices[owners[t]] for t in todo]):
        if partial is not None:
            save_atomically(_block_path(partial, rows, cols), block)
        tiles[index[rows.start, cols.start]] = block
        progress(stage, len(tiles), len(mine))
    return tiles, resumed


def _gathered(grid: list[tuple[slice, slice]], owned: dict[int, np.ndarray], devices: list[jax.Device],
              matrix: _GramMatrix) -> _GramMatrix:
    """Every process's tiles in every process's ``matrix``: each process packs its tiles (in tile order) into one
    buffer, padded to the longest share, and one all-gather moves them."""
    owners = [devices[rank].process_index for rank in tile_owners(len(grid), len(devices))]
    sizes = [(rows.stop - rows.start) * (cols.stop - cols.start) for rows, cols in grid]
    longest = max(sum(size for size, p in zip(sizes, owners) if p == q) for q in set(owners))
    buffer = np.zeros(longest)
    mine = np.concatenate([owned[t].reshape(-1) for t in sorted(owned)]) if owned else np.zeros(0)
    buffer[:mine.size] = mine
    gathered = all_gather(buffer)
    offsets = dict.fromkeys(set(owners), 0)
    for t, (rows, cols) in enumerate(grid):
        p = owners[t]
        block = gathered[p, offsets[p]:offsets[p] + sizes[t]].reshape(rows.stop - rows.start, cols.stop - cols.start)
        offsets[p] += sizes[t]
        matrix.store(rows, cols, block)
    return matrix


@dataclasses.dataclass(frozen=True)
class KernelOperator:
    """The (n, n) kernel matrix as a linear operator whose blocks are computed on the fly and never held whole:
    for samples whose matrix does not fit in memory (the top-k eigensolver of :mod:`kernelscale.spectrum`).

    Every :meth:`matvec` is one pass over the n(n+1)/2 block pairs (spread over ``devices`` as
    :func:`compute_kernel` does); memory is O(n l) for l vectors plus one block per device. Each pass reports
    ``progress("kernel pass", blocks_done, blocks)``.
    """

    arch: Architecture
    x: np.ndarray
    kind: str
    batch_size: int
    devices: tuple
    kernel_fn: Callable = dataclasses.field(repr=False, compare=False, default=None)
    progress: Progress = dataclasses.field(repr=False, compare=False, default=no_progress)

    def __post_init__(self):
        if self.kernel_fn is None:
            object.__setattr__(self, "kernel_fn", _jitted_kernel_fn(self.arch))

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def matvec(self, vectors: np.ndarray) -> np.ndarray:
        """``K @ vectors`` for vectors of shape (n, l)."""
        vectors = np.asarray(vectors, dtype=np.float64)
        out = np.zeros_like(vectors)
        blocks = _blocks(self.n, self.batch_size)
        self.progress("kernel pass", 0, len(blocks))
        for done, (rows, cols, block) in enumerate(evaluate_blocks(self.kernel_fn, self.x, blocks, list(self.devices),
                                                                   self.kind), start=1):
            out[rows] += block @ vectors[cols]
            if rows != cols:
                out[cols] += block.T @ vectors[rows]
            self.progress("kernel pass", done, len(blocks))
        return out

    def diagonal(self) -> np.ndarray:
        """``K[i, i]`` for all i, shape (n,) (from the diagonal blocks only)."""
        starts = range(0, self.n, self.batch_size)
        blocks = [(slice(i, min(i + self.batch_size, self.n)),) * 2 for i in starts]
        out = np.empty(self.n)
        for rows, _, block in evaluate_blocks(self.kernel_fn, self.x, blocks, list(self.devices), self.kind):
            out[rows] = np.diag(block)
        return out

    def subset(self, index: np.ndarray) -> KernelOperator:
        """The operator of the kernel on the points ``x[index]``."""
        return dataclasses.replace(self, x=np.ascontiguousarray(self.x[np.asarray(index)]))


@validated
@precise_function
def kernel_operator(arch: str | Architecture | tuple, x: np.ndarray, *, kind: str = "ntk", device: str | None = None,
                    devices: int | None = None, batch_size: int | None = None, use_cache: bool = True,
                    progress: Progress = no_progress) -> KernelOperator | TileOperator:
    """A :class:`KernelOperator` for the ``kind`` kernel of ``arch`` on ``x`` (same checks and device choice as
    :func:`compute_kernel`; the block size comes from the device's memory when None). In a multi-process job, a
    :class:`TileOperator` over the tiles the job's devices own (computed now, or read from the per-tile cache
    unless ``use_cache`` is False)."""
    arch, x = _check_inputs(arch, x)
    if in_job():
        return _job_operator(arch, x, kind, device=device, batch_size=batch_size, use_cache=use_cache,
                             progress=progress)
    used = _use_devices(device, devices)
    batch_size = plan_block(arch, x, device=used[0], batch_size=batch_size)[0]
    return KernelOperator(arch=arch, x=x, kind=kind, batch_size=int(batch_size), devices=tuple(used),
                          progress=progress)


def _check_inputs(arch, x) -> tuple[Architecture, np.ndarray]:
    arch = as_architecture(arch)
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim < 2 or len(x) < 2:
        raise DataError(f"x must have shape (n >= 2, ...); got {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise DataError("x contains NaN or infinite values; clean or drop those points.")
    return arch, x


def _use_devices(device: str | None, devices: int | None) -> list[jax.Device]:
    available = select_devices(device)
    if devices is not None and not (isinstance(devices, int) and 1 <= devices <= len(available)):
        raise DataError(f"devices must be an integer in [1, {len(available)}] (local {available[0].platform} "
                        f"devices); got {devices!r}.")
    return available[:devices] if devices is not None else available


@dataclasses.dataclass(frozen=True)
class TileOperator:
    """The (n, n) kernel as the upper-triangle tiles a multi-process job's devices own, each kept by its process:
    :meth:`matvec` multiplies this process's tiles and sums the (n, l) partial products over the processes (one
    ``psum`` per pass). Memory per process: its share of the tiles, about n^2 / 2 / processes numbers.

    ``index`` restricts it to the points ``x[index]`` (:meth:`subset`): ``K[index, index] @ v`` is the rows
    ``index`` of ``K @ w`` with w zero outside ``index``, a whole pass over the tiles.
    """

    n_points: int
    grid: tuple
    tiles: dict = dataclasses.field(repr=False, compare=False)
    devices: tuple = ()
    index: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.n_points if self.index is None else len(self.index)

    def matvec(self, vectors: np.ndarray) -> np.ndarray:
        """``K @ vectors`` for vectors of shape (n, l)."""
        vectors = np.asarray(vectors, dtype=np.float64)
        whole = vectors if self.index is None else np.zeros((self.n_points, vectors.shape[1]))
        if self.index is not None:
            whole[self.index] = vectors
        out = np.zeros_like(whole)
        for t, block in self.tiles.items():
            rows, cols = self.grid[t]
            out[rows] += block @ whole[cols]
            if rows != cols:
                out[cols] += block.T @ whole[rows]
        out = sum_over_processes(out)
        return out if self.index is None else out[self.index]

    def diagonal(self) -> np.ndarray:
        """``K[i, i]`` for all i, shape (n,)."""
        out = np.zeros(self.n_points)
        for t, block in self.tiles.items():
            rows, cols = self.grid[t]
            if rows == cols:
                out[rows] = np.diag(block)
        out = sum_over_processes(out)
        return out if self.index is None else out[self.index]

    def subset(self, index: np.ndarray) -> TileOperator:
        """The operator of the kernel on the points ``x[index]``."""
        index = np.asarray(index)
        return dataclasses.replace(self, index=index if self.index is None else self.index[index])


def _job_operator(arch: Architecture, x: np.ndarray, kind: str, *, device: str | None, batch_size: int | None,
                  use_cache: bool, progress: Progress) -> TileOperator:
    """:func:`kernel_operator` in a multi-process job: the tiles this process owns, after checking that the
    busiest host holds its processes' shares."""
    devices = job_devices(device)
    grid = _job_grid(arch, x, devices, batch_size)
    owners, local = tile_owners(len(grid), len(devices)), set(local_ranks(devices))
    share = sum((rows.stop - rows.start) * (cols.stop - cols.start) * 8
                for t, (rows, cols) in enumerate(grid) if owners[t] in local)
    host = busiest_host(available_host_memory())
    largest = int(all_gather(np.array([share], dtype=np.int64)).max())
    if largest > host.per_process:
        raise MemoryPlanError(f"the kernel's tiles need up to {largest / 2**30:.1f} GiB per process, but the busiest "
                              f"host has {host.available / 2**30:.1f} GiB for its {host.processes} processes: add "
                              "processes (hosts), or use a smaller n.")
    path = cache_path(arch, x, kind) if use_cache and arch.cacheable else None
    partial = _partial_folder(path, grid[0][0].stop) if path is not None and len(grid) > 1 else None
    tiles, _ = _owned_tiles(arch, x, kind, grid, devices, partial, progress)
    return TileOperator(n_points=len(x), grid=tuple(grid), tiles=tiles, devices=tuple(devices))
