"""``predict``: architecture and data sample -> kernel -> spectrum -> tail fits -> predicted curves -> Prediction,
without training anything. Each stage is its module's; this one only orders them."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ._compat import precise_function
from .architectures import Architecture, as_architecture
from .distributed import process_count
from .curves import (CurveGrids, PredictedCurve, curve_grids, default_convergence_rate, predict_curve)
from .data import Dataset, load_sample
from .errors import DataError
from .estimates import Estimate
from .fit import TailFit, block_averaged_target, fit_tail_exponent
from .intrinsic import IntrinsicDimension, intrinsic_dimension
from .kernels import compute_kernel, kernel_operator, select_devices
from .options import MIN_SAMPLES, validated
from .progress import Progress, no_progress
from .results import Prediction, asymptotic_exponents
from .spectrum import EigensolverChoice, Spectrum, choose_eigensolver, spectrum, topk_spectrum
from .targets import gp_target


@validated
@precise_function
def predict(arch: str | Architecture | tuple, data: str | Dataset, *, n_samples: int | None = None,
            kernel: str = "ntk", seed: int = 0, device: str | None = None, use_cache: bool = True, n_halves: int = 2,
            intrinsic: bool = True, eigensolver: str = "auto", n_eigs: int | None = None, sizes=None, features=None,
            at: int | None = None, at_features: int | None = None, width_kernel: str = "nngp", ridge: float = 0.0,
            noise: float = 0.0, progress: Progress = no_progress) -> Prediction:
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
      at, at_features: the D where the recommended alpha_D is read from L(D), and the P where alpha_W is read from
        L(P) (default: the largest size at most 10 n; added to the grid when missing).
      width_kernel: the kernel whose random features L(P) and alpha_W describe: ``"nngp"`` (default: a network's
        readout features are its NNGP's, as ``compare`` measures) or ``"ntk"``; the top-k solver keeps ``kernel``.
      ridge, noise: of the predicted kernel regression, as in :func:`kernelscale.measure`.
      progress: ``progress(stage, done, total)`` (:mod:`kernelscale.progress`).

    Returns:
      :class:`Prediction`; exponents are None (with ``status`` and ``message``) when a fit fails. Without a target or
      with the top-k solver there are no curves: alpha_D and alpha_W are asymptotes, as ``recommendation`` says.
    """
    start = time.perf_counter()
    arch, dataset = _checked_inputs(arch, data, n_samples=n_samples, seed=seed, device=device)
    grids = curve_grids(dataset.n, sizes, features, at, at_features)
    choice = choose_eigensolver(dataset.n, eigensolver, n_eigs)
    sample = sample_spectrum(arch, dataset, choice, kernel=kernel, seed=seed, device=device, use_cache=use_cache,
                             n_halves=n_halves, intrinsic=intrinsic, progress=progress)
    kernel_fit, target_fit = fit_tails(sample.spectrum, sample.dimension)
    width_sample = width_spectrum(arch, dataset, sample, kernel=kernel, width_kernel=width_kernel, seed=seed,
                                  device=device, use_cache=use_cache, n_halves=n_halves, progress=progress)
    width_fits = None if width_sample is sample else fit_tails(width_sample.spectrum, sample.dimension)
    learning, width = predicted_curves(sample, width_sample, grids, (kernel_fit, target_fit), width_fits,
                                       ridge=ridge, noise=noise)
    return Prediction(
        arch=arch.spec, data=dataset.name, kernel=kernel, n=dataset.n, seed=seed, kernel_fit=kernel_fit,
        target_fit=target_fit, learning_curve=learning, width_curve=width,
        alpha_D_at=grids.at if learning is not None else None,
        alpha_W_at=grids.at_features if width is not None else None, intrinsic_dimension=sample.dimension,
        eigensolver=choice.name, n_eigs=choice.n_eigs, eigensolver_reason=choice.reason, device=sample.device,
        devices=sample.devices, processes=sample.processes, from_cache=sample.from_cache, eigh_device=sample.spectrum.eigh_device,
        seconds=time.perf_counter() - start, intrinsic_seconds=sample.intrinsic_seconds, warnings=depth_warnings(arch),
        notes=_notes(dataset, intrinsic, kernel, width_kernel, width_sample.kind),
        preprocessing=dataset.metadata.get("preprocessing", ""), resumed_blocks=sample.resumed_blocks,
        trivial_loss=sample.spectrum.target_norm if sample.spectrum.target_powers is not None else None,
        spectrum=sample.spectrum, **_width_fields(sample, width_sample, width_fits))


