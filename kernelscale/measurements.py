"""Measured scaling curves: the four regimes of Bahri et al. (arXiv 2102.06701) on one data sample (a pool of n points).

* ``data`` (resolution-limited in D, infinite width): kernel regression with the NNGP or NTK on training sets of D
  points drawn from the pool, tested on the rest of the pool. ``loss ~ D^-alpha_D``.
* ``width`` (resolution-limited in width, infinite data): least-squares regression on P random features of a
  randomly initialised finite network, fitted on the whole pool and scored on the whole pool: the pool's own measure
  is the data distribution, so this is the D = infinity limit for that measure. ``loss ~ width^-alpha_W``.
* ``linear_rf`` (resolution-limited in width, the theory's own model): Bahri et al.'s linear random-feature model,
  P Gaussian random projections of the kernel's eigenfeatures on the pool, ``phi(x_j) = G^T diag(sqrt(n lambda))
  u(x_j) / sqrt(P)``, least squares fitted and scored on the whole pool. The width theory ``E_W(P)`` on the pool's
  spectrum is exact for it up to the deterministic equivalent's O(1/P) corrections. ``loss ~ P^-alpha_W``.
* ``data_variance`` (fixed small width, D grows): the same features trained on D points drawn with replacement from
  the pool, scored on the pool, minus the D = infinity loss of the same features. ``gap ~ 1/D``.
* ``width_variance`` (fixed small D, width grows): min-norm regression on the features of networks of growing width
  trained on D points, minus kernel regression with the infinite-width kernel on the same split. ``gap ~ 1/width``.

Features (:func:`network_features`): ``"readout"`` are the inputs of the network's linear readout, scaled as the
readout scales them, plus the bias feature (their kernel is the NNGP in expectation); ``"jacobian"`` are the gradients
of the output with respect to all parameters (their kernel is the empirical NTK, the NTK as width grows).
Losses are test MSE summed over output columns, against the clean target.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from scipy import linalg

from ._compat import precise_function
from .architectures import Architecture
from .errors import DataError, MemoryPlanError
from .memory import available_host_memory
from .progress import Progress, no_progress
from .random import generator, jax_seed

FEATURE_KINDS = ("readout", "jacobian")
MIN_SIZES = 3
FEATURE_BATCH = 256
# the variance regimes need the model far from interpolation: P >= VARIANCE_RATIO * D (width) or D >= ... * P (data)
VARIANCE_RATIO = 8


def check_measured_sizes(sizes, upper: int, what: str, lower: int = 2) -> tuple[int, ...]:
    """Sizes (or widths) of a measured curve: sorted distinct integers in ``[lower, upper]``, at least MIN_SIZES of
    them (duplicates and order are forgiven), or a DataError."""
    sizes = tuple(sorted({int(s) for s in sizes}))
    if len(sizes) < MIN_SIZES:
        raise DataError(f"{what}: need at least {MIN_SIZES} distinct values to fit an exponent; got {list(sizes)}.")
    if sizes[0] < lower or sizes[-1] > upper:
        raise DataError(f"{what}: values must lie in [{lower}, {upper}] for this sample; got {list(sizes)}. "
                        "Use a larger sample (--n) or smaller values.")
    return sizes


def default_measured_sizes(n: int, count: int = 8) -> tuple[int, ...]:
    """Log-spaced training-set sizes from n/64 to n/4 (at least 8): the pre-asymptotic range docs/theory.md compares."""
    return tuple(sorted({int(round(s)) for s in np.geomspace(max(8, n / 64), n / 4, count)}))


def solve_kernel_regression(k_train: np.ndarray, k_test_train: np.ndarray, y_train: np.ndarray,
                            ridge: float) -> np.ndarray:
    """Predictions ``K_test,train (K_train + ridge I)^-1 y_train``; Cholesky, or least squares when singular."""
    matrix = k_train + ridge * np.eye(len(k_train))
    try:
        coefficients = linalg.cho_solve(linalg.cho_factor(matrix, lower=True), y_train)
    except linalg.LinAlgError:
        coefficients = linalg.lstsq(matrix, y_train, cond=len(matrix) * np.finfo(np.float64).eps)[0]
    return k_test_train @ coefficients


def _mse(prediction: np.ndarray, target: np.ndarray) -> float:
    return float(np.mean(np.sum((prediction - target) ** 2, axis=1)))


def kernel_regression_losses(matrix: np.ndarray, y: np.ndarray, sizes, *, repeats: int = 5, ridge: float = 0.0,
                             noise: float = 0.0, seed: int = 0,
                             progress: Progress = no_progress) -> np.ndarray:
    """Held-out test MSE of kernel regression, shape (len(sizes), repeats).

    For each size D and repeat r, D training points are drawn without replacement from the pool of n = len(y)
    points; the other n - D points are the test set. Training labels get Gaussian noise of variance ``noise`` per
    output column; test labels are clean.
    """
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    n = len(y)
    losses = np.empty((len(sizes), repeats))
    for i, size in enumerate(sizes):
        for r in range(repeats):
            rng = generator(seed, "kernel_regression", size, r)
            order = rng.permutation(n)
            train, test = order[:size], order[size:]
            y_train = y[train] + math.sqrt(noise) * rng.standard_normal((size, y.shape[1]))
            prediction = solve_kernel_regression(matrix[np.ix_(train, train)], matrix[np.ix_(test, train)],
                                                 y_train, ridge)
            losses[i, r] = _mse(prediction, y[test])
        progress("kernel regression", i + 1, len(sizes))
    return losses


def _input_shape(x: np.ndarray) -> tuple[int, ...]:
    return (-1, *x.shape[1:])


@precise_function
def feature_count(arch: Architecture, x: np.ndarray, features: str) -> int:
    """Number of features P of :func:`network_features`, computed from shapes only (nothing is evaluated)."""
    if features == "readout":
        _check_body(arch)
        params = jax.eval_shape(lambda k: arch.body[0](k, _input_shape(x))[1], jax.random.PRNGKey(0))
        point = jax.ShapeDtypeStruct((1, *x.shape[1:]), jnp.float64)
        out = jax.eval_shape(arch.body[1], params, point)
        return int(np.prod(out.shape[1:])) + 1
    if features == "jacobian":
        params = jax.eval_shape(lambda k: arch.init_fn(k, _input_shape(x))[1], jax.random.PRNGKey(0))
        return int(sum(np.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(params)))
    raise DataError(f"features must be one of {', '.join(FEATURE_KINDS)}; got {features!r}.")


def _check_body(arch: Architecture) -> None:
    if arch.body is None:
        raise DataError(f"{arch.spec!r} has no known readout layer; readout features need a kernelscale spec "
                        "(fc, cnn, cnn-gap, resnet). Use features='jacobian' for a user's stax triple.")


def plan_features(n_points: int, n_features: int, what: str) -> None:
    """Stop before allocating an (n_points, n_features) float64 feature matrix that would not fit in host memory."""
    need = 3 * n_points * n_features * 8  # the features, a copy in the solver, and its workspace
    available = available_host_memory()
    if need > available:
        raise MemoryPlanError(f"{what}: {n_points} x {n_features} features need about {need / 2**30:.1f} GiB, "
                              f"more than the {available / 2**30:.1f} GiB available; use smaller widths or fewer "
                              "points.")


@precise_function
def network_features(arch: Architecture, x: np.ndarray, *, features: str = "readout", seed: int = 0) -> np.ndarray:
    """Random features of one randomly initialised finite network, shape (n, P).

    ``"readout"``: ``[W_std h(x) / sqrt(fan_in), b_std]`` with h the input of the readout (its kernel is the NNGP
    in expectation over the initialisation). ``"jacobian"``: ``d f(x) / d theta`` for all parameters theta (NTK
    parameterization; its kernel is the empirical NTK).
    """
    x = np.asarray(x, dtype=np.float64)
    key = jax.random.PRNGKey(seed)
    n_features = feature_count(arch, x, features)
    plan_features(len(x), n_features, f"features of {arch.spec}")
    blocks = []
    if features == "readout":
        w_std, b_std = arch.readout_std
        _, params = arch.body[0](key, _input_shape(x))
        apply = jax.jit(lambda batch: arch.body[1](params, batch).reshape(len(batch), -1))
        for start in range(0, len(x), FEATURE_BATCH):
            h = np.asarray(apply(jnp.asarray(x[start:start + FEATURE_BATCH])))
            blocks.append(np.hstack([w_std * h / math.sqrt(h.shape[1]), np.full((len(h), 1), b_std)]))
    else:
        _, params = arch.init_fn(key, _input_shape(x))
        flat, unravel = ravel_pytree(params)

        def output(theta, point):
            return arch.apply_fn(unravel(theta), point[None])[0, 0]

        jacobian = jax.jit(jax.vmap(jax.grad(output), in_axes=(None, 0)))
        for start in range(0, len(x), FEATURE_BATCH):
            blocks.append(np.asarray(jacobian(flat, jnp.asarray(x[start:start + FEATURE_BATCH]))))
    return np.vstack(blocks)


def least_squares_loss(features: np.ndarray, y: np.ndarray) -> float:
    """MSE of the least-squares fit of y on the features, on the same points: the D = infinity loss on the pool."""
    coefficients = linalg.lstsq(features, y, cond=None)[0]
    return _mse(features @ coefficients, y)


def width_losses(arch: Architecture, x: np.ndarray, y: np.ndarray, widths, *, features: str = "readout",
                 repeats: int = 3, seed: int = 0, progress: Progress = no_progress
                 ) -> tuple[np.ndarray, tuple[int, ...]]:
    """Resolution-limited in width: pool loss of least squares on the P(width) features of ``repeats`` networks.

    Returns losses (len(widths), repeats) and the feature counts P per width.
    """
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    counts = tuple(feature_count(arch.with_width(w), x, features) for w in widths)
    for width, count in zip(widths, counts):
        if count > len(x) // 4:
            raise DataError(f"width {width} gives P = {count} features; the width regime needs P <= n/4 = "
                            f"{len(x) // 4} so that data is effectively unlimited. Use smaller widths or a larger n.")
    losses = np.empty((len(widths), repeats))
    for i, width in enumerate(widths):
        for r in range(repeats):
            phi = network_features(arch.with_width(width), x, features=features, seed=jax_seed(seed, r))
            losses[i, r] = least_squares_loss(phi, y)
        progress("readout features", i + 1, len(widths))
    return losses, counts


def linear_rf_losses(eigenvalues: np.ndarray, projections: np.ndarray, features, *, repeats: int = 5,
                     seed: int = 0, progress: Progress = no_progress) -> np.ndarray:
    """Pool loss of least squares on P linear random features of a kernel, shape (len(features), repeats).

    The features of the n pool points are ``Phi = U diag(sqrt(n lambda)) G / sqrt(P)`` with U, lambda the
    eigenvectors and eigenvalues of K/n and G an (n, P) Gaussian matrix, so ``E[Phi Phi^T] = K``. U is orthogonal,
    so the fit is done in the eigenbasis: with ``z = U^T y``, the loss is ``||z - A A^+ z||^2 / n`` for
    ``A = diag(sqrt(lambda)) G`` (the scale of A does not change the least-squares residual).

    Args:
      eigenvalues: (n,) eigenvalues of K/n, descending (clipped at 0).
      projections: (n,) or (n, c) ``U^T y`` in the same order
        (:func:`kernelscale.spectrum.eigenvalues_and_projections`).
      features: feature counts P (each < n).
    """
    eigenvalues = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    z = np.asarray(projections, dtype=np.float64).reshape(len(eigenvalues), -1)
    n = len(eigenvalues)
    features = tuple(int(p) for p in features)
    if max(features) >= np.count_nonzero(eigenvalues):
        raise DataError(f"linear random features: P = {max(features)} needs more than P positive eigenvalues "
                        f"({np.count_nonzero(eigenvalues)}); use fewer features or a larger sample.")
    scale = np.sqrt(eigenvalues)[:, None]
    losses = np.empty((len(features), repeats))
    for i, count in enumerate(features):
        for r in range(repeats):
            mix = scale * generator(seed, "linear_rf", count, r).standard_normal((n, count))
            coefficients = linalg.lstsq(mix, z, cond=None)[0]
            losses[i, r] = float(np.sum((z - mix @ coefficients) ** 2)) / n
        progress("linear random features", i + 1, len(features))
    return losses


def data_variance_losses(arch: Architecture, x: np.ndarray, y: np.ndarray, sizes, *, width: int,
                         features: str = "readout", repeats: int = 5, seed: int = 0
                         ) -> tuple[np.ndarray, np.ndarray, int]:
    """Variance-limited in data: fixed features of one small network, D points drawn with replacement from the
    pool, scored on the whole pool (the data distribution).

    Returns losses (len(sizes), repeats), the D = infinity losses (repeats,) and P.
    """
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    arch = arch.with_width(width)
    count = feature_count(arch, x, features)
    if min(sizes) < VARIANCE_RATIO * count:
        raise DataError(f"the data-variance regime needs D >= {VARIANCE_RATIO} P = {VARIANCE_RATIO * count} "
                        f"(width {width} gives P = {count}); got D = {min(sizes)}. Use a smaller width or larger sizes.")
    losses = np.empty((len(sizes), repeats))
    limits = np.empty(repeats)
    for r in range(repeats):
        phi = network_features(arch, x, features=features, seed=jax_seed(seed, r))
        limits[r] = least_squares_loss(phi, y)
        for i, size in enumerate(sizes):
            train = generator(seed, "data_variance", size, r).integers(0, len(x), size)
            coefficients = linalg.lstsq(phi[train], y[train], cond=None)[0]
            losses[i, r] = _mse(phi @ coefficients, y)
    return losses, limits, count


def width_variance_losses(arch: Architecture, x: np.ndarray, y: np.ndarray, matrix: np.ndarray, widths, *,
                          size: int, features: str = "readout", repeats: int = 8, n_test: int = 500,
                          seed: int = 0) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Variance-limited in width: min-norm regression on the features of networks of growing width, trained on
    ``size`` points, against kernel regression with the infinite-width ``matrix`` (NNGP for readout features, NTK
    for jacobian features) on the same split.

    Returns losses (len(widths), repeats), the infinite-width losses (repeats,) and P per width.
    """
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    n_test = min(n_test, len(x) - size)
    counts = tuple(feature_count(arch.with_width(w), x, features) for w in widths)
    if min(counts) < VARIANCE_RATIO * size:
        raise DataError(f"the width-variance regime needs P >= {VARIANCE_RATIO} D = {VARIANCE_RATIO * size} "
                        f"features; widths {list(widths)} give P = {list(counts)}. Use larger widths or a smaller D.")
    losses = np.empty((len(widths), repeats))
    limits = np.empty(repeats)
    for r in range(repeats):
        order = generator(seed, "width_variance", size, r).permutation(len(x))
        train, test = order[:size], order[size:size + n_test]
        points = np.concatenate([train, test])
        limits[r] = _mse(solve_kernel_regression(matrix[np.ix_(train, train)], matrix[np.ix_(test, train)],
                                                 y[train], 0.0), y[test])
        for i, width in enumerate(widths):
            phi = network_features(arch.with_width(width), x[points], features=features, seed=jax_seed(seed, r))
            phi_train, phi_test = phi[:size], phi[size:]
            prediction = solve_kernel_regression(phi_train @ phi_train.T, phi_test @ phi_train.T, y[train], 0.0)
            losses[i, r] = _mse(prediction, y[test])
    return losses, limits, counts


