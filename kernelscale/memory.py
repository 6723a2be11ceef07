"""The memory plan of a kernel computation, made before anything is allocated.

The host holds the (n, n) float64 matrix and its eigendecomposition (about 4 n^2 numbers); a device holds one block
of ``batch_size^2`` pairs of points and the kernel's intermediates for each pair. How many numbers a pair costs
depends on the network: a fully connected kernel keeps a few scalars per pair, a convolutional one a number per pixel
(Flatten readout) or per pair of pixels (global average pooling: 614,656 for 28 x 28 images). For kernelscale's
specs it is counted from the architecture (:func:`pair_numbers`); for a user's stax network it is measured, by
tracing the network's kernel on a block of 4 x 4 points without running it (:func:`traced_pair_numbers`), so a
pooled network on large images gets small blocks, or a refusal naming what would fit, instead of a machine-wide
out-of-memory kill.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os

import jax
import numpy as np

from ._compat import precise
from .architectures import Architecture
from .errors import KernelError, KernelscaleError, MemoryPlanError

BYTES = 8  # float64
# Kernel intermediates alive at once, in multiples of the largest per-pair array: a fully connected kernel keeps a few
# scalars per pair; convolutional kernels one per pixel (Flatten readout) or per pixel pair (global average pooling).
INTERMEDIATES = 16
# XLA's CPU convolutions crashed (segfault) on resnet blocks of 24 x 24 digits (2.4M pair-pixel-pairs) and ran on
# 12 x 12 (0.6M) on the project's first CPU VM (its CPU model was not recorded); on an AMD EPYC (AVX2) VM, blocks of
# 24, 48 and 64 ran (2026-12-02). Until the crash is understood (docs/quickstart.md, "Known problem"), automatic
# blocks of image kernels on a CPU device are capped at this many pair-pixel entries.
MAX_BLOCK_PIXEL_ENTRIES = 1_000_000
MAX_BATCH_SIZE = 2048
TRACE_POINTS = 4


@dataclasses.dataclass(frozen=True)
class MemoryPlan:
    """Bytes needed before anything is allocated: the matrix, its eigendecomposition and one kernel block.

    ``pair_numbers`` is the float64 numbers the kernel's largest intermediate holds per pair of points
    (``block_bytes = batch_size^2 * pair_numbers * INTERMEDIATES * 8``); ``counted`` says how it was obtained."""

    n: int
    batch_size: int
    matrix_bytes: int
    eigh_bytes: int
    block_bytes: int
    host_available: int
    device_available: int
    pair_numbers: int = INTERMEDIATES
    counted: str = "from the architecture"

    @property
    def host_needed(self) -> int:
        return self.matrix_bytes + self.eigh_bytes

    def max_n(self) -> int:
        """Largest n whose matrix and eigendecomposition (about 4 n^2 float64 numbers) fit in host memory."""
        return largest_n(self.host_available)



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


def full_eigh_bytes(n: int) -> int:
    """Host bytes of an (n, n) float64 matrix plus its full eigendecomposition (eigenvectors and workspace): 4 n^2."""
    return 4 * n * n * BYTES


def gathered_eigh_bytes(n: int) -> int:
    """Host bytes per process of a multi-process job's gather route: :func:`full_eigh_bytes` plus the gathered
    tiles (the upper triangle, n^2 / 2, padded to the longest share) and the process's own: 5 n^2 float64."""
    return full_eigh_bytes(n) + n * n * BYTES


def largest_n(host_available: int) -> int:
    """Largest n whose matrix and full eigendecomposition (:func:`full_eigh_bytes`) fit in ``host_available`` bytes."""
    return int(np.sqrt(host_available / (4 * BYTES)))


def pair_numbers(arch: Architecture, point_shape: tuple[int, ...]) -> int:
    """float64 numbers of a kernelscale spec's largest per-pair intermediate: 1 for flat inputs, a pixel's worth per
    pair of images (Flatten readout), a pixel pair's (global average pooling)."""
    if len(point_shape) == 3:
        pixels = point_shape[0] * point_shape[1]
        return pixels * pixels if arch.pooled else pixels
    return 1


def traced_pair_numbers(kernel_fn, point_shape: tuple[int, ...]) -> int:
    """float64 numbers per pair of points in the largest array of ``kernel_fn``'s computation, measured by tracing
    it (``jax.make_jaxpr``: shapes only, nothing computed) on a block of TRACE_POINTS x TRACE_POINTS points. Raises
    KernelError when the kernel is not one number per pair (a network whose output keeps spatial axes)."""
    x = np.zeros((TRACE_POINTS, *point_shape))
    with precise(), network_errors(x):
        traced = jax.make_jaxpr(lambda a, b: kernel_fn(a, b, "ntk"))(x, x)
    output = tuple(traced.out_avals[0].shape)
    if output != (TRACE_POINTS, TRACE_POINTS):
        raise KernelError(f"the network's kernel on {TRACE_POINTS} x {TRACE_POINTS} points has shape {output}, not "
                          f"({TRACE_POINTS}, {TRACE_POINTS}): its output keeps axes besides the batch (a Dense or "
                          "Conv readout on images without stax.Flatten() or stax.GlobalAvgPool() before it). End the "
                          "network in one output per point, or pass from_stax(..., input_kind='flat').")
    largest = max(math.prod(aval.shape) for aval in _avals(traced.jaxpr))
    return max(1, math.ceil(largest / TRACE_POINTS**2))


