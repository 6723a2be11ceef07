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
import os
import shutil
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np

from ._compat import nt
from .architectures import Architecture, as_architecture
from ._io import write_atomically
from .errors import DataError, KernelError, MemoryPlanError

KINDS = ("ntk", "nngp")
_BYTES = 8  # float64
# Kernel intermediates per pair of points, in float64 numbers: a fully connected kernel keeps a few scalars per
# pair; convolutional kernels keep one per pixel (Flatten readout) or per pixel pair (global average pooling).
_INTERMEDIATES = 16
# XLA's CPU convolutions crashed (segfault) on resnet blocks of 24 x 24 digits (2.4M pair-pixel-pairs) and ran on
# 12 x 12 (0.6M): automatic blocks of image kernels are capped at this many pair-pixel entries.
MAX_BLOCK_PIXEL_ENTRIES = 1_000_000


@dataclasses.dataclass(frozen=True)
class KernelMatrix:
    """A Gram matrix and where it came from.

    Attributes:
      matrix: (n, n) float64, symmetric.
      kind: ``"ntk"`` or ``"nngp"``.
      arch: the architecture's spec string.
      device: the JAX device that computed it (``"cpu"``, ``"gpu"``...), or ``"cache"``.
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


@dataclasses.dataclass(frozen=True)
class MemoryPlan:
    """Bytes needed before anything is allocated: the matrix, its eigendecomposition and one kernel block."""

    n: int
    batch_size: int
    matrix_bytes: int
    eigh_bytes: int
    block_bytes: int
    host_available: int
    device_available: int

    @property
    def host_needed(self) -> int:
        return self.matrix_bytes + self.eigh_bytes

    def max_n(self) -> int:
        """Largest n whose matrix and eigendecomposition (about 4 n^2 float64 numbers) fit in host memory."""
        return int(np.sqrt(self.host_available / (4 * _BYTES)))


def cache_dir() -> Path:
    """Folder for cached kernels: ``$KERNELSCALE_CACHE`` or ``~/.cache/kernelscale``."""
    return Path(os.environ.get("KERNELSCALE_CACHE", Path.home() / ".cache" / "kernelscale"))


def available_host_memory() -> int:
    """Bytes of host memory available now (``MemAvailable`` of /proc/meminfo; else physical pages)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def available_device_memory(device: jax.Device) -> int:
    """Free bytes on a JAX device; host memory for CPU devices (which report no memory statistics)."""
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
    return available_host_memory()


def _pair_numbers(x: np.ndarray, arch: Architecture) -> int:
    """float64 numbers one pair of points costs inside the kernel computation."""
    if x.ndim == 4 and arch.input_kind == "image":
        pixels = x.shape[1] * x.shape[2]
        pooled = "GlobalAvgPool" in arch.spec or arch.spec.startswith(("cnn-gap", "resnet"))
        return _INTERMEDIATES * (pixels * pixels if pooled else pixels)
    return _INTERMEDIATES


def plan_memory(arch: Architecture, x: np.ndarray, *, device: jax.Device, batch_size: int | None = None,
                host_available: int | None = None) -> MemoryPlan:
    """Plan the computation before allocating; raises MemoryPlanError (with the largest n that fits) if it won't.

    The host must hold the matrix (n^2 float64) and the eigendecomposition's eigenvectors and workspace
    (about 3 n^2 more); a device must hold one block of ``batch_size^2`` pairs' intermediates. The block size is
    chosen to use at most a quarter of the device's free memory unless given.
    """
    n = len(x)
    host_available = available_host_memory() if host_available is None else host_available
    device_available = available_device_memory(device)
    per_pair = _pair_numbers(x, arch) * _BYTES
    if batch_size is None:
        batch_size = int(np.sqrt(device_available / 4 / per_pair))
        if x.ndim == 4:
            pixel_entries_per_pair = per_pair // (_INTERMEDIATES * _BYTES)
            batch_size = min(batch_size, int(np.sqrt(MAX_BLOCK_PIXEL_ENTRIES / pixel_entries_per_pair)))
        batch_size = max(1, min(n, batch_size, 2048))
    plan = MemoryPlan(n=n, batch_size=batch_size, matrix_bytes=n * n * _BYTES, eigh_bytes=3 * n * n * _BYTES,
                      block_bytes=batch_size * batch_size * per_pair, host_available=host_available,
                      device_available=device_available)
    if plan.host_needed > host_available:
        raise MemoryPlanError(
            f"n={n} needs {plan.host_needed / 2**30:.1f} GiB of host memory for the kernel matrix and its "
            f"eigendecomposition, but {host_available / 2**30:.1f} GiB are available. Use n <= {plan.max_n()} "
            "on this machine.")
    if plan.block_bytes > device_available:
        raise MemoryPlanError(
            f"one kernel block of batch_size={batch_size} needs {plan.block_bytes / 2**30:.2f} GiB on {device}, "
            f"but {device_available / 2**30:.2f} GiB are free; pass a smaller batch_size.")
    return plan


def select_device(device: str | None) -> jax.Device:
    """``None`` -> JAX's default device; ``"cpu"`` / ``"gpu"`` -> the first device of that platform."""
    return select_devices(device)[0]


def select_devices(device: str | None) -> list[jax.Device]:
    """All local devices of the platform ``device`` names (``None``: JAX's default platform)."""
    if device is None:
        return jax.local_devices()
    if device not in ("cpu", "gpu"):
        raise DataError(f"device must be 'cpu' or 'gpu', got {device!r}.")
    try:
        return jax.local_devices(backend=device)
    except RuntimeError:
        raise KernelError(f"device={device!r} was requested but JAX sees no {device.upper()} "
                          f"(available: {', '.join(sorted({d.platform for d in jax.devices()}))}). "
                          "Install JAX with CUDA support, or use --device cpu.") from None