def grid_losses(arch: Architecture, x: np.ndarray, y: np.ndarray, widths, sizes, *, features: str = "readout",
                repeats: int = 3, ridge: float = 1e-2, n_test: int = 500, seed: int = 0
                ) -> tuple[np.ndarray, tuple[int, ...]]:
    """Losses of random-feature ridge regression on a grid of (width, D): the model-and-data-limited surface that
    :func:`kernelscale.allocation.fit_loss_model` fits with ``E + A/P^alpha + B/D^beta``.

    Per repeat, one network per width gives features for the pool; ``n_test`` held-out points are the test set and
    training sets are nested prefixes of one permutation of the rest. ``ridge`` (on the feature Gram matrix, whose
    diagonal is about K(x, x) = O(1)) keeps the loss finite where P is close to D (double descent).

    Returns losses (len(widths), len(sizes), repeats) and P per width.
    """
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    if max(sizes) + n_test > len(x):
        raise DataError(f"the grid needs max(sizes) + n_test = {max(sizes)} + {n_test} <= n = {len(x)} points; "
                        "use smaller sizes or a larger sample.")
    counts = tuple(feature_count(arch.with_width(w), x, features) for w in widths)
    losses = np.empty((len(widths), len(sizes), repeats))
    for r in range(repeats):
        order = generator(seed, "loss_surface", r).permutation(len(x))
        test, pool = order[:n_test], order[n_test:]
        for i, width in enumerate(widths):
            phi = network_features(arch.with_width(width), x, features=features, seed=jax_seed(seed, r))
            for j, size in enumerate(sizes):
                train = pool[:size]
                prediction = solve_kernel_regression(phi[train] @ phi[train].T, phi[test] @ phi[train].T, y[train],
                                                     ridge)
                losses[i, j, r] = _mse(prediction, y[test])
    return losses, counts


