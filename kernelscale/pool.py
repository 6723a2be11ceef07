"""The out-of-sample check of the predicted learning curve (``compare --pool``).

The prediction sees a sample of n points. The measurement draws a pool of M points that contains the sample, holds
out ``test_points`` of them (never in any training set, nor in the sample), and measures kernel regression on
training sets of D points drawn from the rest, at sizes D past n. Predicted and measured loss and local exponent
are set side by side at each size, with verdicts. Synthetic data (sphere, teacher, GP targets) can be generated at
any M; digits (1797 points) and mnist5k (5000) are limited by their size. A GP target is drawn on the whole pool, so
the sample's labels are the same function's.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from ._compat import precise_function
from .architectures import as_architecture
from .curves import PredictedCurve, check_curve_sizes
from .data import Dataset, load_dataset
from .errors import DataError, MemoryPlanError
from .estimates import Estimate
from .fit import CURVE_CI_LEVEL, fit_curve
from .kernels import compute_kernel
from .memory import available_host_memory
from .measurements import solve_kernel_regression
from .options import MIN_SAMPLES, Integer, validated
from .predict import predict
from .progress import Progress, no_progress, renamed
from .random import generator
from .results import Curve, PoolComparison, PoolRow
from .targets import gp_target

MAX_TEST_POINTS = 2000
MIN_TEST_POINTS = 200


def test_points(pool_size: int) -> int:
    """Held-out test points of a pool of M: M/5, at least 200 and at most 2000."""
    return int(min(MAX_TEST_POINTS, max(MIN_TEST_POINTS, pool_size // 5)))


def pool_bytes(pool_size: int, max_size: int) -> int:
    """Host memory of the check: the (M, M) kernel, and the largest training block twice (matrix and factor)."""
    return 8 * (pool_size**2 + 2 * max_size**2 + max_size * test_points(pool_size))


def plan_pool_memory(pool_size: int, max_size: int) -> None:
    """Stop before building the (M, M) kernel when the check would not fit in host memory, with the M that does."""
    available = available_host_memory()
    need = pool_bytes(pool_size, max_size)
    if need > available:
        fitting = int(math.sqrt(available / 8 / 3.5))
        raise MemoryPlanError(f"a pool of M = {pool_size} points needs about {need / 2**30:.1f} GiB of host memory "
                              f"(the M x M kernel and the largest training block), more than the "
                              f"{available / 2**30:.1f} GiB available; use --pool <= {fitting}.")


@dataclasses.dataclass(frozen=True)
class Pool:
    """A pool of M points with its kernel and target, split into held-out test points and the rest.

    Attributes:
      dataset: the M points (x, y as loaded or drawn).
      matrix: (M, M) kernel Gram matrix.
      y: (M, c) targets (a GP target is drawn on the pool).
      test: (t,) indices of the held-out test points; train: (M - t,) the indices training sets and samples come
        from.
    """

    dataset: Dataset
    matrix: np.ndarray
    y: np.ndarray
    test: np.ndarray
    train: np.ndarray

    @property
    def size(self) -> int:
        return len(self.y)


@validated
@precise_function
def make_pool(arch, data: str, *, pool_size: int, max_size: int | None = None, kernel: str = "ntk", seed: int = 0,
              device: str | None = None, use_cache: bool = True, progress: Progress = no_progress) -> Pool:
    """Load M = ``pool_size`` points of ``data``, plan the memory, compute the kernel, and draw or take the target.

    ``max_size``: the largest training set the check will use (default M - test points), for the memory plan.
    """
    arch = as_architecture(arch)
    test_count = test_points(pool_size)
    max_size = pool_size - test_count if max_size is None else max_size
    plan_pool_memory(pool_size, max_size)
    dataset = load_dataset(data, n_samples=pool_size, seed=seed, input_kind=arch.input_kind)
    matrix = compute_kernel(arch, dataset.x, kind=kernel, device=device, use_cache=use_cache,
                            progress=renamed(progress, "pool kernel")).matrix
    if dataset.y is not None:
        y = dataset.y
    elif dataset.metadata.get("target") == "gp":
        y = gp_target(matrix, seed=seed)
    else:
        raise DataError(f"the data {dataset.name!r} has no target; the pool check needs labels (or target=gp).")
    order = generator(seed, "pool_split").permutation(pool_size)
    return Pool(dataset, matrix, np.asarray(y, dtype=np.float64).reshape(pool_size, -1), np.sort(order[:test_count]),
                np.sort(order[test_count:]))


def pool_sample(pool: Pool, n: int, *, seed: int) -> Dataset:
    """The prediction's sample: n of the pool's non-test points (seeded), with the pool's targets."""
    if not (isinstance(n, (int, np.integer)) and 2 <= n <= len(pool.train)):
        raise DataError(f"the sample size n = {n!r} must be at most the pool's {len(pool.train)} non-test points "
                        f"(M = {pool.size} minus {len(pool.test)} test points); use a larger --pool or a smaller n.")
    index = np.sort(generator(seed, "pool_sample").choice(pool.train, n, replace=False))
    metadata = {**pool.dataset.metadata, "n": int(n), "pool": pool.size, "pool_index": index.tolist(),
                "target": "real" if pool.dataset.metadata.get("target") == "gp" else pool.dataset.metadata["target"]}
    return Dataset(x=pool.dataset.x[index], y=pool.y[index], name=pool.dataset.name, metadata=metadata)