def _checked_inputs(arch: str | Architecture | tuple, data: str | Dataset, *, n_samples: int | None, seed: int,
                    device: str | None) -> tuple[Architecture, Dataset]:
    """The architecture and the sample, after checking the device (a missing GPU fails here, not after the cache
    read and the intrinsic dimension); too small a sample is a DataError."""
    arch = as_architecture(arch)
    select_devices(device)
    dataset = load_sample(data, n_samples=n_samples, seed=seed, input_kind=arch.input_kind)
    if dataset.n < MIN_SAMPLES:
        raise DataError(f"the dataset has {dataset.n} points; fitting a spectrum needs n >= {MIN_SAMPLES}.")
    return arch, dataset


def _width_fields(sample: SampleSpectrum, width_sample: SampleSpectrum,
                  width_fits: tuple[TailFit, TailFit | None] | None) -> dict:
    """The Prediction fields of the width side, and the stage times with its kernel and eigendecomposition added
    when it has its own kernel."""
    own = width_sample is not sample
    kernel_fit, target_fit = width_fits or (None, None)
    return {"width_kernel": width_sample.kind, "width_kernel_fit": kernel_fit, "width_target_fit": target_fit,
            "width_spectrum": width_sample.spectrum,
            "kernel_seconds": sample.kernel_seconds + own * width_sample.kernel_seconds,
            "eigh_seconds": sample.eigh_seconds + own * width_sample.eigh_seconds}


def _notes(dataset: Dataset, intrinsic: bool, kernel: str, width_kernel: str, width_used: str) -> tuple[str, ...]:
    """How the sample was chosen when it was not as asked, and what was skipped."""
    skipped = () if intrinsic else (
        "no intrinsic dimension (intrinsic=False, --no-intrinsic-dim): alpha_K's interval allows the slow "
        "convergence of low-dimensional data only, so it can be narrower and its status ok where the estimate "
        "would widen it",)
    if width_used != width_kernel:
        skipped += (f"the width side (alpha_W) is on the {kernel.upper()}, not the {width_kernel.upper()} asked for: "
                    "the top-k eigensolver would need a second set of passes for a second kernel",)
    return (*dataset.metadata.get("notes", ()), *skipped)


@dataclasses.dataclass(frozen=True)
class SampleSpectrum:
    """The spectrum of one sample's kernel (of ``kind``), the inputs' intrinsic dimension, and where and how long
    they took."""

    spectrum: Spectrum
    dimension: IntrinsicDimension | None
    intrinsic_seconds: float
    kernel_seconds: float
    eigh_seconds: float
    device: str
    devices: int
    from_cache: bool
    resumed_blocks: int = 0
    kind: str = "ntk"
    processes: int = 1


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
                              matrix.device, matrix.devices, matrix.from_cache, matrix.resumed_blocks, kernel,
                              matrix.processes)
    if dataset.metadata.get("target") == "gp":
        raise DataError("target=gp draws labels from the whole kernel matrix, which the top-k eigensolver never "
                        "holds; use eigensolver='full' (a smaller n), or data with labels.")
    dimension, intrinsic_seconds = _intrinsic_dimension(dataset.x, intrinsic, seed, progress)
    start = time.perf_counter()
    operator = kernel_operator(arch, dataset.x, kind=kernel, device=device, use_cache=use_cache, progress=progress)
    spec = topk_spectrum(operator, dataset.y, n_eigs=choice.n_eigs, n_halves=n_halves, seed=seed, progress=progress)
    # kernel blocks and eigensolver are interleaved (each pass recomputes the blocks): one figure for both
    return SampleSpectrum(spec, dimension, intrinsic_seconds, 0.0, time.perf_counter() - start,
                          operator.devices[0].platform, len(operator.devices), False, kind=kernel,
                          processes=process_count())