def _avals(jaxpr):
    """The abstract values of every equation's outputs, in nested jaxprs (jit, custom derivatives) too."""
    for eqn in jaxpr.eqns:
        for var in eqn.outvars:
            if hasattr(var.aval, "shape"):
                yield var.aval
        for param in eqn.params.values():
            for sub in param if isinstance(param, (list, tuple)) else (param,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    yield from _avals(inner)


@contextlib.contextmanager
def network_errors(x: np.ndarray):
    """A network that cannot take inputs of x's shape fails inside neural-tangents or JAX (a TypeError or ValueError
    from a layer): say so as a KernelError, with the shape and what to pass."""
    try:
        yield
    except KernelscaleError:
        raise
    except (TypeError, ValueError) as exc:
        raise KernelError(f"the network's kernel could not be computed on inputs of shape {tuple(x.shape[1:])} per "
                          f"point ({type(exc).__name__}: {exc}). A convolutional network needs images of shape "
                          "(n, H, W, C): give 4-D arrays to dataset_from_arrays, or from_stax(..., "
                          "input_kind='image'); a fully connected one needs (n, features).") from exc


def plan_block(arch: Architecture, x: np.ndarray, *, device: jax.Device, batch_size: int | None = None,
               device_available: int | None = None) -> tuple[int, int, str, int]:
    """The block of a kernel computation on ``device``: ``(batch_size, pair_numbers, counted, device_available)``.

    Unless given, the block (points per side) uses at most a quarter of the device's free memory (and, for image
    kernels on a CPU, at most MAX_BLOCK_PIXEL_ENTRIES pair-pixel entries). Raises MemoryPlanError, with the largest
    block that fits, when the block does not fit.
    """
    point_shape = tuple(x.shape[1:])
    device_available = available_device_memory(device) if device_available is None else device_available
    if arch.name == "stax":
        numbers, counted = traced_pair_numbers(arch.kernel_fn, point_shape), "traced from the network's kernel"
    else:
        numbers, counted = pair_numbers(arch, point_shape), "from the architecture"
    per_pair = numbers * INTERMEDIATES * BYTES
    if batch_size is None:
        batch_size = int(np.sqrt(device_available / 4 / per_pair))
        if len(point_shape) == 3 and device.platform == "cpu":
            batch_size = min(batch_size, int(np.sqrt(MAX_BLOCK_PIXEL_ENTRIES / numbers)))
        batch_size = min(len(x), batch_size, MAX_BATCH_SIZE)
    if batch_size < 1 or batch_size**2 * per_pair > device_available:
        largest = int(np.sqrt(device_available / per_pair))
        fix = (f"pass batch_size <= {largest}" if largest >= 1 else "not even one pair of points fits: use smaller "
               "images, or pool (stax.AvgPool) before layers that keep pixel pairs")
        side = max(1, batch_size)
        raise MemoryPlanError(
            f"one kernel block of {side} x {side} points needs {side**2 * per_pair / 2**30:.2f} GiB on {device} "
            f"({numbers} numbers per pair of points in the largest intermediate, {counted}, times {INTERMEDIATES} "
            f"alive at once), but {device_available / 2**30:.2f} GiB are free; {fix}.")
    return batch_size, numbers, counted, device_available


def plan_memory(arch: Architecture, x: np.ndarray, *, device: jax.Device, batch_size: int | None = None,
                host_available: int | None = None, device_available: int | None = None) -> MemoryPlan:
    """Plan the computation before allocating (the block: :func:`plan_block`); raises MemoryPlanError, with the
    largest n or block that fits, if it won't. ``host_available`` and ``device_available`` default to what is free
    now."""
    n = len(x)
    host_available = available_host_memory() if host_available is None else host_available
    matrix_bytes = n * n * BYTES
    if full_eigh_bytes(n) > host_available:
        raise MemoryPlanError(
            f"n={n} needs {full_eigh_bytes(n) / 2**30:.1f} GiB of host memory for the kernel matrix and its "
            f"eigendecomposition, but {host_available / 2**30:.1f} GiB are available. Use n <= "
            f"{largest_n(host_available)} on this machine.")
    batch_size, numbers, counted, device_available = plan_block(arch, x, device=device, batch_size=batch_size,
                                                                device_available=device_available)
    return MemoryPlan(n=n, batch_size=batch_size, matrix_bytes=matrix_bytes,
                      eigh_bytes=full_eigh_bytes(n) - matrix_bytes,
                      block_bytes=batch_size**2 * numbers * INTERMEDIATES * BYTES, host_available=host_available,
                      device_available=device_available, pair_numbers=numbers, counted=counted)
