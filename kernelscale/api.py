"""Public entry points: ``predict`` (architecture + data sample -> kernel -> spectrum -> fits -> :class:`Prediction`)
and ``measure`` (the same sample -> measured curves -> :class:`Measurement`)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from ._compat import precise_function
from . import measurements as measure_stage
from . import training as training_stage
from .allocation import LossModelFit, fit_loss_model
from .architectures import SCHEMAS, Architecture, as_architecture
from .data import Dataset, load_dataset
from .errors import DataError, MemoryPlanError
from .intrinsic import IntrinsicDimension, intrinsic_dimension
from .fit import MIN_INDEX, WINDOW_RATIO, TailFit, fit_curve, fit_tail_exponent
from .kernels import KINDS, available_host_memory, compute_kernel, full_eigh_bytes, kernel_operator, select_device
from .results import Curve, Measurement, Prediction
from .spectrum import eigenvalues_and_powers, eigenvalues_and_projections, spectrum, topk_spectrum
from .curves import check_sizes as check_curve_sizes
from .curves import default_sizes as default_curve_sizes
from .curves import predict_curve
from .specs import parse_spec
from .targets import gp_target
from .theory import (extrapolate_to_infinite_pool, task_aware_exponent, task_aware_interval, width_curve,
                     width_exponent, width_interval)

# The fit needs a usable range of at least MIN_INDEX * WINDOW_RATIO^2 indices on half-samples; usable ranges end
# near n/4 on smooth spectra, so smaller samples cannot give an exponent with an uncertainty.
MIN_SAMPLES = int(8 * MIN_INDEX * WINDOW_RATIO**2)


def _recommend(kernel_fit: TailFit, target_fit: TailFit | None, has_target: bool) -> tuple[str, str]:
    if not has_target:
        return "kernel-only", ("no target in this data: the duality alpha_D = alpha_K assumes the target has "
                               "equal weight on every eigen-direction (a = b).")
    if target_fit is None or not target_fit.ok:
        reason = target_fit.message if target_fit is not None else "no target fit."
        return "kernel-only", f"the target's decay could not be fitted ({reason}); falling back to the duality."
    if not kernel_fit.ok:
        return "task-aware", "the kernel exponent could not be fitted; the target decay alone bounds alpha_D."
    assert kernel_fit.ci is not None and target_fit.ci is not None
    overlap = kernel_fit.ci[0] <= target_fit.ci[1] and target_fit.ci[0] <= kernel_fit.ci[1]
    detail = (f"the target tail decays with a - 1 = {target_fit.exponent:.3f} against alpha_K = "
              f"{kernel_fit.exponent:.3f}")
    if overlap:
        return "task-aware", detail + ": the target is spread about evenly (a ~ b), so both estimates agree."
    return "task-aware", (detail + ": the target is not spread evenly over the eigen-directions, so the "
                          "kernel-only duality estimate would mislead; min(a - 1, 2b) follows the target.")


@precise_function
def predict(
    arch: str | Architecture | tuple,
    data: str | Dataset,
    *,
    n_samples: int | None = None,
    kernel: str = "ntk",
    seed: int = 0,
    device: str | None = None,
    use_cache: bool = True,
    n_halves: int = 2,
    intrinsic: bool = True,
    eigensolver: str = "auto",
    n_eigs: int | None = None,
    sizes=None,
    features=None,
    at: int | None = None,
    ridge: float = 0.0,
    noise: float = 0.0,
    progress: Callable[[str, int, int], None] | None = None,
) -> Prediction:
    """Predict alpha_K, alpha_D and alpha_W of ``arch`` on ``n_samples`` points of ``data``, and the loss curves
    L(D) and L(P) past the sample, without training.

    Args:
      arch: spec string (``"fc:depth=3,act=relu"``), :class:`Architecture`, or a neural-tangents stax triple.
      data: data spec string (``"digits"``, ``"sphere:dim=4,target=gp"``...) or a :class:`Dataset`.
      n_samples: sample size n; the kernel is (n, n). Default: min(2000, the data's size) for a spec (the output
        notes when that caps it), all points of a Dataset; fewer than a Dataset holds are drawn with ``seed``, more
        is an error on every input path.
      kernel: ``"ntk"`` (trained network) or ``"nngp"`` (random features / Bayesian network).
      seed: seed of the sample, of GP targets and of the half-samples.
      device: ``"cpu"``, ``"gpu"`` or None (JAX's default device) for the kernel.
      use_cache: reuse kernels cached on disk.
      n_halves: half-samples for the finite-n correction and the resampling uncertainty (>= 1).
      intrinsic: also estimate the inputs' intrinsic dimension d (TwoNN, MLE) and the manifold estimate 4/d. The
        larger estimate sets how slowly the kernel fit's interval allows its local exponent to converge
        (:func:`kernelscale.fit.convergence_factor`); False uses the fixed factor for low dimensions.
      eigensolver: ``"full"`` (the whole matrix, eigh), ``"topk"`` (top ``n_eigs`` eigenpairs from kernel blocks
        computed on the fly; the matrix is never held) or ``"auto"`` (full when the matrix and its
        eigendecomposition fit in host memory, else top-k).
      n_eigs: eigenpairs for the top-k solver (default min(2000, n/2 - 1)); the fit uses indices up to n_eigs/2.
      sizes: training-set sizes D of the predicted learning curve L(D) (default: 16 log-spaced from n/64 to 10 n),
        positive and increasing; any may exceed n (:mod:`kernelscale.curves`).
      features: feature counts P of the width curve L(P) (random features at infinite data; default: as
        ``sizes``).
      at: the size D at which the recommended alpha_D is read from L(D) (default 10 n, added to ``sizes`` when
        missing; it must lie within them).
      ridge, noise: of the predicted kernel regression, as in :func:`measure` (ridge on the D x D Gram matrix,
        label-noise variance per output column).
      progress: called as ``progress(stage, done, total)``.

    Returns:
      :class:`Prediction`; exponents are None (with ``status`` and ``message``) when a fit fails. The recommended
      alpha_D is the local exponent of ``learning_curve`` at ``at``; the asymptotes (task-aware ``min(a - 1, 2b)``,
      kernel-only alpha_K) are reported beside it. Without a target, or with the top-k solver (no full spectrum),
      there are no curves and alpha_D falls back to an asymptote, as ``recommendation`` says.
    """
    start = time.perf_counter()
    arch = as_architecture(arch)
    if kernel not in KINDS:
        raise DataError(f"kernel must be one of {', '.join(KINDS)}; got {kernel!r}.")
    if n_halves < 1:
        raise DataError(f"n_halves must be >= 1 (the finite-n correction needs a half-sample); got {n_halves}.")
    measure_stage.check_ridge_noise(ridge, noise)
    dataset = _load(arch, data, n_samples, seed)
    if dataset.n < MIN_SAMPLES:
        raise DataError(f"the dataset has {dataset.n} points; fitting a spectrum needs n >= {MIN_SAMPLES}.")
    sizes, features, at = _curve_grids(dataset.n, sizes, features, at)
    solver, n_eigs = choose_eigensolver(dataset.n, eigensolver, n_eigs)
    y = dataset.y
    if solver == "full":
        kernel_progress = (lambda done, total: progress("kernel", done, total)) if progress else None
        matrix = compute_kernel(arch, dataset.x, kind=kernel, device=device, use_cache=use_cache,
                                progress=kernel_progress)
        dimension, intrinsic_seconds = _intrinsic_dimension(dataset.x, intrinsic, progress)
        eigh_start = time.perf_counter()
        if progress:
            progress("eigendecomposition", 0, 1 + n_halves)
        if dataset.metadata.get("target") == "gp":
            y = gp_target(matrix.matrix, seed=seed)
        values, powers, eigh_device = eigenvalues_and_powers(matrix.matrix, y, device=device)
        if progress:
            progress("eigendecomposition", 1, 1 + n_halves)
        spec = spectrum(matrix.matrix, y, n_halves=n_halves, seed=seed, decomposition=(values, None),
                        target_powers=powers, device=device,
                        progress=(lambda done: progress("eigendecomposition", 1 + done, 1 + n_halves))
                        if progress else None)
        eigh_seconds = time.perf_counter() - eigh_start
        kernel_seconds, device_name, from_cache, devices = (matrix.seconds, matrix.device, matrix.from_cache,
                                                            matrix.devices)
    else:
        if dataset.metadata.get("target") == "gp":
            raise DataError("target=gp draws labels from the whole kernel matrix, which the top-k eigensolver never "
                            "holds; use eigensolver='full' (a smaller n), or data with labels.")
        dimension, intrinsic_seconds = _intrinsic_dimension(dataset.x, intrinsic, progress)
        eigh_start = time.perf_counter()
        operator = kernel_operator(arch, dataset.x, kind=kernel, device=device)
        spec = topk_spectrum(operator, y, n_eigs=n_eigs, n_halves=n_halves, seed=seed, progress=progress)
        # kernel blocks and eigensolver are interleaved (each pass recomputes the blocks): one figure for both
        kernel_seconds, eigh_seconds = 0.0, time.perf_counter() - eigh_start
        device_name, from_cache, devices = operator.devices[0].platform, False, len(operator.devices)
        eigh_device = "cpu"  # the small (l, l) problems of the top-k solver run on the host
    # the larger estimate: local exponents converge more slowly in higher dimension (fit.convergence_factor)
    manifold_dim = max(dimension.twonn, dimension.mle) if dimension is not None else None
    kernel_fit = fit_tail_exponent(spec.eigenvalues, spec.half_eigenvalues, noise_floor=spec.noise_floor,
                                   what="eigenvalue", manifold_dim=manifold_dim, **spec.totals("eigenvalues"))
    target_fit = None
    if y is not None:
        # no dimension here: a target tail's drift is mostly the chi-squared noise of one draw of labels, and
        # multiplying noise by the slow-convergence factor would only make the interval meaningless
        target_fit = fit_tail_exponent(spec.target_powers, spec.half_target_powers, what="target",
                                       extrapolate=False, **spec.totals("target"))
    basis, recommendation = _recommend(kernel_fit, target_fit, y is not None)
    data_curve = size_curve = None
    if y is not None and spec.solver == "full":
        outputs = spec.target.shape[1]
        data_curve = predict_curve(spec, sizes, kind="D", ridge=ridge, noise=noise * outputs)
        size_curve = predict_curve(spec, features, kind="P")

    alpha_K, alpha_K_ci = kernel_fit.exponent, kernel_fit.ci
    task, task_ci = None, None
    if target_fit is not None and target_fit.ok and kernel_fit.ok:
        task = task_aware_exponent(alpha_K, target_fit.exponent)
        task_ci = task_aware_interval(alpha_K_ci, target_fit.ci)
    elif target_fit is not None and target_fit.ok:
        task, task_ci = target_fit.exponent, target_fit.ci
    alpha_D, alpha_D_ci = (task, task_ci) if basis == "task-aware" else (alpha_K, alpha_K_ci)
    target_ok = target_fit is not None and target_fit.ok
    alpha_W, alpha_W_ci = _width_exponent(basis, kernel_fit, target_fit)
    asymptote_basis = basis
    if data_curve is not None:
        alpha_D, alpha_D_ci = data_curve.exponent_at(at)
        basis, recommendation = "learning-curve", _curve_recommendation(data_curve, at, basis, recommendation)
    elif y is not None:
        recommendation += (" No learning curve: the top-k spectrum lacks the tail the theory sums over, so alpha_D "
                           "is an asymptote.")
    width_local, width_local_ci, width_features = _width_local_exponent(spec)
    return Prediction(
        arch=arch.spec, data=dataset.name, kernel=kernel, n=dataset.n, seed=seed,
        alpha_K=alpha_K, alpha_K_ci=alpha_K_ci,
        target_decay=target_fit.exponent + 1 if target_ok else None,
        target_decay_ci=(target_fit.ci[0] + 1, target_fit.ci[1] + 1) if target_ok else None,
        alpha_D_kernel_only=alpha_K, alpha_D_kernel_only_ci=alpha_K_ci,
        alpha_D_task_aware=task, alpha_D_task_aware_ci=task_ci,
        alpha_D=alpha_D, alpha_D_ci=alpha_D_ci, alpha_D_basis=basis,
        alpha_W=alpha_W, alpha_W_ci=alpha_W_ci, recommendation=recommendation,
        alpha_W_local=width_local, alpha_W_local_ci=width_local_ci, width_features=width_features,
        learning_curve=data_curve, width_curve=size_curve, alpha_D_at=at if data_curve is not None else None,
        asymptote_basis=asymptote_basis,
        notes=(*dataset.metadata.get("notes", ()), *(() if intrinsic else (
            "no intrinsic dimension (intrinsic=False, --no-intrinsic-dim): alpha_K's interval allows the slow "
            "convergence of low-dimensional data only, so it can be narrower and its status ok where the estimate "
            "would widen it",))),
        warnings=_depth_warnings(arch),
        fit_window=kernel_fit.window, kernel_fit=kernel_fit, target_fit=target_fit,
        status=kernel_fit.status, message=kernel_fit.message,
        device=device_name, seconds=time.perf_counter() - start, kernel_seconds=kernel_seconds,
        eigh_seconds=eigh_seconds, intrinsic_seconds=intrinsic_seconds, from_cache=from_cache, devices=devices,
        eigensolver=solver, n_eigs=n_eigs, eigh_device=eigh_device,
        intrinsic_dimension=dimension, spectrum=spec,
    )


def _curve_grids(n: int, sizes, features, at) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """The sizes of L(D) and L(P) (defaults: 16 log-spaced from n/64 to 10 n) and the size ``at`` where alpha_D is
    read (default 10 n, added to the sizes when missing; it must lie within them)."""
    sizes = check_curve_sizes(sizes if sizes is not None else default_curve_sizes(n), "sizes")
    features = check_curve_sizes(features if features is not None else sizes, "features")
    at = 10 * n if at is None else at
    if not isinstance(at, (int, np.integer)) or not sizes[0] <= at <= sizes[-1]:
        raise DataError(f"at={at!r} must be an integer size within the learning curve's sizes "
                        f"{sizes[0]}..{sizes[-1]}; choose one there or widen sizes.")
    return tuple(sorted({*sizes, int(at)})), features, int(at)


def _curve_recommendation(curve, at: int, asymptote_basis: str, asymptote_reason: str) -> str:
    reliable = curve.reliable_up_to
    where = (f"within the sample's reliable range (D <= {reliable})" if at <= reliable else
             f"past the sample's reliable range (D <= {reliable}), where the curve continues the theory's local "
             f"exponent {curve.continuation_exponent:.3f} over D = {curve.continuation_window[0]}.."
             f"{curve.continuation_window[1]} as a power law")
    return (f"alpha_D is the local exponent of the predicted learning curve L(D) at D = {at}, {where}. The "
            f"asymptotes are listed beside it (their basis: {asymptote_basis}; {asymptote_reason})")


def _width_exponent(basis: str, kernel_fit: TailFit, target_fit: TailFit | None
                    ) -> tuple[float | None, tuple[float, float] | None]:
    """Asymptotic alpha_W of random features (THEORY.md 1b): ``min(a - 1, b)`` on the task-aware basis (``a - 1``
    alone when the kernel fit failed), the duality ``alpha_K`` on the kernel-only one."""
    if basis != "task-aware":
        return kernel_fit.exponent, kernel_fit.ci
    if kernel_fit.ok:
        return (width_exponent(kernel_fit.exponent, target_fit.exponent),
                width_interval(kernel_fit.ci, target_fit.ci))
    return target_fit.exponent, target_fit.ci


def width_feature_grid(n: int) -> tuple[int, ...]:
    """Feature counts P of predict's width curve: 5 log-spaced from 16 to n/4, the readout regime's range."""
    return tuple(sorted({int(round(p)) for p in np.geomspace(16, n / 4, 5)}))


def _width_local_exponent(spec) -> tuple[float | None, tuple[float, float] | None, tuple[int, int] | None]:
    """The width theory's local exponent over :func:`width_feature_grid` for the population: on the sample's
    spectrum and its half-samples', extrapolated to an infinite pool (:func:`kernelscale.theory.
    extrapolate_to_infinite_pool`; on the sample alone it runs 0.05 to 0.1 high at P up to n/4, tests/
    test_random_feature_theory.py). None without a target, with the top-k solver (its spectrum lacks the tail
    that E_W sums over), or when a half-sample has too few eigenvalues above its noise floor."""
    if spec.target_powers is None or spec.solver != "full":
        return None, None, None
    features = width_feature_grid(spec.n)
    halves = [(values, powers) for values, powers in zip(spec.half_eigenvalues, spec.half_target_powers)
              if features[-1] < np.count_nonzero(values > spec.noise_floor)]
    if len(features) < 2 or features[-1] >= spec.n_above_floor or not halves:
        return None, None, None
    full = width_curve(spec.eigenvalues, spec.target_powers, features).local_exponent()
    result = extrapolate_to_infinite_pool(full, [width_curve(*half, features).local_exponent() for half in halves])
    return result.estimate, result.ci, (features[0], features[-1])


# Measured by benchmarks/compare.py (docs/benchmarks.md): the readout width exponent of deep finite networks against
# the width theory on the NNGP spectrum, theory minus measured
DEEP_READOUT_GAP = ("at depth 3 and 4 the benchmark's readout exponents were 0.02 to 0.04 below it on digits and "
                    "mnist5k and 0.08 above it on a sphere GP target")


def _depth_warnings(arch: Architecture) -> tuple[str, ...]:
    """A warning for networks of depth >= 3, whose finite-width readout features are random features of their
    realized lower layers' kernel, not of the NNGP (THEORY.md 1b)."""
    if arch.body is None:
        return ()
    depth = parse_spec(arch.spec, SCHEMAS, what="architecture")[1].get("depth", 0)
    if depth < 3:
        return ()
    return (f"depth {depth}: a finite network's readout features are random features of its realized lower "
            f"layers' kernel, not of the NNGP's, so its width exponent departs from this theory: "
            f"{DEEP_READOUT_GAP} (docs/benchmarks.md; compare --finite-width explains a given network).",)


def _stage(progress, stage: str):
    """``progress(stage, done, total)`` as a ``(done, total)`` callback for one stage, or None."""
    return (lambda done, total: progress(stage, done, total)) if progress else None


def _intrinsic_dimension(x: np.ndarray, intrinsic: bool, progress) -> tuple[IntrinsicDimension | None, float]:
    """The inputs' intrinsic dimension when asked for, and the seconds it took. Predict calls it before any eigh:
    right after one, OpenBLAS's threads keep spinning, and on 2 cores they slowed its k-NN search 2 to 5 times
    (after the kernel: no change)."""
    if not intrinsic:
        return None, 0.0
    if progress:
        progress("intrinsic dimension", 0, 1)
    start = time.perf_counter()
    dimension = intrinsic_dimension(x)
    if progress:
        progress("intrinsic dimension", 1, 1)
    return dimension, time.perf_counter() - start


EIGENSOLVERS = ("auto", "full", "topk")
# bytes per (point, eigenpair) of the top-k solver: the random basis, its image, QR and SVD workspaces (float64)
_TOPK_BYTES = 6 * 8


def choose_eigensolver(n: int, eigensolver: str, n_eigs: int | None) -> tuple[str, int | None]:
    """``("full", None)`` or ``("topk", k)``: "auto" picks full when the (n, n) matrix and its eigendecomposition
    (about 4 n^2 float64) fit in host memory. Raises MemoryPlanError when neither fits."""
    if eigensolver not in EIGENSOLVERS:
        raise DataError(f"eigensolver must be one of {', '.join(EIGENSOLVERS)}; got {eigensolver!r}.")
    available = available_host_memory()
    full_fits = full_eigh_bytes(n) <= available
    if eigensolver == "full" or (eigensolver == "auto" and full_fits):
        return "full", None
    fitting = int((available / (_TOPK_BYTES * n) - 10) / 1.25)  # largest k whose workspace fits
    k = min(2000, n // 2 - 1, fitting) if n_eigs is None else n_eigs
    if n_eigs is not None and not (isinstance(k, int) and 2 <= k < n // 2):
        raise DataError(f"n_eigs must be an integer in [2, n/2) = [2, {n // 2}); got {k!r}.")
    if k > fitting or k < 2:
        raise MemoryPlanError(f"the top-k eigensolver with n = {n}, n_eigs = {k} needs about "
                              f"{_TOPK_BYTES * n * (1.25 * k + 10) / 2**30:.1f} GiB of host memory, "
                              f"{available / 2**30:.1f} GiB are available; use n_eigs <= {fitting} or a smaller n.")
    return "topk", k


# linear random features are cheap (least squares in the eigenbasis), and at small P their pool loss has a heavy tail
# on spectra with gaps (sphere data: the P features catch a whole degenerate block or miss it): at least 16 repeats
LINEAR_RF_REPEATS = 16
# data_variance: D from DATA_VARIANCE_START * P up, where the O(P / D) corrections to the 1/D gap are a few percent,
# and enough repeats for the median to step over the nearly singular least-squares draws
DATA_VARIANCE_START = 64
DATA_VARIANCE_REPEATS = 32
REGIMES = ("data", "width", "linear_rf", "data_variance", "width_variance", "trained_width", "trained_data")
TRAINED_WIDTHS = {"cpu": tuple(2**k for k in range(3, 8)), "gpu": tuple(2**k for k in range(3, 11))}


def _load(arch: Architecture, data: str | Dataset, n_samples: int | None, seed: int) -> Dataset:
    """The sample: ``n_samples`` points of a data spec (default min(2000, its size), noted when capped), or of a
    :class:`Dataset` (default all of it; fewer are drawn with ``seed``; more is an error)."""
    if n_samples is not None and (not isinstance(n_samples, (int, np.integer)) or n_samples < MIN_SAMPLES):
        raise DataError(f"n={n_samples!r} is too small: fitting a spectrum with an uncertainty needs "
                        f"n >= {MIN_SAMPLES}.")
    if not isinstance(data, Dataset):
        return load_dataset(data, n_samples=n_samples, seed=seed, input_kind=arch.input_kind)
    if n_samples is None or n_samples == data.n:
        return data
    if n_samples > data.n:
        raise DataError(f"n={n_samples} is larger than the dataset {data.name!r}, which has {data.n} points; use "
                        f"n <= {data.n}.")
    index = np.sort(np.random.default_rng(np.random.SeedSequence([seed, 0xD5])).choice(data.n, n_samples,
                                                                                     replace=False))
    note = f"n = {n_samples}: drawn with seed {seed} from the {data.n} points of the Dataset given."
    metadata = {**data.metadata, "n": int(n_samples), "notes": [*data.metadata.get("notes", []), note]}
    return Dataset(x=data.x[index], y=None if data.y is None else data.y[index], name=data.name, metadata=metadata)


def _check_repeats(repeats) -> None:
    if not (isinstance(repeats, int) and repeats >= 2):
        raise DataError(f"repeats must be an integer >= 2 (the intervals need independent repeats); got {repeats!r}.")


def _powers_of_two_widths(arch: Architecture, x, keep, count: int = 5, first: bool = False) -> tuple[int, ...]:
    """Widths 1, 2, 4, ... whose feature count P satisfies ``keep(P)``; the last (or first) ``count`` of them.

    When fewer than 3 powers of two qualify (flatten readouts of convolutional networks have P = pixels x width + 1
    features, so few widths fit under n/4), the integer widths whose P qualifies are used instead, up to ``count``
    of them spread over their range (P is linear in the width: P(w) = P(1) + (w - 1) (P(2) - P(1))).
    """
    widths = [2**k for k in range(14) if keep(measure_stage.feature_count(arch.with_width(2**k), x, "readout"))]
    if len(widths) < measure_stage.MIN_SIZES:
        one = measure_stage.feature_count(arch.with_width(1), x, "readout")
        step = measure_stage.feature_count(arch.with_width(2), x, "readout") - one
        integers = [w for w in range(1, 2**13) if keep(one + (w - 1) * step)]
        if len(integers) > len(widths):
            picks = np.unique(np.round(np.geomspace(1, len(integers), min(count, len(integers)))).astype(int)) - 1
            return tuple(integers[i] for i in picks)
    return tuple(widths[:count] if first else widths[-count:])


@precise_function
def measure(
    arch: str | Architecture | tuple,
    data: str | Dataset,
    *,
    n_samples: int | None = None,
    kernel: str = "ntk",
    seed: int = 0,
    regimes: tuple[str, ...] = ("data", "width"),
    sizes=None,
    widths=None,
    repeats: int = 5,
    ridge: float = 0.0,
    noise: float = 0.0,
    variance_width: int = 8,
    variance_sizes=None,
    variance_size: int = 16,
    variance_widths=None,
    trained_widths=None,
    trained_width: int = 64,
    trained_sizes=None,
    training: training_stage.TrainingSettings | None = None,
    target: np.ndarray | None = None,
    device: str | None = None,
    use_cache: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> Measurement:
    """Measure scaling curves and their exponents on ``n_samples`` points of ``data`` (the pool).

    Regimes (Bahri et al.; see :mod:`kernelscale.measurements`): ``"data"`` kernel regression with the ``kernel`` against
    D (``sizes``, default n/64..n/4), held-out test on the rest of the pool, with ``ridge`` and label ``noise``
    (variance per output column); ``"width"`` readout random features of finite networks against width (``widths``,
    default powers of two with P <= n/4), fitted and scored on the whole pool; ``"linear_rf"`` Bahri et al.'s linear
    random-feature model, P Gaussian projections of the NNGP kernel's eigenfeatures on the pool, least squares on
    the whole pool (P: the readout feature counts of ``widths``; at least 16 repeats), the model the width
    theory is exact for;
    ``"data_variance"`` a network of
    ``variance_width`` trained on ``variance_sizes`` points (default 64P..1024P, at least 32 repeats, the exponent
    fitted to the median over repeats: least squares on ReLU features has a heavy tail of nearly singular draws);
    ``"width_variance"`` networks of
    ``variance_widths`` (default: P from 8 to 128 times D) trained on ``variance_size`` points, against the NNGP
    kernel regression on the same split; ``"trained_width"`` networks trained with optax (``training``, see
    :mod:`kernelscale.training`) at ``trained_widths`` (default 8..128 on a CPU, 8..1024 on a GPU) on all the
    training points (n minus test and validation points), test loss against width; ``"trained_data"`` networks of
    ``trained_width`` trained on ``trained_sizes`` points (default 6 log-spaced from n/64 to n/4, the kernel curve's
    range), against D. Trained curves use min(repeats, 3) repeats.

    ``target`` replaces the dataset's labels (e.g. the GP target a :class:`Prediction` drew, ``p.spectrum.target``).
    Each curve's exponent comes with a 95% bootstrap interval over ``repeats`` independent draws.
    """
    start = time.perf_counter()
    arch = as_architecture(arch)
    if kernel not in KINDS:
        raise DataError(f"kernel must be one of {', '.join(KINDS)}; got {kernel!r}.")
    unknown = set(regimes) - set(REGIMES)
    if unknown or not regimes:
        raise DataError(f"regimes must be a non-empty subset of {', '.join(REGIMES)}; got {list(regimes)}.")
    _check_repeats(repeats)
    measure_stage.check_ridge_noise(ridge, noise)
    dataset = _load(arch, data, n_samples, seed)
    n = dataset.n
    matrices: dict[str, np.ndarray] = {}

    def matrix(kind: str) -> np.ndarray:
        if kind not in matrices:
            kernel_progress = (lambda done, total: progress(f"{kind} kernel", done, total)) if progress else None
            matrices[kind] = compute_kernel(arch, dataset.x, kind=kind, device=device, use_cache=use_cache,
                                            progress=kernel_progress).matrix
        return matrices[kind]

    y = target if target is not None else dataset.y
    if y is None and dataset.metadata.get("target") == "gp":
        y = gp_target(matrix(kernel), seed=seed)
    if y is None:
        raise DataError(f"the data {dataset.name!r} has no target; measuring a loss needs labels (use target=gp for "
                        "sphere data, or a dataset with y).")
    y = np.asarray(y, dtype=np.float64).reshape(n, -1)
    if len(y) != n or not np.all(np.isfinite(y)):
        raise DataError(f"target must have {n} finite rows; got shape {y.shape}.")

    curves: dict[str, Curve] = {}
    settings = {"kernel": kernel, "ridge": ridge, "noise": noise}
    if "data" in regimes:
        sizes = measure_stage.check_sizes(sizes or measure_stage.default_sizes(n), n // 2, "sizes")
        if progress:
            progress("data curve", 0, len(sizes))
        losses = measure_stage.kernel_regression_losses(matrix(kernel), y, sizes, repeats=repeats, ridge=ridge,
                                                        noise=noise, seed=seed, progress=_stage(progress, "data curve"))
        curves["data"] = Curve("data", "D", sizes, None, _rows(losses), None, fit_curve(sizes, losses, seed=seed),
                               None, settings)
    if {"width", "data_variance", "width_variance"} & set(regimes) and arch.body is None:
        raise DataError(f"{arch.spec!r} is a user's stax triple; width regimes need a kernelscale spec whose width can "
                        "be changed (fc, cnn, cnn-gap, resnet).")
    feature_settings = {"features": "readout", "limit_kernel": "nngp"}
    if "width" in regimes:
        widths = widths or _powers_of_two_widths(arch, dataset.x, lambda p: 16 <= p <= n // 4)
        widths = measure_stage.check_sizes(widths, 2**16, "widths", lower=1)
        if progress:
            progress("width curve", 0, len(widths))
        losses, counts = measure_stage.width_losses(arch, dataset.x, y, widths, repeats=min(repeats, 3), seed=seed,
                                                    progress=_stage(progress, "width curve"))
        curves["width"] = Curve("width", "width", widths, counts, _rows(losses), None,
                                fit_curve(widths, losses, seed=seed), None, feature_settings)
    if "linear_rf" in regimes:
        counts = _linear_rf_features(arch, dataset.x, n, widths)
        values, projections, _ = eigenvalues_and_projections(matrix("nngp"), y, device=device)
        if progress:
            progress("linear random-feature curve", 0, len(counts))
        losses = measure_stage.linear_rf_losses(values, projections, counts, repeats=max(repeats, LINEAR_RF_REPEATS),
                                                seed=seed, progress=_stage(progress, "linear random-feature curve"))
        curves["linear_rf"] = Curve("linear_rf", "P", counts, counts, _rows(losses), None,
                                    fit_curve(counts, losses, seed=seed), None,
                                    {"features": "linear random projections of the kernel's eigenfeatures",
                                     "limit_kernel": "nngp"})
    if "data_variance" in regimes:
        count = measure_stage.feature_count(arch.with_width(variance_width), dataset.x, "readout")
        variance_sizes = measure_stage.check_sizes(
            variance_sizes or tuple(DATA_VARIANCE_START * count * 2**k for k in range(5)), 64 * n, "variance sizes")
        if progress:
            progress("data-variance curve", 0, 1)  # one network per repeat, all sizes: one step
        losses, limits, count = measure_stage.data_variance_losses(
            arch, dataset.x, y, variance_sizes, width=variance_width, repeats=max(repeats, DATA_VARIANCE_REPEATS),
            seed=seed)
        if progress:
            progress("data-variance curve", 1, 1)
        curves["data_variance"] = Curve(
            "data_variance", "D", variance_sizes, (count,) * len(variance_sizes), _rows(losses), tuple(limits),
            fit_curve(variance_sizes, losses, limits, seed=seed, statistic="median"), 1.0,
            {**feature_settings, "width": variance_width})
    if "width_variance" in regimes:
        variance_widths = variance_widths or _powers_of_two_widths(
            arch, dataset.x, lambda p: p >= measure_stage.VARIANCE_RATIO * variance_size, first=True)
        variance_widths = measure_stage.check_sizes(variance_widths, 2**16, "variance widths", lower=1)
        if progress:
            progress("width-variance curve", 0, 1)
        losses, limits, counts = measure_stage.width_variance_losses(
            arch, dataset.x, y, matrix("nngp"), variance_widths, size=variance_size, repeats=max(repeats, 8),
            seed=seed)
        if progress:
            progress("width-variance curve", 1, 1)
        curves["width_variance"] = Curve(
            "width_variance", "width", variance_widths, counts, _rows(losses), tuple(limits),
            fit_curve(variance_widths, losses, limits, seed=seed), 1.0, {**feature_settings, "D": variance_size})
    if {"trained_width", "trained_data"} & set(regimes):
        curves.update(_trained_curves(arch, dataset.x, y, regimes, trained_widths, trained_width, trained_sizes,
                                      training or training_stage.TrainingSettings(), min(repeats, 3), seed, device,
                                      progress))
    return Measurement(arch=arch.spec, data=dataset.name, kernel=kernel, n=n, seed=seed, curves=curves,
                       seconds=time.perf_counter() - start, notes=tuple(dataset.metadata.get("notes", ())))


def _linear_rf_features(arch: Architecture, x: np.ndarray, n: int, widths) -> tuple[int, ...]:
    """The P grid of the ``linear_rf`` regime: the readout features' counts P(width) of the ``width`` regime's
    widths (given, or its default grid), so both curves share their x; for a user's stax triple (no readout to
    count), powers of two with 16 <= P <= n/4."""
    if arch.body is None:
        counts = tuple(2**k for k in range(4, 20) if 2**k <= n // 4)
    else:
        widths = widths or _powers_of_two_widths(arch, x, lambda p: 16 <= p <= n // 4)
        counts = tuple(measure_stage.feature_count(arch.with_width(w), x, "readout") for w in widths)
    return measure_stage.check_sizes(counts, n // 2, "linear random-feature counts P")


def _trained_curves(arch: Architecture, x: np.ndarray, y: np.ndarray, regimes, widths, width: int, sizes,
                    settings: training_stage.TrainingSettings, repeats: int, seed: int, device: str | None,
                    progress) -> dict[str, Curve]:
    """The trained-network curves of :func:`measure`: test loss against width (all training points) and against D."""
    n = len(x)
    holdout = training_stage.default_holdout(n)
    n_train = n - 2 * holdout
    base = {**dataclasses.asdict(settings), "n_test": holdout, "n_val": holdout, "readout_init": "zero",
            "early_stopping": "validation"}
    curves = {}
    runs = []
    if "trained_width" in regimes:
        platform = select_device(device).platform
        widths = measure_stage.check_sizes(widths or TRAINED_WIDTHS.get(platform, TRAINED_WIDTHS["gpu"]), 2**16,
                                           "trained widths", lower=1)
        runs.append(("trained_width", "width", widths, (n_train,)))
    if "trained_data" in regimes:
        sizes = sizes or measure_stage.default_sizes(n, count=6)
        sizes = measure_stage.check_sizes(sizes, n_train, "trained sizes (D <= n - test - validation points)")
        runs.append(("trained_data", "D", (width,), sizes))
    for regime, x_name, run_widths, run_sizes in runs:
        result = training_stage.trained_losses(arch, x, y, run_widths, run_sizes, settings=settings, repeats=repeats,
                                               n_test=holdout, n_val=holdout, seed=seed, device=device,
                                               progress=progress)
        losses = result.test[:, 0, :] if regime == "trained_width" else result.test[0]
        xs = run_widths if regime == "trained_width" else run_sizes
        counts = result.parameters() if regime == "trained_width" else result.parameters() * len(run_sizes)
        train_losses = [[round(net.train_loss, 6) for net in result.networks if net.width == w and net.size == s]
                        for w in run_widths for s in run_sizes]
        best_steps = [[net.best_step for net in result.networks if net.width == w and net.size == s]
                      for w in run_widths for s in run_sizes]
        settings_out = {**base, "D" if regime == "trained_width" else "width":
                        run_sizes[0] if regime == "trained_width" else run_widths[0],
                        "train_losses": train_losses, "best_steps": best_steps}
        curves[regime] = Curve(regime, x_name, tuple(xs), tuple(counts), _rows(losses), None,
                               fit_curve(xs, losses, seed=seed), None, settings_out)
    return curves


def _rows(losses: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in losses)


@precise_function
def measure_loss_surface(
    arch: str | Architecture | tuple,
    data: str | Dataset,
    *,
    n_samples: int | None = None,
    widths=None,
    sizes=None,
    repeats: int = 3,
    ridge: float = 0.1,
    n_test: int | None = None,
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
) -> LossModelFit:
    """Measure random-feature test losses on a grid of (width, D) and fit ``L = E + A/P^alpha + B/D^beta``.

    N is the feature count P of each width (the readout's parameters). Defaults: ``n_test`` = min(500, n/4) held-out
    points; ``widths`` the (up to 6) powers of two with 8 <= P <= n/2; ``sizes`` 6 log-spaced D from 32 to
    n - n_test. ``ridge`` on the feature Gram matrix keeps the P ~ D interpolation peak out of the surface (see
    :func:`kernelscale.measurements.grid_losses`). Feed the result to :func:`kernelscale.allocate`.
    """
    arch = as_architecture(arch)
    if arch.body is None:
        raise DataError(f"{arch.spec!r} is a user's stax triple; a width grid needs a kernelscale spec whose width "
                        "can be changed (fc, cnn, cnn-gap, resnet).")
    _check_repeats(repeats)
    measure_stage.check_ridge_noise(ridge, 0.0)
    dataset = _load(arch, data, n_samples, seed)
    if dataset.y is None:
        raise DataError(f"the data {dataset.name!r} has no labels; a loss surface needs a target.")
    n = dataset.n
    n_test = min(500, n // 4) if n_test is None else n_test
    widths = widths or _powers_of_two_widths(arch, dataset.x, lambda p: 8 <= p <= n // 2, count=6)
    widths = measure_stage.check_sizes(widths, 2**16, "widths", lower=1)
    sizes = sizes or tuple(int(round(s)) for s in np.geomspace(32, n - n_test, 6))
    sizes = measure_stage.check_sizes(sizes, n - n_test, "sizes")
    if progress:
        progress("loss surface", 0, 1)
    losses, counts = measure_stage.grid_losses(arch, dataset.x, dataset.y, widths, sizes, repeats=repeats,
                                               ridge=ridge, n_test=n_test, seed=seed)
    if progress:
        progress("loss surface", 1, 1)
    fit = fit_loss_model(counts, sizes, losses, seed=seed)
    source = {"arch": arch.spec, "data": dataset.name, "n": n, "seed": seed, "widths": list(widths),
              "ridge": ridge, "n_test": n_test, "features": "readout", "N": "feature count P"}
    return dataclasses.replace(fit, source=source)
