"""Eigendecomposition of K/n, PSD and noise-floor checks, target powers, and half-sample spectra.

Conventions (docs/theory.md, "Spectrum"): eigenvalues ``lambda_i`` of ``K/n`` sorted descending estimate the kernel
operator's eigenvalues; target powers ``v_i^2 = sum_c <y_c, u_i>^2 / n`` (u_i unit eigenvectors, summed over
output columns c) estimate the target's weight on each eigen-direction. ``sum_i lambda_i = trace(K)/n`` and
``sum_i v_i^2 = ||y||^2 / n`` hold exactly, which the tail estimator of :mod:`kernelscale.fit` relies on.

Half-sample spectra (the same quantities on disjoint random halves of the sample) let the fit remove the leading
finite-n bias of the tail sums by Richardson extrapolation; see :func:`kernelscale.fit.richardson_tail`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterator

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from ._compat import precise_function
from .errors import KernelError, KernelscaleError, MemoryPlanError, ParameterError
from .distributed import busiest_host, in_job, process_count, process_index, sum_over_processes
from .kernels import select_device
from .memory import available_device_memory, available_host_memory, full_eigh_bytes, gathered_eigh_bytes
from .options import Integer, validated
from .progress import Progress, no_progress
from .random import generator

# Precision-aware thresholds, relative to the top eigenvalue (as scikit-learn's _check_psd_eigenvalues does):
# eigenvalues below n * eps * lambda_max are indistinguishable from zero (the backward error of eigh);
# an eigenvalue below -NEGATIVE_FACTOR times that floor means the matrix is not PSD.
NEGATIVE_FACTOR = 100.0


def noise_floor(lambda_max: float, n: int, dtype=np.float64) -> float:
    """Eigenvalues of an (n, n) matrix below ``n * eps(dtype) * lambda_max`` are round-off, not signal."""
    return float(n * np.finfo(dtype).eps * max(lambda_max, 0.0))


@dataclasses.dataclass(frozen=True)
class Spectrum:
    """Spectrum of K/n and the target's powers, with half-sample spectra for finite-n corrections.

    Attributes:
      eigenvalues: (n,) eigenvalues of K/n, descending.
      target_powers: (n,) v_i^2, or None when there is no target.
      half_eigenvalues: (h, n // 2) eigenvalues of K_half / (n // 2) on h disjoint random halves.
      half_target_powers: (h, n // 2) or None.
      trace: trace(K)/n = sum of eigenvalues (the operator's trace estimate).
      target_norm: ||y||^2 / n = sum of target powers (0.0 when no target).
      noise_floor: eigenvalues below it are numerically zero.
      n: sample size.
      target: (n, c) the target the powers were computed from (a GP target is drawn inside ``predict``), or None.
      half_traces, half_target_norms: (h,) the halves' trace(K_half)/(n/2) and ||y_half||^2/(n/2) when the spectra
        are truncated (top-k: the tails are totals minus partial sums), else None (the sums of the full spectra).
      solver: ``"full"`` (eigh of the whole matrix) or ``"topk"`` (top-k eigenpairs only; ``eigenvalues`` then
        has k < n entries and ``half_eigenvalues`` k // 2 per half).
      eigh_device: where the whole sample's eigendecomposition ran, as :func:`eigendecompose_where` says (None when
        the caller gave it).
    """

    eigenvalues: np.ndarray
    target_powers: np.ndarray | None
    half_eigenvalues: np.ndarray
    half_target_powers: np.ndarray | None
    trace: float
    target_norm: float
    noise_floor: float
    n: int
    target: np.ndarray | None = None
    half_traces: np.ndarray | None = None
    half_target_norms: np.ndarray | None = None
    solver: str = "full"
    eigh_device: str | None = None

    def totals(self, what: str) -> dict:
        """Keyword arguments for :func:`kernelscale.fit.fit_tail_exponent` on the ``"eigenvalues"`` or ``"target"``
        of a truncated (top-k) spectrum: the sample size and exact sums; empty for a full spectrum."""
        if self.solver != "topk":
            return {}
        if what == "eigenvalues":
            return {"n_samples": self.n, "total": self.trace, "half_totals": self.half_traces}
        return {"n_samples": self.n, "total": self.target_norm, "half_totals": self.half_target_norms}

    @property
    def n_above_floor(self) -> int:
        return int(np.sum(self.eigenvalues > self.noise_floor))


def _check_matrix(matrix: np.ndarray, values: bool = True) -> np.ndarray:
    """The matrix as float64, after checking its shape and (``values``) that it is finite and symmetric."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
        raise KernelError(f"the kernel must be a square (n, n) matrix with n >= 2; got shape {matrix.shape}.")
    if values:
        scale = max(float(matrix.max()), -float(matrix.min()))  # NaN and inf propagate: no (n, n) temporaries
        _check_values(scale, max_asymmetry(matrix) if np.isfinite(scale) else scale)
    return matrix


def _check_values(scale: float, asymmetry: float) -> None:
    """Raise KernelError unless ``scale = max |K|`` is finite and ``max |K - K^T|`` is round-off."""
    if not np.isfinite(scale):
        raise KernelError("the kernel matrix has NaN or infinite entries; recompute it in float64.")
    if asymmetry > 1e-8 * max(scale, 1e-300):
        raise KernelError(f"the kernel matrix is not symmetric (max |K - K^T| = {asymmetry:.3g}, "
                          f"max |K| = {scale:.3g}); a valid kernel gives K[i, j] == K[j, i].")


def max_asymmetry(matrix: np.ndarray, tile: int = 512) -> float:
    """``max |K - K^T|`` tile by tile: no (n, n) temporary, and each transposed read stays in cache (the whole-matrix
    expression took 6.5 s at n = 16384 on the GPU machine's host)."""
    n, worst = matrix.shape[0], 0.0
    for i in range(0, n, tile):
        for j in range(i, n, tile):
            worst = max(worst, float(np.max(np.abs(matrix[i:i + tile, j:j + tile] - matrix[j:j + tile, i:i + tile].T))))
    return worst


def _eigh(scaled: np.ndarray, vectors: bool = True):
    """LAPACK divide and conquer (``syevd``) on a scratch copy the caller no longer needs (overwritten)."""
    # the transpose of a C-ordered symmetric matrix is the same matrix in Fortran order: LAPACK works in place
    return linalg.eigh(scaled.T, eigvals_only=not vectors, driver="evd", overwrite_a=True, check_finite=False)


def _eigh_projections(scaled: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ascending eigenvalues of the symmetric ``scaled`` (n, n) and ``U^T target`` (n, c), without forming U.

    The stages of LAPACK's ``syevd`` without its back-transformation ``U = Q Z``: Householder tridiagonalisation
    ``Q^T A Q = T`` (``sytrd``, blocked), ``Q^T target`` from the reflectors (``ormqr``), divide and conquer on the
    tridiagonal ``T = Z diag(lambda) Z^T`` (``stevd``), and ``U^T target = Z^T (Q^T target)``. Same eigenvalues as
    ``syevd`` (the same stages); the back-transformation is a third of a full eigh (docs/benchmarks.md).
    ``scaled`` is overwritten.
    """
    n = scaled.shape[0]
    work = int(lapack.dsytrd_lwork(n, lower=1)[0])
    # in place, as in _eigh: the transpose of the C-ordered symmetric matrix is the same matrix in Fortran order
    reflectors, diagonal, off_diagonal, tau, info = lapack.dsytrd(scaled.T, lower=1, lwork=work, overwrite_a=1)
    _check_lapack("sytrd", info)
    rotated = np.array(np.reshape(target, (n, -1)), dtype=np.float64, order="F")
    # the reflectors H(1..n-1) sit below the subdiagonal; Q = H(1) ... H(n-1) leaves the first row alone
    below = reflectors[1:, :-1]
    work = int(lapack.dormqr("L", "T", below, tau, rotated[1:], -1)[1][0])
    rotated[1:], _, info = lapack.dormqr("L", "T", below, tau, rotated[1:], max(work, 1))
    _check_lapack("ormqr", info)
    del reflectors, below
    values, tridiagonal_vectors, info = lapack.dstevd(diagonal, off_diagonal, compute_v=1)
    _check_lapack("stevd", info)
    return values, tridiagonal_vectors.T @ rotated


def _check_lapack(routine: str, info: int) -> None:
    if info != 0:
        raise KernelError(f"LAPACK {routine} failed (info = {info}) on the kernel matrix; check that it is finite.")


# Device eigendecomposition. Older JAX releases failed on GPU for matrices over 2^31 bytes (cuSOLVER's 32-bit API;
# jax-ml/jax#23413, #33062); JAX 0.11.2 on an H100 ran float64 n = 23170 (4 GiB) correctly (docs/benchmarks.md).
# No size limit is imposed by default: a solver error raises, and the host takes over. The environment variable
# KERNELSCALE_GPU_EIGH_MAX_BYTES sets one. The device holds the matrix, its eigenvectors and cuSOLVER's workspace:
# the peak was 6.0 times the matrix at n = 16384 and 32768 (H100, benchmarks/gpu_eigh.py).
GPU_EIGH_MAX_BYTES = None
GPU_EIGH_COPIES = 6


def gpu_eigh_max_bytes() -> float:
    """The largest matrix (bytes) sent to the eigensolver on an accelerator (``inf``: no limit)."""
    value = os.environ.get("KERNELSCALE_GPU_EIGH_MAX_BYTES")
    if value is None:
        return float("inf") if GPU_EIGH_MAX_BYTES is None else GPU_EIGH_MAX_BYTES
    try:
        return int(float(value))
    except ValueError:
        raise KernelError(f"KERNELSCALE_GPU_EIGH_MAX_BYTES must be a number of bytes; got {value!r}.") from None


@validated
def eigendecompose(matrix: np.ndarray, *, device: str | None = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Eigen-pairs of K/n: ``(eigenvalues (n,) descending, eigenvectors (n, n) in columns)``.

    ``device``: ``"cpu"`` (LAPACK on the host, the default), ``"gpu"`` or None (the JAX default device: a GPU when
    there is one). On a JAX device the decomposition runs with ``jax.lax.linalg.eigh`` in float64 when the matrix
    is within :func:`gpu_eigh_max_bytes` and fits the device's free memory; otherwise, or when the device fails, it
    falls back to the host (:func:`eigendecompose_where` says which ran).

    Raises KernelError if K is not symmetric, not finite, or has an eigenvalue below
    ``-NEGATIVE_FACTOR * noise_floor`` (not positive semi-definite). Round-off negatives are kept as they are.
    """
    return eigendecompose_where(matrix, device=device)[:2]


@validated
def eigendecompose_where(matrix: np.ndarray, *, device: str | None = "cpu", vectors: bool = True
                         ) -> tuple[np.ndarray, np.ndarray | None, str]:
    """:func:`eigendecompose` and where it ran: ``"cpu"`` (host LAPACK) or the JAX device's platform, with
    ``" (fallback: reason)"`` appended when a requested device could not be used. ``vectors=False`` gives None for
    the eigenvectors (the host then computes eigenvalues only; a device does not copy its eigenvectors back)."""
    matrix = _check_matrix(matrix, values=False)  # values: on the device that runs the solver (fast there)
    eigenvalues, eigenvectors, where = _scaled_eigh(matrix, device, vectors, checked=False)
    _check_psd(eigenvalues[::-1], matrix.shape[0])
    return eigenvalues[::-1], eigenvectors[:, ::-1] if vectors else None, where


@validated
def eigenvalues_and_powers(matrix: np.ndarray, y: np.ndarray | None, *, device: str | None = "cpu"
                           ) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Eigenvalues of K/n (n,) descending, the target powers ``v_i^2`` (n,) in the same order (None without ``y``),
    and where they ran, as :func:`eigendecompose_where`. What :func:`spectrum` needs from the whole sample: on the
    host the eigenvectors are never formed (``U^T y`` comes from the tridiagonal form, :func:`_eigh_projections`),
    which takes 0.6 to 0.8 times numpy's eigh (docs/benchmarks.md). Same checks as :func:`eigendecompose`."""
    values, projections, where = eigenvalues_and_projections(matrix, y, device=device)
    powers = None if projections is None else np.sum(projections**2, axis=1) / len(values)
    return values, powers, where


@validated
def eigenvalues_and_projections(matrix: np.ndarray, y: np.ndarray | None, *, device: str | None = "cpu"
                                ) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Eigenvalues of K/n (n,) descending, ``U^T y`` (n, c) in the same order (None without ``y``; u_i unit
    eigenvectors), and where they ran: :func:`eigenvalues_and_powers` before squaring. The coordinates of the
    target in the kernel's eigenbasis, which random projections of the eigenfeatures act on
    (:func:`kernelscale.measurements.linear_rf_losses`)."""
    matrix = _check_matrix(matrix, values=False)
    n = matrix.shape[0]
    target = None if y is None else _target_columns(y, n)
    values, projections, where = _scaled_eigh(matrix, device, vectors=False, checked=False, target=target)
    _check_psd(values[::-1], n)
    return values[::-1], None if y is None else projections[::-1], where


def _check_psd(eigenvalues: np.ndarray, n: int) -> None:
    """Raise KernelError when the descending eigenvalues of K/n go below the round-off floor's allowance."""
    floor = noise_floor(eigenvalues[0], n)
    if eigenvalues[0] <= 0 or eigenvalues[-1] < -NEGATIVE_FACTOR * floor:
        raise KernelError(
            f"the kernel matrix is not positive semi-definite: smallest eigenvalue of K/n is {eigenvalues[-1]:.3g}, "
            f"largest {eigenvalues[0]:.3g} (round-off allows down to {-NEGATIVE_FACTOR * floor:.3g}). "
            "A kernel from neural-tangents in float64 is PSD; check that the matrix was not computed in float32 "
            "or modified.")


def _target_columns(y: np.ndarray, n: int) -> np.ndarray:
    """``y`` as an (n, c) float64 array, after checking it has one row per point."""
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    if len(y) != n:
        raise KernelError(f"y has {len(y)} rows but the kernel is {n} x {n}.")
    return y


def _scaled_eigh(matrix: np.ndarray, device: str | None, vectors: bool = True, checked: bool = True,
                 target: np.ndarray | None = None):
    """Ascending eigenvalues of ``matrix / n``; then the eigenvectors (``vectors``), or ``U^T target`` (n, c) when
    ``target`` is given (U then never leaves the device, and the host never forms it), or None; and where they ran.
    On the JAX device when ``device`` asks for one and it works (:func:`_device_eigh`, which checks the values
    there), else host LAPACK, after checking the values on the host unless ``checked``."""
    where = "cpu"
    if device != "cpu":
        values, second, where = _device_eigh(matrix, device, vectors, target=target)
        if values is not None:
            return values, second, where
    if not checked:
        _check_matrix(matrix)
    if target is not None:
        return (*_eigh_projections(matrix / matrix.shape[0], target), where)
    result = _eigh(matrix / matrix.shape[0], vectors)
    return (result, None, where) if not vectors else (*result, where)


@precise_function
def _device_eigh(matrix: np.ndarray, device: str | None, vectors: bool = True, *, target: np.ndarray | None = None):
    """(values, vectors, where) from ``jax.lax.linalg.eigh`` on the JAX device (cuSOLVER on a GPU), or
    (None, None, reason) to use the host. With ``target`` (n, c) the second item is ``U^T target``, computed on the
    device: only (n, c) numbers come back instead of the (n, n) eigenvectors."""
    import jax

    jax_device = select_device(device)
    if jax_device.platform == "cpu" and device is None:
        return None, None, "cpu"  # no accelerator: host LAPACK is the faster CPU path
    n = matrix.shape[0]
    limit = gpu_eigh_max_bytes()
    if matrix.nbytes > limit:
        return None, None, (f"cpu (fallback: the {matrix.nbytes / 2**30:.1f} GiB matrix is over the "
                            f"{limit / 2**30:.1f} GiB device eigh limit)")
    if GPU_EIGH_COPIES * matrix.nbytes > available_device_memory(jax_device):
        return None, None, "cpu (fallback: not enough free device memory)"
    try:
        placed = jax.device_put(matrix, jax_device)
        scale, asymmetry = (float(value) for value in _jitted_device_checks()(placed))
    except Exception as exc:  # XLA runtime errors (out of memory, solver failures) have no common public type
        return None, None, f"cpu (fallback: {type(exc).__name__} on {jax_device.platform})"
    _check_values(scale, asymmetry)  # a bad matrix is an error, not a reason to try the host
    try:
        placed_target = None if target is None else jax.device_put(np.asarray(target, np.float64), jax_device)
        vecs, values, finite, projections = _jitted_device_eigh()(placed, 1.0 / n, placed_target)
        del placed  # donated
        finite = bool(finite)
        values = np.asarray(values, dtype=np.float64)
        if target is not None:
            second = np.asarray(projections, dtype=np.float64) if finite else None
        else:
            second = np.asarray(vecs, dtype=np.float64) if vectors and finite else None
    except Exception as exc:
        return None, None, f"cpu (fallback: {type(exc).__name__} on {jax_device.platform})"
    if not finite:
        return None, None, f"cpu (fallback: non-finite result on {jax_device.platform})"
    return values, second, jax_device.platform


@functools.cache
def _jitted_device_checks():
    """``(max |a|, max |a - a^T|)`` on the device, fused without an (n, n) temporary; ``max |a|`` is NaN when an
    entry is not finite (XLA's CPU max reduction can drop a NaN)."""
    import jax
    import jax.numpy as jnp

    def checks(a):
        scale = jnp.where(jnp.all(jnp.isfinite(a)), jnp.max(jnp.abs(a)), jnp.nan)
        return scale, jnp.max(jnp.abs(a - a.T))

    return jax.jit(checks)


@functools.cache
def _jitted_device_eigh():
    """``(vectors, values, all finite, vectors^T target or None)`` of ``a * scale`` (ascending), with ``a``'s device
    buffer donated: the matrix is already checked symmetric, so no symmetrized copy is made (``jnp.linalg.eigh``
    makes one)."""
    import jax
    import jax.numpy as jnp

    def solve(a, scale, target=None):
        vectors, values = jax.lax.linalg.eigh(a * scale, symmetrize_input=False)
        finite = jnp.all(jnp.isfinite(values)) & jnp.all(jnp.isfinite(vectors))
        return vectors, values, finite, None if target is None else vectors.T @ target

    return jax.jit(solve, donate_argnums=0)


def project_target(eigenvectors: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Target powers ``v_i^2 = sum_c <y_c, u_i>^2 / n``; eigenvectors (n, n) in columns, y (n,) or (n, c)."""
    y = _target_columns(y, eigenvectors.shape[0])
    if eigenvectors.strides[1] < 0:  # a descending view of LAPACK's ascending output: BLAS wants memory order
        return project_target(eigenvectors[:, ::-1], y)[::-1]
    projections = eigenvectors.T @ y
    return np.sum(projections**2, axis=1) / len(y)


def half_samples(n: int, n_halves: int, seed: int) -> Iterator[np.ndarray]:
    """The sorted indices of ``n_halves`` random halves (n // 2 points each) of an n-point sample, disjoint in pairs:
    halves 2j and 2j + 1 split one permutation from the ``"half_samples"`` stream of ``seed``."""
    rng = generator(seed, "half_samples")
    half = n // 2
    permutation = rng.permutation(n)
    for h in range(n_halves):
        if h % 2 == 0 and h > 0:
            permutation = rng.permutation(n)
        yield np.sort(permutation[:half] if h % 2 == 0 else permutation[half : 2 * half])


@validated(n_halves=Integer(0))
def spectrum(
    matrix: np.ndarray,
    y: np.ndarray | None = None,
    *,
    n_halves: int = 2,
    seed: int = 0,
    decomposition: tuple[np.ndarray, np.ndarray | None] | None = None,
    target_powers: np.ndarray | None = None,
    device: str | None = "cpu",
    progress: Progress = no_progress,
) -> Spectrum:
    """Eigenvalues of K/n, target powers, and the same on ``n_halves`` disjoint random halves of the sample.

    Args:
      matrix: (n, n) kernel Gram matrix.
      y: (n,) or (n, c) targets, or None.
      n_halves: number of random half-samples (:func:`half_samples`); 0 disables the finite-n correction.
      seed: seed of the random halves.
      decomposition: the whole matrix's ``(eigenvalues, eigenvectors)`` from :func:`eigendecompose`, or
        ``(eigenvalues, None)`` with ``target_powers`` from :func:`eigenvalues_and_powers`, when the caller already
        has them (avoids a second eigh and a second check of the matrix, which those functions made).
      target_powers: (n,) the whole sample's target powers of ``y``, with ``decomposition = (eigenvalues, None)``.
      device: where the eigendecompositions run, as in :func:`eigendecompose` (the full one only when
        ``decomposition`` is not given; the halves always). On the host no eigenvectors are formed: the target
        powers come from the tridiagonal form (:func:`_eigh_projections`).
      progress: ``progress("eigendecomposition", done, 1 + n_halves)``.

    In a multi-process job (:mod:`kernelscale.distributed`; without ``decomposition``) process 0 decomposes the
    matrix, once, and every other process receives its spectrum.
    """
    matrix = _check_matrix(matrix, values=False)  # the values: by the first eigh, or already by the caller
    n = matrix.shape[0]
    target = None if y is None else _target_columns(y, n)
    if in_job() and decomposition is None:  # decomposed once, on process 0
        return _from_process_0(lambda: _sample_spectrum(matrix, target, n_halves, seed, None, None, device, progress),
                               n, n_halves, target)
    return _sample_spectrum(matrix, target, n_halves, seed, decomposition, target_powers, device, progress)


def _sample_spectrum(matrix: np.ndarray, target: np.ndarray | None, n_halves: int, seed: int, decomposition,
                     target_powers: np.ndarray | None, device: str | None, progress: Progress) -> Spectrum:
    """:func:`spectrum` of a checked (n, n) matrix and (n, c) target (or None), in this process."""
    n = matrix.shape[0]
    progress("eigendecomposition", 0, 1 + n_halves)
    eigenvalues, powers, where = _whole_sample(matrix, target, decomposition, target_powers, device)
    progress("eigendecomposition", 1, 1 + n_halves)
    half_values, half_powers = [], []
    for h, index in enumerate(half_samples(n, n_halves, seed)):
        values, projections, _ = _scaled_eigh(matrix[np.ix_(index, index)], device, vectors=False,
                                              target=None if target is None else target[index])
        half_values.append(values[::-1])
        if target is not None:
            half_powers.append(np.sum(projections**2, axis=1)[::-1] / len(index))
        progress("eigendecomposition", 2 + h, 1 + n_halves)
    half = n // 2
    return Spectrum(
        eigenvalues=eigenvalues,
        target_powers=powers,
        half_eigenvalues=np.array(half_values).reshape(n_halves, half),
        half_target_powers=np.array(half_powers).reshape(n_halves, half) if target is not None else None,
        trace=float(np.trace(matrix) / n),
        target_norm=0.0 if target is None else float(np.sum(target**2) / n),
        noise_floor=noise_floor(eigenvalues[0], n),
        n=n,
        target=target,
        eigh_device=where,
    )


MESSAGE_BYTES = 1024  # of a failure or of where the eigendecomposition ran, sent from process 0 to the others


def _from_process_0(compute, n: int, n_halves: int, target: np.ndarray | None) -> Spectrum:
    """In a multi-process job: the :class:`Spectrum` ``compute()`` gives on process 0, in every process. Process 0
    decomposes the (gathered) matrix once; the others receive its numbers in one sum over the processes (process 0's
    numbers plus the others' zeros: exact), or its error, which they raise too."""
    half, outputs = n // 2, 0 if target is None else 1
    sizes = [n, n * outputs, n_halves * half, n_halves * half * outputs, 3, MESSAGE_BYTES, 1]
    numbers = np.zeros(sum(sizes))
    failure = None
    if process_index() == 0:
        try:
            result = compute()
            parts = [result.eigenvalues, result.target_powers, result.half_eigenvalues, result.half_target_powers,
                     [result.trace, result.target_norm, result.noise_floor], _encoded(result.eigh_device), [0]]
        except KernelscaleError as exc:
            failure = exc
            parts = [np.zeros(size) for size in sizes[:5]] + [_encoded(str(exc)), [1]]
        numbers = np.concatenate([np.ravel(p) if p is not None else np.zeros(0) for p in parts])
    received = np.split(sum_over_processes(numbers), np.cumsum(sizes)[:-1])
    if received[6][0]:
        raise failure or KernelError(f"process 0 stopped: {_decoded(received[5])}")
    return Spectrum(eigenvalues=received[0], target_powers=received[1] if outputs else None,
                    half_eigenvalues=received[2].reshape(n_halves, half),
                    half_target_powers=received[3].reshape(n_halves, half) if outputs else None,
                    trace=float(received[4][0]), target_norm=float(received[4][1]),
                    noise_floor=float(received[4][2]), n=n, target=target, eigh_device=_decoded(received[5]) or None)


def _encoded(text: str | None) -> np.ndarray:
    data = (text or "").encode()[:MESSAGE_BYTES]
    return np.frombuffer(data.ljust(MESSAGE_BYTES, b"\0"), dtype=np.uint8).astype(np.float64)


def _decoded(numbers: np.ndarray) -> str:
    return bytes(numbers.astype(np.uint8)).rstrip(b"\0").decode(errors="replace")


def _whole_sample(matrix, target, decomposition, target_powers, device):
    """(eigenvalues, target powers, where) of the whole sample: computed, or from the caller's decomposition."""
    if decomposition is None:
        return eigenvalues_and_powers(matrix, target, device=device)
    eigenvalues, eigenvectors = decomposition
    powers = target_powers
    if target is not None and powers is None:
        if eigenvectors is None:
            raise ParameterError("spectrum() with y and decomposition=(eigenvalues, None) needs target_powers.")
        powers = project_target(eigenvectors, target)
    return eigenvalues, powers, None


# ---------------------------------------------------------------------------------------------------- choice

# bytes per (point, eigenpair) of the top-k solver: the random basis, its image, QR and SVD workspaces (float64)
TOPK_BYTES = 6 * 8
TOPK_DEFAULT_EIGS = 2000


@dataclasses.dataclass(frozen=True)
class EigensolverChoice:
    """The eigensolver a sample gets, and why (as lineax's ``AutoLinearSolver`` says which solver it picked).

    Attributes:
      name: ``"full"`` (eigh of the whole (n, n) matrix: :func:`spectrum`) or ``"topk"`` (the top ``n_eigs``
        eigenpairs from kernel blocks computed on the fly, the matrix never held: :func:`topk_spectrum`).
      n_eigs: eigenpairs of the top-k solver, None for the full one.
      reason: why, in words (the memory it compared when ``"auto"`` chose).
    """

    name: str
    n_eigs: int | None
    reason: str


@validated
def choose_eigensolver(n: int, eigensolver: str = "auto", n_eigs: int | None = None) -> EigensolverChoice:
    """``"full"`` or ``"topk"`` as asked, or for ``"auto"`` full when the (n, n) matrix and its eigendecomposition
    (about 4 n^2 float64, :func:`kernelscale.memory.full_eigh_bytes`) fit in host memory. The top-k solver takes
    ``n_eigs`` (default min(2000, n/2 - 1, the largest k whose workspace fits)). Raises MemoryPlanError when neither
    fits, ParameterError for an ``n_eigs`` outside [2, n/2)."""
    if eigensolver == "full" and n_eigs is not None:
        raise ParameterError(f"n_eigs={n_eigs} is for the top-k eigensolver, and eigensolver='full' computes all n "
                             "eigenpairs: drop n_eigs, or use eigensolver='topk' (or 'auto').")
    available, needed, memory = _eigh_memory(n)
    if eigensolver == "full" or (eigensolver == "auto" and needed <= available):
        return EigensolverChoice("full", None, "asked for" if eigensolver == "full" else f"auto: {memory}")
    fitting = int((available / (TOPK_BYTES * n) - 10) / 1.25)  # largest k whose workspace fits
    k = min(TOPK_DEFAULT_EIGS, n // 2 - 1, fitting) if n_eigs is None else n_eigs
    if n_eigs is not None and not 2 <= k < n // 2:
        raise ParameterError(f"n_eigs must be an integer in [2, n/2) = [2, {n // 2}); got {k!r}.")
    if k > fitting or k < 2:
        raise MemoryPlanError(f"the top-k eigensolver with n = {n}, n_eigs = {k} needs about "
                              f"{TOPK_BYTES * n * (1.25 * k + 10) / 2**30:.1f} GiB of host memory, "
                              f"{available / 2**30:.1f} GiB are available; use n_eigs <= {fitting} or a smaller n.")
    return EigensolverChoice("topk", k, "asked for" if eigensolver == "topk" else f"auto: {memory}, too little")


def _eigh_memory(n: int) -> tuple[int, int, str]:
    """(bytes available, bytes the full route needs, in words) per process: one process holds the matrix and its
    eigendecomposition; in a multi-process job every process holds the gathered matrix too, and processes on one
    host share its memory (the busiest host counts)."""
    if not in_job():
        available, needed = available_host_memory(), full_eigh_bytes(n)
        return available, needed, (f"{needed / 2**30:.1f} GiB for the full eigendecomposition, "
                                    f"{available / 2**30:.1f} GiB available")
    host, needed = busiest_host(available_host_memory()), gathered_eigh_bytes(n)
    return host.per_process, needed, (
        f"{needed / 2**30:.1f} GiB per process for the gathered matrix and its eigendecomposition, "
        f"{host.per_process / 2**30:.1f} GiB available per process ({host.processes} of the job's "
        f"{process_count()} processes on the busiest host)")


# ---------------------------------------------------------------------------------------------------- top-k

TOPK_OVERSAMPLE = 0.25  # extra random directions, as a fraction of k (at least 10)
TOPK_PASSES = 3  # passes over the kernel: 2 power iterations and the Nystrom pass


def randomized_eigh(matvec, n: int, k: int, *, passes: int = TOPK_PASSES, oversample: int | None = None,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Top-k eigenpairs of a PSD operator known only through ``matvec(V) = A @ V`` (V of shape (n, l)).

    Randomized Nystrom approximation with ``passes - 1`` power iterations (Tropp, Yurtsever, Udell & Cevher,
    "Fixed-rank approximation of a positive-semidefinite matrix from streaming data", NeurIPS 2017, Alg. 3, with the
    range found by subspace iteration as in Halko, Martinsson & Tropp 2011, Alg. 4.4): Q = orth(A^(passes-1) G),
    Y = A Q, then A ~ Y (Q^T Y)^-1 Y^T computed stably with a small shift. The Nystrom eigenvalues are lower
    bounds, accurate for the leading ~k of the l = k + oversample directions.

    Returns (eigenvalues (k,) descending, eigenvectors (n, k) orthonormal columns).
    Raises KernelError when Q^T A Q is not positive definite (A is not PSD).
    """
    if not (isinstance(k, (int, np.integer)) and 1 <= k < n):
        raise KernelError(f"n_eigs must be an integer in [1, n - 1] = [1, {n - 1}]; got {k!r}.")
    if passes < 1:
        raise KernelError(f"passes must be >= 1; got {passes}.")
    oversample = max(10, int(TOPK_OVERSAMPLE * k)) if oversample is None else oversample
    width = min(n, k + oversample)
    rng = generator(seed, "topk_basis")
    basis = np.linalg.qr(rng.standard_normal((n, width)))[0]
    for _ in range(passes - 1):
        basis = np.linalg.qr(matvec(basis))[0]
    image = matvec(basis)
    shift = np.sqrt(n) * np.finfo(np.float64).eps * np.linalg.norm(image, 2)
    image = image + shift * basis
    core = basis.T @ image
    try:
        factor = np.linalg.cholesky((core + core.T) / 2)
    except np.linalg.LinAlgError:
        raise KernelError("the kernel is not positive semi-definite: Q^T K Q has a negative eigenvalue in the "
                          "top-k eigensolver. A neural-tangents kernel in float64 is PSD; check the inputs.") from None
    scaled = linalg.solve_triangular(factor, image.T, lower=True).T  # image @ factor^-T
    vectors, singular, _ = np.linalg.svd(scaled, full_matrices=False)
    values = np.maximum(singular**2 - shift, 0.0)
    return values[:k], vectors[:, :k]


def topk_spectrum(operator, y: np.ndarray | None = None, *, n_eigs: int, n_halves: int = 2, seed: int = 0,
                  passes: int = TOPK_PASSES, progress: Progress = no_progress) -> Spectrum:
    """The :class:`Spectrum` of K/n from its top ``n_eigs`` eigenpairs only, for samples too large for a full
    eigendecomposition; ``operator`` is a :class:`kernelscale.kernels.KernelOperator` (blocks on the fly).

    Tails beyond k come from exact totals: trace(K)/n from the diagonal and ||y||^2/n, minus the partial sums.
    Half-samples (:func:`half_samples`) get the top ``n_eigs`` of their own operators, of which the first
    ``n_eigs // 2`` are kept (the fit uses indices up to n_eigs // 2). Each call of the eigensolver costs ``passes``
    passes over the kernel. ``progress("top-k eigensolver", done, 1 + n_halves)``.
    """
    n = operator.n
    y = None if y is None else np.asarray(y, dtype=np.float64).reshape(n, -1)
    if y is not None and len(y) != n:
        raise KernelError(f"y has {len(y)} rows but the kernel operator has n = {n}.")
    if not 2 <= n_eigs < n // 2:
        raise KernelError(f"n_eigs must lie in [2, n/2) = [2, {n // 2}) for the half-sample correction; got "
                          f"{n_eigs}. Use the full eigendecomposition for small samples.")
    total = 1 + n_halves
    progress("top-k eigensolver", 0, total)
    values, powers, trace, target_norm = _topk_solve(operator, y, n_eigs, passes, seed)
    if values[0] <= 0 or values.sum() > trace * (1 + 1e-8):
        raise KernelError(f"the top-k eigenvalues of K/n sum to {values.sum():.6g}, more than the trace "
                          f"{trace:.6g}, or the largest is not positive: the kernel is not PSD.")
    keep = n_eigs // 2
    halves = []
    for h, index in enumerate(half_samples(n, n_halves, seed)):
        progress("top-k eigensolver", 1 + h, total)
        halves.append(_topk_solve(operator.subset(index), None if y is None else y[index], n_eigs, passes,
                                  seed + 1 + h))
    progress("top-k eigensolver", total, total)
    return Spectrum(
        eigenvalues=values,
        target_powers=powers,
        half_eigenvalues=np.array([v[:keep] for v, _, _, _ in halves]).reshape(n_halves, keep),
        half_target_powers=np.array([p[:keep] for _, p, _, _ in halves]).reshape(n_halves, keep)
        if y is not None else None,
        trace=trace,
        target_norm=target_norm,
        noise_floor=noise_floor(values[0], n),
        n=n,
        target=y,
        half_traces=np.array([t for _, _, t, _ in halves]),
        half_target_norms=np.array([norm for _, _, _, norm in halves]) if y is not None else None,
        solver="topk",
        eigh_device="cpu",  # the small (l, l) problems of the randomized solver run on the host
    )


def _topk_solve(operator, target, n_eigs: int, passes: int, seed: int):
    """(top eigenvalues of K/n, target powers or None, trace(K)/n, ||target||^2/n) of one operator."""
    diagonal = operator.diagonal()
    values, vectors = randomized_eigh(lambda v: operator.matvec(v) / operator.n, operator.n, n_eigs, passes=passes,
                                      seed=seed)
    powers = None if target is None else project_target(vectors, target)
    norm = 0.0 if target is None else float(np.sum(target**2) / operator.n)
    return values, powers, float(diagonal.sum() / operator.n), norm