def measure_pool_curve(pool: Pool, sizes, *, repeats: int = 5, ridge: float = 0.0, noise: float = 0.0,
                       seed: int = 0) -> tuple[Curve, np.ndarray]:
    """Held-out test MSE of kernel regression on D points drawn from the pool's non-test points, tested on its
    held-out test points, for each size and repeat (training labels get Gaussian noise of variance ``noise`` per
    output column).

    Returns the :class:`Curve` (losses (sizes, repeats)) and the squared errors per test point, shape
    (sizes, repeats, test points), which :func:`pool_rows` resamples for the intervals.
    """
    sizes = check_curve_sizes(sizes, "pool sizes")
    if sizes[-1] > len(pool.train):
        raise DataError(f"pool sizes must be at most the {len(pool.train)} non-test points of the pool; got "
                        f"{sizes[-1]}. Use a larger --pool or smaller sizes.")
    errors = np.empty((len(sizes), repeats, len(pool.test)))
    for i, size in enumerate(sizes):
        for r in range(repeats):
            rng = generator(seed, "pool_training_sets", size, r)
            train = rng.choice(pool.train, size, replace=False)
            y_train = pool.y[train] + math.sqrt(noise) * rng.standard_normal((size, pool.y.shape[1]))
            prediction = solve_kernel_regression(pool.matrix[np.ix_(train, train)],
                                                 pool.matrix[np.ix_(pool.test, train)], y_train, ridge)
            errors[i, r] = np.sum((prediction - pool.y[pool.test]) ** 2, axis=1)
    losses = errors.mean(axis=2)
    curve = Curve("pool", "D", sizes, None, tuple(tuple(float(v) for v in row) for row in losses), None,
                  fit_curve(sizes, losses, seed=seed), None,
                  {"pool": pool.size, "test_points": len(pool.test), "ridge": ridge, "noise": noise})
    return curve, errors


def _neighbour_slopes(sizes: np.ndarray, means: np.ndarray) -> np.ndarray:
    """``-d log mean / d log size`` between neighbouring sizes (one-sided at the ends); means (..., sizes)."""
    log_x, log_y = np.log(sizes), np.log(means)
    low = np.r_[0, np.arange(len(sizes) - 1)]
    high = np.r_[np.arange(1, len(sizes)), len(sizes) - 1]
    return -(log_y[..., high] - log_y[..., low]) / (log_x[high] - log_x[low])


def measured_intervals(sizes, errors: np.ndarray, *, seed: int = 0, samples: int = 1000
                       ) -> tuple[list[Estimate], list[Estimate]]:
    """Mean losses and local exponents at each size with 95% intervals from a bootstrap that redraws both the
    repeats (training sets) and the test points, so the test set's own sampling error is in the loss interval.

    Args:
      errors: (sizes, repeats, test points) squared errors.
    Returns: (losses, local exponents), each a list of Estimates over sizes.
    """
    sizes = np.asarray(sizes, dtype=float)
    means = errors.mean(axis=(1, 2))
    rng = generator(seed, "pool_bootstrap")
    _, repeats, points = errors.shape
    boot_means = np.empty((samples, len(sizes)))
    for b in range(samples):
        chosen = errors[:, rng.integers(0, repeats, repeats)][:, :, rng.integers(0, points, points)]
        boot_means[b] = chosen.mean(axis=(1, 2))
    tail = (1 - CURVE_CI_LEVEL) / 2 * 100
    loss_low, loss_high = np.percentile(boot_means, [tail, 100 - tail], axis=0)
    slopes = _neighbour_slopes(sizes, means)
    slope_low, slope_high = np.percentile(_neighbour_slopes(sizes, boot_means), [tail, 100 - tail], axis=0)
    return ([Estimate(m, (a, b)) for m, a, b in zip(means, loss_low, loss_high)],
            [Estimate(s, (min(a, s), max(b, s))) for a, b, s in zip(slope_low, slope_high, slopes)])