# ---------------------------------------------------------------------------------------------------- grids

# linear random features are cheap (least squares in the eigenbasis), and at small P their pool loss has a heavy tail
# on spectra with gaps (sphere data: the P features catch a whole degenerate block or miss it): at least 16 repeats
LINEAR_RF_REPEATS = 16
# data_variance: D from DATA_VARIANCE_START * P up, where the O(P / D) corrections to the 1/D gap are a few percent,
# and enough repeats for the median to step over the nearly singular least-squares draws
DATA_VARIANCE_START = 64
DATA_VARIANCE_REPEATS = 32
WIDTH_VARIANCE_REPEATS = 8
WIDTH_REPEATS = 3  # finite networks per width (readout features)
TRAINED_WIDTHS = {"cpu": tuple(2**k for k in range(3, 8)), "gpu": tuple(2**k for k in range(3, 11))}
TRAINED_REPEATS = 3


def powers_of_two_widths(arch: Architecture, x, keep, count: int = 5, first: bool = False) -> tuple[int, ...]:
    """Widths 1, 2, 4, ... whose readout feature count P satisfies ``keep(P)``; the last (or first) ``count``.

    When fewer than MIN_SIZES powers of two qualify (flatten readouts of convolutional networks have P = pixels x
    width + 1 features, so few widths fit under n/4), the integer widths whose P qualifies are used instead, up to
    ``count`` of them spread over their range (P is linear in the width: P(w) = P(1) + (w - 1) (P(2) - P(1))).
    """
    widths = [2**k for k in range(14) if keep(feature_count(arch.with_width(2**k), x, "readout"))]
    if len(widths) < MIN_SIZES:
        one = feature_count(arch.with_width(1), x, "readout")
        step = feature_count(arch.with_width(2), x, "readout") - one
        integers = [w for w in range(1, 2**13) if keep(one + (w - 1) * step)]
        if len(integers) > len(widths):
            picks = np.unique(np.round(np.geomspace(1, len(integers), min(count, len(integers)))).astype(int)) - 1
            return tuple(integers[i] for i in picks)
    return tuple(widths[:count] if first else widths[-count:])


def readout_widths(arch: Architecture, x: np.ndarray, widths=None) -> tuple[int, ...]:
    """The widths of the ``width`` regime: given, or the (up to 5) powers of two with 16 <= P <= n/4."""
    n = len(x)
    widths = widths or powers_of_two_widths(arch, x, lambda p: 16 <= p <= n // 4)
    return check_measured_sizes(widths, 2**16, "widths", lower=1)


def linear_rf_feature_counts(arch: Architecture, x: np.ndarray, widths=None) -> tuple[int, ...]:
    """The P grid of the ``linear_rf`` regime: the readout feature counts P(width) of the ``width`` regime's widths
    (given, or its default grid), so both curves share their x; for a user's stax triple (no readout to count),
    powers of two with 16 <= P <= n/4."""
    n = len(x)
    if arch.body is None:
        counts = tuple(2**k for k in range(4, 20) if 2**k <= n // 4)
    else:
        widths = widths or powers_of_two_widths(arch, x, lambda p: 16 <= p <= n // 4)
        counts = tuple(feature_count(arch.with_width(w), x, "readout") for w in widths)
    return check_measured_sizes(counts, n // 2, "linear random-feature counts P")
