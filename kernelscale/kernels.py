"""NNGP / NTK Gram matrices: a memory plan first, then batched float64 blocks on a JAX device, cached on disk.

``compute_kernel(arch, x, kind="ntk")`` returns a :class:`KernelMatrix` holding the (n, n) Gram matrix
``K[i, j] = k(x_i, x_j)`` of the architecture's infinite-width kernel. The matrix is computed in square blocks of
``batch_size`` points (only blocks on or above the diagonal; the rest by symmetry), in float64 with the highest
matmul precision (on GPUs float32 would silently use TF32, a noise floor near 1e-3 of the top eigenvalue).

Blocks are spread round-robin over all local JAX devices of the chosen platform (each block's inputs are placed on
its device, so the jitted kernel runs there; up to one block per device is in flight at a time). With the cache on,
every finished block is saved under ``kernel-<key>.partial-b<batch_size>/`` as soon as it is done, so an
interrupted computation resumes where it stopped; the folder is removed once the whole matrix is cached.
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
from .errors import DataError, KernelError
from .memory import network_errors, plan_block, plan_memory
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
      devices: how many devices computed blocks (0 when read from the cache).
      resumed_blocks: blocks read from an interrupted earlier computation instead of being computed.
    """

    matrix: np.ndarray
    kind: str
    arch: str
    device: str
    seconds: float
    from_cache: bool = False
    devices: int = 1
    resumed_blocks: int = 0

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


@validated
@precise_function
def compute_kernel_share(arch: str | Architecture | tuple, x: np.ndarray, *, kind: str = "ntk", batch_size: int,
                         share: tuple[int, int], device: str | None = None, devices: int | None = None) -> int:
    """Compute this process's share of the kernel's blocks into the cache's partial folder; returns how many it
    computed. For several processes or hosts with a shared cache folder (``$KERNELSCALE_CACHE`` on a shared file
    system): process i of p, ``share=(i, p)``, computes the blocks with index = i mod p that are not saved yet; a
    later :func:`compute_kernel` with the same ``batch_size`` then assembles the matrix from the saved blocks (and
    computes any still missing). With ``jax.distributed``, ``share=(jax.process_index(), jax.process_count())``.
    """
    index, count = share
    if not (isinstance(count, int) and count >= 1 and isinstance(index, int) and 0 <= index < count):
        raise DataError(f"share must be (index, count) with 0 <= index < count; got {share!r}.")
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise DataError("compute_kernel_share needs an explicit batch_size >= 1, the same in every process (the "
                        f"block grid must agree); got {batch_size!r}.")
    arch, x = _check_inputs(arch, x)
    if not arch.cacheable:
        raise DataError("sharing blocks needs a cacheable architecture (a spec string, or from_stax with a name).")
    path = cache_path(arch, x, kind)
    if path.is_file():
        return 0
    used = _use_devices(device, devices)
    plan_memory(arch, x, device=used[0], batch_size=batch_size)
    folder = _partial_folder(path, batch_size)
    mine = [(rows, cols) for i, (rows, cols) in enumerate(_blocks(len(x), batch_size))
            if i % count == index and not _block_path(folder, rows, cols).is_file()]
    for rows, cols, block in evaluate_blocks(_jitted_kernel_fn(arch), x, mine, used, kind):
        save_atomically(_block_path(folder, rows, cols), block)
    return len(mine)


@validated
def missing_blocks(arch: str | Architecture | tuple, x: np.ndarray, *, kind: str = "ntk", batch_size: int) -> int:
    """How many blocks of the kernel are neither cached as a whole matrix nor saved in its partial folder (0 when
    the shares of :func:`compute_kernel_share` are all done)."""
    arch, x = _check_inputs(arch, x)
    path = cache_path(arch, x, kind)
    if path.is_file():
        return 0
    folder = _partial_folder(path, batch_size)
    return sum(not _block_path(folder, rows, cols).is_file() for rows, cols in _blocks(len(x), batch_size))


def _block_path(folder: Path, rows: slice, cols: slice) -> Path:
    return folder / f"block-{rows.start}-{cols.start}.npy"


def _load_block(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    try:
        block = np.load(path)
    except (OSError, ValueError):
        return None  # unreadable: recompute it
    return block if block.shape == shape else None


def evaluate_blocks(kernel_fn: Callable, x: np.ndarray, blocks: list[tuple[slice, slice]],
                    devices: list[jax.Device], kind: str):
    """Yield ``(rows, cols, K[rows, cols])`` (float64 arrays) for each block, spread round-robin over ``devices``
    with one block in flight per device (JAX dispatch is asynchronous on accelerators: committed inputs run the
    jitted kernel on their device while the host collects the previous result; on CPU devices kernelscale turns
    asynchronous dispatch off, see ``_compat``)."""
    in_flight: deque = deque()
    for i, (rows, cols) in enumerate(blocks):
        target = devices[i % len(devices)]
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
      devices: how many of that platform's local devices to spread blocks over (None: all of them).
      batch_size: points per block; chosen from the memory plan when None.
      use_cache: read and write the on-disk cache (:func:`cache_dir`): the whole matrix, and while it is computed
        every finished block (an interrupted computation resumes).
      progress: ``progress("kernel", blocks_done, blocks_total)``.
    """
    arch, x = _check_inputs(arch, x)
    start = time.perf_counter()
    path = cache_path(arch, x, kind) if use_cache and arch.cacheable else None
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
        saved = _block_path(partial, rows, cols) if partial is not None else None
        block = _load_block(saved, (rows.stop - rows.start, cols.stop - cols.start)) if saved and saved.is_file() \
            else None
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
                    devices: int | None = None, batch_size: int | None = None,
                    progress: Progress = no_progress) -> KernelOperator:
    """A :class:`KernelOperator` for the ``kind`` kernel of ``arch`` on ``x`` (same checks and device choice as
    :func:`compute_kernel`; the block size comes from the device's memory when None)."""
    arch, x = _check_inputs(arch, x)
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