def default_pool_sizes(n: int, largest: int) -> tuple[int, ...]:
    """5 log-spaced sizes from 2 n to the largest training set (fewer when the pool is small)."""
    if largest <= n:
        raise DataError(f"the pool leaves {largest} training points, no more than the sample's n = {n}; use a "
                        "larger --pool.")
    return tuple(sorted({int(round(d)) for d in np.geomspace(min(2 * n, largest), largest, 5)}))


@validated(n_samples=Integer(MIN_SAMPLES), pool=Integer(2))
@precise_function
def compare_pool(arch, data: str, *, n_samples: int, pool: int, kernel: str = "ntk", seed: int = 0, sizes=None,
                 repeats: int = 5, ridge: float = 0.0, noise: float = 0.0, device: str | None = None,
                 use_cache: bool = True, progress: Progress = no_progress) -> PoolComparison:
    """Predict the learning curve from ``n_samples`` points of a pool of ``pool`` points and measure it on the pool
    at ``sizes`` past the sample (default: 5 from 2 n to the pool's largest training set), tested on held-out
    points that neither the prediction nor any training set saw."""
    if pool <= n_samples:
        raise DataError(f"the pool (M = {pool}) must be larger than the sample (n = {n_samples}); it contains the "
                        "sample and the sizes past it.")
    largest = pool - test_points(pool)
    sizes = check_curve_sizes(sizes, "sizes") if sizes is not None else default_pool_sizes(n_samples, largest)
    if sizes[-1] > largest:
        raise DataError(f"sizes must be at most {largest} (the pool of {pool} minus {test_points(pool)} held-out "
                        f"test points); got {sizes[-1]}.")
    start = time.perf_counter()
    the_pool = make_pool(arch, data, pool_size=pool, max_size=sizes[-1], kernel=kernel, seed=seed, device=device,
                         use_cache=use_cache, progress=progress)
    seconds_pool = time.perf_counter() - start
    sample = pool_sample(the_pool, n_samples, seed=seed)
    start = time.perf_counter()
    # the measured sizes, and a log grid from n/64 for the plot (each size's loss and exponent are its own)
    first = max(2, n_samples // 64)
    curve_sizes = tuple(sorted({*sizes, *(int(v) for v in np.geomspace(first, sizes[-1], 16))}))
    # the pool checks L(D) only: the width side stays on the same kernel rather than compute a second one
    prediction = predict(arch, sample, kernel=kernel, seed=seed, device=device, use_cache=use_cache,
                         sizes=curve_sizes, at=sizes[-1], ridge=ridge, noise=noise, width_kernel=kernel,
                         progress=progress)
    seconds_predict = time.perf_counter() - start
    start = time.perf_counter()
    progress("pool curve", 0, 1)
    measured, errors = measure_pool_curve(the_pool, sizes, repeats=repeats, ridge=ridge, noise=noise, seed=seed)
    return PoolComparison(rows=pool_rows(prediction.learning_curve, measured, errors, seed=seed),
                          prediction=prediction, measured=measured, seconds_predict=seconds_predict,
                          seconds_measure=time.perf_counter() - start + seconds_pool)


def pool_rows(curve: PredictedCurve, measured: Curve, errors: np.ndarray, *, seed: int = 0) -> tuple[PoolRow, ...]:
    """Rows of predicted against measured at each of the measured curve's sizes (all must be in the curve);
    ``errors`` (sizes, repeats, test points) from :func:`measure_pool_curve`."""
    losses, exponents = measured_intervals(measured.x, errors, seed=seed)
    predicted_exponents = _curve_local_exponents(curve, measured.x)
    return tuple(PoolRow(size, curve.loss[curve.sizes.index(size)], losses[i], predicted_exponents[i], exponents[i])
                 for i, size in enumerate(measured.x))


def _curve_local_exponents(curve: PredictedCurve, sizes) -> list[Estimate]:
    """The predicted curve's local exponent over the same neighbouring sizes as :func:`measured_intervals`:
    the slope of the predicted log loss, with an interval that holds the curve's local-exponent intervals at both
    ends and the slope itself."""
    out = []
    last = len(sizes) - 1
    for i in range(len(sizes)):
        low, high = (0, 1) if i == 0 else (last - 1, last) if i == last else (i - 1, i + 1)
        a, b = curve.sizes.index(sizes[low]), curve.sizes.index(sizes[high])
        slope = -(math.log(curve.loss[b].value) - math.log(curve.loss[a].value)) / (
            math.log(sizes[high]) - math.log(sizes[low]))
        ends = curve.local_exponent[a], curve.local_exponent[b]
        out.append(Estimate(slope, (min(ends[0].ci[0], ends[1].ci[0], slope),
                                    max(ends[0].ci[1], ends[1].ci[1], slope))))
    return out
