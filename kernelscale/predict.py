"""``predict``: architecture and data sample -> kernel -> spectrum -> tail fits -> predicted curves -> Prediction,
without training anything. Each stage is its module's; this one only orders them."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ._compat import precise_function
from .architectures import Architecture, as_architecture
from .curves import CurveGrids, PredictedCurve, curve_grids, predict_curve, width_local_exponent
from .data import Dataset, load_sample
from .errors import DataError
from .fit import TailFit, block_averaged_target, fit_tail_exponent
from .intrinsic import IntrinsicDimension, intrinsic_dimension
from .kernels import compute_kernel, kernel_operator, select_devices
from .options import MIN_SAMPLES, validated
from .progress import Progress, no_progress
from .results import Prediction
from .spectrum import EigensolverChoice, Spectrum, choose_eigensolver, spectrum, topk_spectrum
from .targets import gp_target


@validated
@precise_function
def predict(arch: str | Architecture | tuple, data: str | Dataset, *, n_samples: int | None = None,
            kernel: str = "ntk", seed: int = 0, device: str | None = None, use_cache: bool = True, n_halves: int = 2,
            intrinsic: bool = True, eigensolver: str = "auto", n_eigs: int | None = None, sizes=None, features=None,
            at: int | None = None, ridge: float = 0.0, noise: float = 0.0,
            progress: Progress = no_progress) -> Prediction:
    """Predict alpha_K, alpha_D and alpha_W of ``arch`` on ``n_samples`` points of ``data``, and the loss curves
    L(D) and L(P) past the sample, without training.

    Args:
      arch: spec string (``"fc:depth=3,act=relu"``), :class:`Architecture`, or a neural-tangents stax triple.
      data: data spec string (``"digits"``, ``"sphere:dim=4,target=gp"``...) or a :class:`Dataset`.
      n_samples: sample size n, the kernel (n, n); default min(2000, the data's size) for a spec (noted when that
        caps it), all of a Dataset (fewer are drawn with ``seed``; more is an error on every path).
      kernel: ``"ntk"`` (trained network) or ``"nngp"`` (random features / Bayesian network).
      seed: seed of the sample, of GP targets and of the half-samples (:mod:`kernelscale.random`).
      device: ``"cpu"``, ``"gpu"`` or None (JAX's default device); use_cache: reuse kernels cached on disk.
      n_halves: half-samples for the finite-n correction and the resampling uncertainty.
      intrinsic: also estimate the inputs' intrinsic dimension d (TwoNN, MLE) and 4/d; the larger estimate sets how
        slowly alpha_K's interval lets its local exponent converge (:func:`kernelscale.fit.convergence_factor`).
      eigensolver, n_eigs: ``"full"``, ``"topk"`` (``n_eigs`` eigenpairs, the matrix never held) or ``"auto"``
        (:func:`kernelscale.spectrum.choose_eigensolver`).
      sizes, features: D of L(D) and P of L(P) (default 16 log-spaced from n/64 to 10 n; features as sizes),
        increasing, any past n (:mod:`kernelscale.curves`).
      at: the D where the recommended alpha_D is read from L(D) (default 10 n, added to ``sizes``).
      ridge, noise: of the predicted kernel regression, as in :func:`kernelscale.measure`.
      progress: ``progress(stage, done, total)`` (:mod:`kernelscale.progress`).

    Returns:
      :class:`Prediction`; exponents are None (with ``status`` and ``message``) when a fit fails. Without a target,
      or with the top-k solver, there are no curves and alpha_D is an asymptote, as ``recommendation`` says.
    """
    start = time.perf_counter()
    arch = as_architecture(arch)
    select_devices(device)  # a missing GPU fails here, not after the cache read and the intrinsic dimension
    dataset = load_sample(data, n_samples=n_samples, seed=seed, input_kind=arch.input_kind)
    if dataset.n < MIN_SAMPLES:
        raise DataError(f"the dataset has {dataset.n} points; fitting a spectrum needs n >= {MIN_SAMPLES}.")
    grids = curve_grids(dataset.n, sizes, features, at)
    choice = choose_eigensolver(dataset.n, eigensolver, n_eigs)
    sample = sample_spectrum(arch, dataset, choice, kernel=kernel, seed=seed, device=device, use_cache=use_cache,
                             n_halves=n_halves, intrinsic=intrinsic, progress=progress)
    kernel_fit, target_fit = fit_tails(sample.spectrum, sample.dimension)
    learning, width = predicted_curves(sample.spectrum, grids, ridge=ridge, noise=noise)
    alpha_W_local, width_features = width_local_exponent(sample.spectrum)
    return Prediction(
        arch=arch.spec, data=dataset.name, kernel=kernel, n=dataset.n, seed=seed, kernel_fit=kernel_fit,
        target_fit=target_fit, learning_curve=learning, width_curve=width,
        alpha_D_at=grids.at if learning is not None else None, alpha_W_local=alpha_W_local,
        width_features=width_features, intrinsic_dimension=sample.dimension, eigensolver=choice.name,
        n_eigs=choice.n_eigs, eigensolver_reason=choice.reason, device=sample.device, devices=sample.devices,
        from_cache=sample.from_cache, eigh_device=sample.spectrum.eigh_device, seconds=time.perf_counter() - start,
        kernel_seconds=sample.kernel_seconds, eigh_seconds=sample.eigh_seconds,
        intrinsic_seconds=sample.intrinsic_seconds, warnings=depth_warnings(arch),
        notes=_notes(dataset, intrinsic), preprocessing=dataset.metadata.get("preprocessing", ""),
        resumed_blocks=sample.resumed_blocks, spectrum=sample.spectrum,
        trivial_loss=sample.spectrum.target_norm if sample.spectrum.target_powers is not None else None)


def _notes(dataset: Dataset, intrinsic: bool) -> tuple[str, ...]:
    """How the sample was chosen when it was not as asked, and what was skipped."""
    skipped = () if intrinsic else (
        "no intrinsic dimension (intrinsic=False, --no-intrinsic-dim): alpha_K's interval allows the slow "
        "convergence of low-dimensional data only, so it can be narrower and its status ok where the estimate "
        "would widen it",)
    return (*dataset.metadata.get("notes", ()), *skipped)


@dataclasses.dataclass(frozen=True)
class SampleSpectrum:
    """The spectrum of one sample's kernel, the inputs' intrinsic dimension, and where and how long they took."""

    spectrum: Spectrum
    dimension: IntrinsicDimension | None
    intrinsic_seconds: float
    kernel_seconds: float
    eigh_seconds: float
    device: str
    devices: int
    from_cache: bool
    resumed_blocks: int = 0


def sample_spectrum(arch: Architecture, dataset: Dataset, choice: EigensolverChoice, *, kernel: str, seed: int,
                    device: str | None, use_cache: bool, n_halves: int, intrinsic: bool,
                    progress: Progress = no_progress) -> SampleSpectrum:
    """Kernel and spectrum with the chosen eigensolver: the whole (n, n) matrix, computed (or read from the cache)
    then eigendecomposed; or, top-k, kernel blocks recomputed on each pass of the randomized solver. A GP target is
    drawn from the whole matrix (:mod:`kernelscale.targets`), which the top-k solver never holds."""
    if choice.name == "full":
        matrix = compute_kernel(arch, dataset.x, kind=kernel, device=device, use_cache=use_cache, progress=progress)
        dimension, intrinsic_seconds = _intrinsic_dimension(dataset.x, intrinsic, seed, progress)
        start = time.perf_counter()
        y = gp_target(matrix.matrix, seed=seed) if dataset.metadata.get("target") == "gp" else dataset.y
        spec = spectrum(matrix.matrix, y, n_halves=n_halves, seed=seed, device=device, progress=progress)
        return SampleSpectrum(spec, dimension, intrinsic_seconds, matrix.seconds, time.perf_counter() - start,
                              matrix.device, matrix.devices, matrix.from_cache, matrix.resumed_blocks)
    if dataset.metadata.get("target") == "gp":
        raise DataError("target=gp draws labels from the whole kernel matrix, which the top-k eigensolver never "
                        "holds; use eigensolver='full' (a smaller n), or data with labels.")
    dimension, intrinsic_seconds = _intrinsic_dimension(dataset.x, intrinsic, seed, progress)
    start = time.perf_counter()
    operator = kernel_operator(arch, dataset.x, kind=kernel, device=device, progress=progress)
    spec = topk_spectrum(operator, dataset.y, n_eigs=choice.n_eigs, n_halves=n_halves, seed=seed, progress=progress)
    # kernel blocks and eigensolver are interleaved (each pass recomputes the blocks): one figure for both
    return SampleSpectrum(spec, dimension, intrinsic_seconds, 0.0, time.perf_counter() - start,
                          operator.devices[0].platform, len(operator.devices), False)


def _intrinsic_dimension(x: np.ndarray, intrinsic: bool, seed: int, progress: Progress
                         ) -> tuple[IntrinsicDimension | None, float]:
    """The inputs' intrinsic dimension when asked for, and the seconds it took. Called before any eigh: right after
    one, OpenBLAS's threads keep spinning, and on 2 cores they slowed its k-NN search 2 to 5 times (after the
    kernel: no change)."""
    if not intrinsic:
        return None, 0.0
    start = time.perf_counter()
    dimension = intrinsic_dimension(x, seed=seed, progress=progress)
    return dimension, time.perf_counter() - start


def fit_tails(spec: Spectrum, dimension: IntrinsicDimension | None) -> tuple[TailFit, TailFit | None]:
    """The tail fits of the eigenvalues (alpha_K) and of the target powers (a - 1; None without a target)."""
    kernel_fit = fit_tail_exponent(spec.eigenvalues, spec.half_eigenvalues, noise_floor=spec.noise_floor,
                                   what="eigenvalue", manifold_dim=manifold_dimension(dimension),
                                   **spec.totals("eigenvalues"))
    if spec.target_powers is None:
        return kernel_fit, None
    # no dimension here: a target tail's drift is mostly the chi-squared noise of one draw of labels, and
    # multiplying noise by the slow-convergence factor would only make the interval meaningless
    powers, half_powers = block_averaged_target(spec)
    return kernel_fit, fit_tail_exponent(powers, half_powers, what="target", extrapolate=False,
                                         **spec.totals("target"))


def predicted_curves(spec: Spectrum, grids: CurveGrids, *, ridge: float, noise: float
                     ) -> tuple[PredictedCurve | None, PredictedCurve | None]:
    """L(D) (label noise per output column, summed) and L(P) on the grids, continued past the reliable range with
    their top-octave exponents (bending toward an asymptote, :class:`kernelscale.curves.ContinuationLaw`, did no
    better in benchmarks/extrapolate.py); None without a target or with the top-k solver (its spectrum lacks the
    tail the theory sums over)."""
    if spec.target_powers is None or spec.solver != "full":
        return None, None
    outputs = spec.target.shape[1]
    return (predict_curve(spec, grids.sizes, kind="D", ridge=ridge, noise=noise * outputs),
            predict_curve(spec, grids.features, kind="P"))


def manifold_dimension(dimension: IntrinsicDimension | None) -> float | None:
    """The larger of the TwoNN and MLE estimates: local exponents converge more slowly in higher dimension."""
    return max(dimension.twonn, dimension.mle) if dimension is not None else None


# Measured by benchmarks/compare.py (docs/benchmarks.md): the readout width exponent of deep finite networks against
# the width theory on the NNGP spectrum, theory minus measured
DEEP_READOUT_GAP = ("at depth 3 and 4 the benchmark's readout exponents were 0.02 to 0.04 below it on digits and "
                    "mnist5k and 0.01 to 0.04 above it on sphere GP targets")


def depth_warnings(arch: Architecture) -> tuple[str, ...]:
    """A warning for networks of depth >= 3, whose finite-width readout features are random features of their
    realized lower layers' kernel, not of the NNGP (docs/theory.md, "Width")."""
    if arch.depth is None or arch.depth < 3:
        return ()
    return (f"depth {arch.depth}: a finite network's readout features are random features of its realized lower "
            f"layers' kernel, not of the NNGP's, so its width exponent departs from this theory: "
            f"{DEEP_READOUT_GAP} (docs/benchmarks.md; compare --finite-width explains a given network).",)