def width_spectrum(arch: Architecture, dataset: Dataset, sample: SampleSpectrum, *, kernel: str, width_kernel: str,
                   seed: int, device: str | None, use_cache: bool, n_halves: int,
                   progress: Progress = no_progress) -> SampleSpectrum:
    """The spectrum the width theory E_W(P) runs on: ``width_kernel``'s with the sample's target (a GP target is
    the one drawn from the sample's kernel); ``sample`` itself when the kinds agree or with the top-k solver."""
    if width_kernel == kernel or sample.spectrum.solver != "full":
        return sample
    def labelled(stage: str, done: int, total: int) -> None:
        progress(f"{stage} ({width_kernel.upper()}, width side)", done, total)

    matrix = compute_kernel(arch, dataset.x, kind=width_kernel, device=device, use_cache=use_cache,
                            progress=labelled)
    start = time.perf_counter()
    spec = spectrum(matrix.matrix, sample.spectrum.target, n_halves=n_halves, seed=seed, device=device,
                    progress=labelled)
    return SampleSpectrum(spec, sample.dimension, 0.0, matrix.seconds, time.perf_counter() - start, matrix.device,
                          matrix.devices, matrix.from_cache, matrix.resumed_blocks, width_kernel)


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


def predicted_curves(sample: SampleSpectrum, width_sample: SampleSpectrum, grids: CurveGrids,
                     fits: tuple[TailFit, TailFit | None], width_fits: tuple[TailFit, TailFit | None] | None, *,
                     ridge: float, noise: float) -> tuple[PredictedCurve | None, PredictedCurve | None]:
    """L(D) on the sample's spectrum (label noise per output column, summed) and L(P) on the width kernel's at the
    grids; past the reliable range each local exponent moves from its top-octave value toward its task-aware
    asymptote (of ``fits``, and of ``width_fits`` when the width kernel is another; :func:`_bend_toward`) at the
    rate 1/d (:class:`kernelscale.curves.ContinuationLaw`). None without a target or with the top-k solver (its
    spectrum lacks the tail the theory sums over)."""
    spec = sample.spectrum
    if spec.target_powers is None or spec.solver != "full":
        return None, None
    rate = default_convergence_rate(manifold_dimension(sample.dimension))
    data_limit = _bend_toward(fits, 0)
    width_limit = _bend_toward(width_fits or fits, 1)
    return (predict_curve(spec, grids.sizes, kind="D", ridge=ridge, noise=noise * spec.target.shape[1],
                          asymptote=data_limit, rate=rate),
            predict_curve(width_sample.spectrum, grids.features, kind="P", asymptote=width_limit, rate=rate))


def _bend_toward(fits: tuple[TailFit, TailFit | None], side: int) -> Estimate | None:
    """The asymptote a curve bends toward past its reliable range (``side`` 0: L(D), 1: L(P)): the task-aware one,
    when the target's decay was fitted. None (the curve keeps its top-octave exponent) when the basis falls back to
    the kernel-only duality, which assumes a = b, an assumption the target's failed fit does not support (on 2-D
    moons scaled onto the circle, whose labels the angle does not fix, bending toward alpha_K moved alpha_D at 10 n
    from 0.12 to 0.71), or when the asymptote is 0, a fit clipped at 0 (a tail sum never grows) that lost the tail."""
    kernel_fit, target_fit = fits
    if target_fit is None or not target_fit.ok:
        return None
    limit = asymptotic_exponents(kernel_fit, target_fit)[side]
    return limit if limit is not None and limit.value > 0 else None


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
