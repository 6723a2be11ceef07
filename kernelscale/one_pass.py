"""``allocate --check``: the compute-optimal frontier measured by training, to check the one predicted from the
spectrum (:mod:`kernelscale.compute_optimal`).

Random-feature models (the readout features of the architecture at each width, a random network's last hidden
layer, whose kernel is the NNGP) are trained by one-pass SGD from zero, a fresh batch every step; the test loss is
recorded along the way on a grid of samples s. Teacher data is drawn anew for every step
(:func:`kernelscale.data.fresh_points`); a finite data set is passed in a new random order each epoch, and the
result says how many times a point was reused (past 1 the one-pass theory no longer describes it). The frontier of
the mean loss over repeats is read over the budgets where the predicted N* lies inside the measured widths, and
its exponents get 95% intervals from a bootstrap over the repeats.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .architectures import Architecture
from .data import Dataset, dataset_points, fresh_points, load_dataset
from .errors import DataError, ParameterError
from .estimates import Estimate
from .measurements import feature_count, network_features
from .progress import Progress, no_progress
from .random import generator, jax_seed
from .results import FrontierCheck
from .spectral_allocation import Frontier, mean_over_repeats, surface_frontier

DEFAULT_WIDTHS = (8, 16, 32, 64, 128, 256)
TEST_POINTS = 2000  # held out (finite data: at most a fifth of it)
CHECKPOINTS_PER_DECADE = 10
BUDGETS_PER_DECADE = 8
SAMPLE_MARGIN = 2.5  # each width trains until the budget whose predicted N* is this many times its own
BOOTSTRAP = 200
DIVERGED = 1e3  # a test loss this many times the trivial loss's means SGD diverged
TEST_REPEAT = 10**6  # the fresh_points stream index of the test set (repeats use 0, 1, ...)


def check_budgets(predicted: Frontier, features: tuple[int, ...]) -> np.ndarray:
    """The budgets, :data:`BUDGETS_PER_DECADE` per decade, whose predicted N* lies between the second smallest and
    the second largest measured feature count (so that the measured minimum has a neighbour on each side)."""
    inside = [(c, n) for c, n, ok in zip(predicted.compute, predicted.features, predicted.inside) if ok]
    chosen = [c for c, n in inside if features[1] <= n <= features[-2]]
    if len(chosen) < 2:
        raise DataError(f"the predicted N* never lies between {features[1]} and {features[-2]} features over the "
                        f"budgets {predicted.compute[0]:.3g}..{predicted.compute[-1]:.3g}; widen --check-widths.")
    low, high = min(chosen), max(chosen)
    count = max(3, int(round(BUDGETS_PER_DECADE * math.log10(high / low))) + 1)
    return np.geomspace(low, high, count)


def training_samples(predicted: Frontier, features: tuple[int, ...], budgets: np.ndarray, batch: int) -> list[int]:
    """Samples each feature count N trains for: the budget where the predicted N* is :data:`SAMPLE_MARGIN` N (at
    most the largest budget), divided by N; a multiple of ``batch``."""
    log_n = np.log(np.asarray(predicted.features)[list(predicted.inside)])
    log_c = np.log(np.asarray(predicted.compute)[list(predicted.inside)])
    out = []
    for count in features:
        budget = min(budgets[-1], math.exp(np.interp(math.log(SAMPLE_MARGIN * count), log_n, log_c)))
        out.append(int(batch * math.ceil(budget / count / batch)))
    return out


def checkpoints(largest: int, batch: int) -> np.ndarray:
    """The samples at which the test loss is recorded: log-spaced multiples of ``batch`` up to ``largest``."""
    grid = np.geomspace(batch, largest, max(2, int(CHECKPOINTS_PER_DECADE * math.log10(largest / batch)) + 1))
    return np.unique(batch * np.ceil(grid / batch)).astype(np.int64)


def sgd_losses(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], stops: np.ndarray, *,
               step: float, batch: int) -> np.ndarray:
    """Test losses of one-pass SGD from w = 0 on the training rows in order (``w -= step / B phi^T (phi w - y)``
    per batch of B rows), after each number of samples in ``stops`` (increasing, multiples of B); NaN from the stop
    where the loss passed DIVERGED times the trivial loss (SGD diverged: training stops there).

    Shapes: train (s, N) and (s, c), test (t, N) and (t, c), stops (m,) -> (m,) losses (squared error summed over
    the c outputs, averaged over test points)."""
    (phi, y), (test_phi, test_y) = train, test
    weights = np.zeros((phi.shape[1], y.shape[1]))
    losses, done = np.full(len(stops), np.nan), 0
    ceiling = DIVERGED * float(np.mean(np.sum(test_y**2, axis=1)))
    with np.errstate(over="ignore", invalid="ignore"):
        for i, stop in enumerate(stops):
            for start in range(done, int(stop), batch):
                rows = slice(start, start + batch)
                weights -= (step / batch) * (phi[rows].T @ (phi[rows] @ weights - y[rows]))
            done = int(stop)
            loss = float(np.mean(np.sum((test_phi @ weights - test_y) ** 2, axis=1)))
            if not loss <= ceiling:
                break
            losses[i] = loss
    return losses


def check_trainable(data: str | Dataset) -> None:
    """A DataError, before anything is computed, for data ``--check`` cannot train on: synthetic data without a fixed
    target (a sphere's GP target lives on one sample), or a Dataset without labels."""
    if isinstance(data, Dataset):
        if data.y is None:
            raise DataError("--check trains on labels: the Dataset given has none.")
        return
    if dataset_points(data) is None:
        fresh_points(data, n_samples=1, seed=0, count=1)  # only the teacher's target labels new points


class TrainingStream:
    """Where the training rows and the test set come from: fresh teacher points, or one finite data set split into a
    test set and a pool passed in a new random order each epoch."""

    def __init__(self, data: str | Dataset, *, n_samples: int, seed: int, input_kind: str):
        self.data, self.n_samples, self.seed, self.input_kind = data, n_samples, seed, input_kind
        self.fresh = isinstance(data, str) and dataset_points(data) is None
        if self.fresh:
            self.test = fresh_points(data, n_samples=n_samples, seed=seed, count=TEST_POINTS, repeat=TEST_REPEAT,
                                     input_kind=input_kind)
            self.pool = None
            return
        whole = data if isinstance(data, Dataset) else load_dataset(data, n_samples=dataset_points(data), seed=seed,
                                                                   input_kind=input_kind)
        if whole.y is None:
            raise DataError("the check trains on labels: this data has none (a GP target lives on one sample).")
        order = generator(seed, "sgd_order", 10**6).permutation(whole.n)
        held = min(TEST_POINTS, whole.n // 5)
        self.test = Dataset(whole.x[order[:held]], whole.y[order[:held]], whole.name, whole.metadata)
        self.pool = Dataset(whole.x[order[held:]], whole.y[order[held:]], whole.name, whole.metadata)

    @property
    def pool_size(self) -> int | None:
        return None if self.pool is None else self.pool.n

    def rows(self, count: int, repeat: int) -> Dataset:
        """``count`` training points for ``repeat``: fresh, or the pool in epochs of new random orders."""
        if self.fresh:
            return fresh_points(self.data, n_samples=self.n_samples, seed=self.seed, count=count, repeat=repeat,
                                input_kind=self.input_kind)
        rng = generator(self.seed, "sgd_order", repeat)
        order = np.concatenate([rng.permutation(self.pool.n) for _ in range(math.ceil(count / self.pool.n))])[:count]
        return Dataset(self.pool.x[order], self.pool.y[order], self.pool.name, self.pool.metadata)


def measured_losses(arch: Architecture, stream: TrainingStream, widths, counts, samples, stops, *, step: float,
                    batch: int, repeats: int, seed: int, progress: Progress = no_progress
                    ) -> tuple[np.ndarray, tuple[str, ...]]:
    """(p, m, repeats) test losses: width p's network of repeat r (``jax_seed(seed, r)``) trained on the repeat's
    rows (the same rows for every width) up to ``samples[p]``, NaN past it or past a divergence; and the runs that
    diverged, in words."""
    losses = np.full((len(widths), len(stops), repeats), np.nan)
    diverged = []
    for r in range(repeats):
        rows = stream.rows(max(samples), r)
        for i, width in enumerate(widths):
            network = arch.with_width(width)
            # one call for both: each call compiles the network anew
            both = network_features(network, np.concatenate([stream.test.x, rows.x[:samples[i]]]),
                                    seed=jax_seed(seed, r))
            test_phi, phi = both[:stream.test.n], both[stream.test.n:]
            reached = stops <= samples[i]
            losses[i, reached, r] = sgd_losses((phi, rows.y[:samples[i]]), (test_phi, stream.test.y),
                                               stops[reached], step=step, batch=batch)
            if np.isnan(losses[i, reached, r]).any():
                diverged.append(f"width {width} (repeat {r + 1})")
            progress(f"one-pass SGD (repeat {r + 1} of {repeats})", i + 1, len(widths))
    return losses, tuple(diverged)


def bootstrap_exponents(counts, stops, losses: np.ndarray, budgets: np.ndarray, *, seed: int
                        ) -> tuple[Frontier, Estimate | None, Estimate | None]:
    """The frontier of the mean loss over repeats, and its exponents over ``budgets`` with 95% percentile intervals
    over :data:`BOOTSTRAP` resamples of the repeats (None when fewer than 3 budgets have their optimum inside)."""
    frontier = surface_frontier(counts, stops, mean_over_repeats(losses), budgets)
    try:
        xi, eta = frontier.exponents()
    except ParameterError:  # fewer than 3 budgets have their optimum inside the measured grid
        return frontier, None, None
    rng = generator(seed, "curve_bootstrap")
    draws = []
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, losses.shape[2], losses.shape[2])
        resampled = surface_frontier(counts, stops, mean_over_repeats(losses[:, :, pick]), budgets)
        try:
            draws.append(resampled.exponents())
        except ParameterError:  # a resample whose optima left the grid is left out
            continue
    draws = np.array(draws).reshape(-1, 2)
    if len(draws) < BOOTSTRAP // 2:
        return frontier, Estimate(xi), Estimate(eta)
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    return frontier, Estimate(xi, (low[0], high[0])), Estimate(eta, (low[1], high[1]))


def measure_frontier(arch: Architecture, data: str | Dataset, *, model, predicted: Frontier, widths=None,
                     repeats: int = 8, seed: int = 0, progress: Progress = no_progress) -> FrontierCheck:
    """One-pass SGD on the readout features of ``arch`` at ``widths`` (default :data:`DEFAULT_WIDTHS`), the measured
    frontier, and the prediction's exponents over the same budgets (``model``, a
    :class:`kernelscale.compute_optimal.SurfaceModel`, and its ``predicted`` frontier over a wide range)."""
    start = time.perf_counter()
    widths = tuple(widths or DEFAULT_WIDTHS)
    stream = TrainingStream(data, n_samples=model.spectrum.n, seed=seed, input_kind=arch.input_kind)
    counts = tuple(feature_count(arch.with_width(w), stream.test.x[:1], "readout") for w in widths)
    budgets = check_budgets(predicted, counts)
    samples = training_samples(predicted, counts, budgets, model.batch)
    stops = checkpoints(max(samples), model.batch)
    step = model.learning_rate / model.spectrum.trace
    losses, diverged = measured_losses(arch, stream, widths, counts, samples, stops, step=step, batch=model.batch,
                             repeats=repeats, seed=seed, progress=progress)
    frontier, xi, eta = bootstrap_exponents(counts, stops, losses, budgets, seed=seed)
    progress("predicted exponents over the checked budgets", 0, 1)
    predicted_here, xi_predicted, eta_predicted = model.exponents(budgets, largest=2 * counts[-1], grow=False)
    pool = stream.pool_size
    return FrontierCheck(
        widths=widths, features=counts, samples=tuple(float(s) for s in stops),
        losses=tuple(tuple(tuple(None if math.isnan(v) else float(v) for v in cell) for cell in row) for row in losses),
        frontier=frontier.inside_only(), budgets=(float(budgets[0]), float(budgets[-1])),
        frontier_predicted=predicted_here.inside_only(),
        n_exponent_predicted=xi_predicted, loss_exponent_predicted=eta_predicted, n_exponent_measured=xi,
        loss_exponent_measured=eta, pool=max(samples) * repeats if pool is None else pool,
        test_points=stream.test.n, fresh=stream.fresh, reuse=1.0 if pool is None else max(samples) / pool,
        diverged=diverged, seconds=time.perf_counter() - start)