def cache_key(arch: Architecture, x: np.ndarray, kind: str) -> str:
    """SHA-256 of everything that determines the matrix: spec, kind, inputs, dtype and library versions."""
    digest = hashlib.sha256()
    for part in (arch.spec, kind, str(x.shape), str(x.dtype), nt.__version__, jax.__version__, "float64", "v1"):
        digest.update(part.encode() + b"\0")
    digest.update(np.ascontiguousarray(x).tobytes())
    return digest.hexdigest()[:32]


def save_atomically(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` (.npy), creating the folder; no partial file is left on error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda f: np.save(f, array))


def _blocks(n: int, batch_size: int) -> list[tuple[slice, slice]]:
    starts = range(0, n, batch_size)
    return [(slice(i, min(i + batch_size, n)), slice(j, min(j + batch_size, n)))
            for i in starts for j in starts if j >= i]


def _block_path(folder: Path, rows: slice, cols: slice) -> Path:
    return folder / f"block-{rows.start}-{cols.start}.npy"


def _load_block(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    try:
        block = np.load(path)
    except (OSError, ValueError):
        return None  # unreadable: recompute it
    return block if block.shape == shape else None


def compute_kernel(
    arch: str | Architecture | tuple,
    x: np.ndarray,
    *,
    kind: str = "ntk",
    device: str | None = None,
    devices: int | None = None,
    batch_size: int | None = None,
    use_cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> KernelMatrix:
    """The (n, n) float64 Gram matrix of the architecture's infinite-width ``kind`` kernel on inputs ``x``.

    Args:
      arch: spec string, :class:`Architecture` or stax triple.
      x: inputs, shape (n, F) for fully connected or (n, H, W, C) for convolutional architectures.
      kind: ``"ntk"`` or ``"nngp"``.
      device: ``"cpu"``, ``"gpu"`` or None (JAX's default platform).
      devices: how many of that platform's local devices to spread blocks over (None: all of them).
      batch_size: points per block; chosen from the memory plan when None.
      use_cache: read and write the on-disk cache (:func:`cache_dir`).
      progress: called as ``progress(blocks_done, blocks_total)``.
    """
    arch = as_architecture(arch)
    if kind not in KINDS:
        raise KernelError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}.")
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim < 2 or len(x) < 2:
        raise DataError(f"x must have shape (n >= 2, ...); got {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise DataError("x contains NaN or infinite values; clean or drop those points.")
    start = time.perf_counter()
    path = cache_dir() / f"kernel-{cache_key(arch, x, kind)}.npy" if use_cache and arch.cacheable else None
    if path is not None and path.is_file():
        try:
            matrix = np.load(path)
            if matrix.shape == (len(x), len(x)):
                return KernelMatrix(matrix, kind, arch.spec, "cache", time.perf_counter() - start, from_cache=True,
                                    devices=0)
        except (OSError, ValueError):
            pass  # an unreadable cache entry is recomputed and overwritten
    available = select_devices(device)
    if devices is not None and not (isinstance(devices, int) and 1 <= devices <= len(available)):
        raise DataError(f"devices must be an integer in [1, {len(available)}] (local {available[0].platform} "
                        f"devices); got {devices!r}.")
    used = available[:devices] if devices is not None else available
    plan = plan_memory(arch, x, device=used[0], batch_size=batch_size)
    kernel_fn = jax.jit(arch.kernel_fn, static_argnames="get")
    matrix = np.empty((len(x), len(x)), dtype=np.float64)
    blocks = _blocks(len(x), plan.batch_size)
    partial = path.with_name(path.stem + f".partial-b{plan.batch_size}") if path is not None and len(blocks) > 1 \
        else None
    done, resumed, dispatched = 0, 0, 0

    def store(rows: slice, cols: slice, block: np.ndarray) -> None:
        nonlocal done
        matrix[rows, cols] = block
        matrix[cols, rows] = block.T
        done += 1
        if progress is not None:
            progress(done, len(blocks))

    in_flight: deque = deque()

    def finish_oldest() -> None:
        rows, cols, result = in_flight.popleft()
        block = np.asarray(result, dtype=np.float64)
        if partial is not None:
            save_atomically(_block_path(partial, rows, cols), block)
        store(rows, cols, block)

    for rows, cols in blocks:
        if partial is not None and _block_path(partial, rows, cols).is_file():
            block = _load_block(_block_path(partial, rows, cols), (rows.stop - rows.start, cols.stop - cols.start))
            if block is not None:
                resumed += 1
                store(rows, cols, block)
                continue
        target = used[dispatched % len(used)]
        dispatched += 1
        # committed inputs make the jitted kernel run on their device; dispatch is asynchronous
        in_flight.append((rows, cols, kernel_fn(jax.device_put(x[rows], target), jax.device_put(x[cols], target),
                                                get=kind)))
        if len(in_flight) >= len(used):
            finish_oldest()
    while in_flight:
        finish_oldest()
    if not np.all(np.isfinite(matrix)):
        raise KernelError(f"the {kind} kernel of {arch.spec} has NaN or infinite entries on these inputs; "
                          "check the inputs' scale and the architecture's w_std / b_std.")
    seconds = time.perf_counter() - start
    if path is not None:
        save_atomically(path, matrix)
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)
    return KernelMatrix(matrix, kind, arch.spec, used[0].platform, seconds, devices=len(used),
                        resumed_blocks=resumed)
