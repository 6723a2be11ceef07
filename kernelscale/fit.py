"""Power-law fits of spectra: a finite-n-corrected tail estimator with an automatic window and honest uncertainty.

Why tails, and why half-samples (docs/theory.md, "Kernel exponent"). Point-wise fits of ``log lambda_i`` against
``log i`` are biased by the staircase of degenerate eigenvalues and by the finite sample. kernelscale fits tail sums instead:

    T(i) = sum_{j > i} lambda_j  ~  i^-(b - 1)          (lambda_i ~ i^-b, so the tail exponent is alpha_K = b - 1)

computed as ``sum(all) - cumsum``: the sum of all eigenvalues of K/n is trace(K)/n, an unbiased estimate of the
operator's trace, so the tail includes the operator's eigenvalues beyond n. The top-i sum of the sample spectrum is
biased upward by a term that falls as 1/n (checked against the exact Funk-Hecke spectrum of the sphere); the
Richardson extrapolation

    T_R(i) = 2 T_n(i) - T_{n/2}(i)                      (T_{n/2}: the same on a random half of the sample)

removes it. On the sphere (d = 3, 4, n = 4000) ``T_R`` matches the operator's tail to about 1% up to i ~ n/6.

The same estimator gives the target decay: with ``v_i^2 ~ i^-a`` the target tail ``sum_{j>i} v_j^2`` has exponent
``a - 1`` (the total is exactly ||y||^2 / n).

Window and uncertainty (:func:`fit_tail_exponent`):
  * usable range: indices where ``T_R > 0``, the correction ``(T_R - T_n)/T_R`` stays below MAX_CORRECTION, and the
    tail is above the round-off floor; ``i_max`` is the end of that range;
  * top-window slope: least-squares slope of ``log T_R`` on ``log i`` (log-spaced points) over
    ``[i_max / WINDOW_RATIO, i_max]``, the part of the spectrum closest to the asymptote that is still reliable;
  * drift: that slope minus the slope over the previous window ``[i_max / 16, i_max / 4]``. Local exponents of
    finite spectra converge slowly (on the sphere they still move at i ~ n/4 for d >= 4); the estimate is the
    top-window slope plus one drift (the limit if the drift halves every two octaves);
  * uncertainty, all added to the interval (never narrowed):
    window sensitivity (the range of slopes of all windows of ratio 4 to 16 ending in the top octave),
    resampling (the larger of: the spread of the whole estimate, drift included, over the corrected tails of the
    individual half-samples, and the standard deviation of the half-samples' own estimates, independent draws),
    and convergence (the interval, clipped at 0 since a tail sum never grows, holds both the top-window slope, as if
    converged, and the slope plus :func:`convergence_factor` drifts: DRIFT_FACTOR, as if the drift shrank only by a
    third every two octaves, or more on data of a high intrinsic dimension d, where local exponents converge like
    i^(-1/d));
  * status: ``"ok"``; ``"not_converged"`` (the movement the convergence bound allows beyond the estimate, or the
    window spread, above CONVERGED_TOLERANCE: the interval is wide on purpose); ``"too_few_eigenvalues"``; ``"not_power_law"`` (local exponents over the usable range differ by
    more than a factor NOT_POWER_LAW_RATIO, or are not positive). A failed fit has ``exponent = None`` and a
    message saying what to do.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .errors import DataError, ParameterError
from .estimates import CurveStatus, Estimate, FitStatus
from .random import generator
from .theory import richardson

MAX_CORRECTION = 0.3  # largest relative Richardson correction (T_R - T_n) / T_R trusted
WINDOW_RATIO = 4.0  # a window spans at least a factor 4 in index
GRID_STEPS_PER_OCTAVE = 4  # log-spaced evaluation points
MIN_INDEX = 4  # the first few modes (constant, low degrees) are never asymptotic
CONVERGED_TOLERANCE = 0.05
NOT_POWER_LAW_RATIO = 3.0
FLOOR_FACTOR = 10.0  # the tail must exceed FLOOR_FACTOR * n * (eigenvalue noise floor)
DRIFT_FACTOR = 2.0  # the interval reaches the limit of a drift that shrinks by only 1/3 every two octaves
BLOCK_GAP = 1.5  # consecutive eigenvalues further apart than this ratio bound a block of nearly degenerate ones


@dataclasses.dataclass(frozen=True)
class PowerLawFit:
    """Least-squares fit ``y = prefactor * x^-exponent`` in log-log space over the given points."""

    exponent: float
    prefactor: float
    r2: float


@dataclasses.dataclass(frozen=True)
class TailFit:
    """Result of :func:`fit_tail_exponent`.

    Attributes:
      exponent: tail exponent (alpha_K for eigenvalues, a - 1 for target powers) with its interval, or None if the
        fit failed (JSON: ``exponent`` and ``ci``).
      window: (first, last) 1-based indices of the fit window, or None.
      usable: (first, last) usable index range (MIN_INDEX .. i_max).
      status: a :class:`~kernelscale.estimates.FitStatus`.
      message: what the status means for this spectrum and what to do.
      local_indices, local_exponents: centres (geometric) and slopes of consecutive windows of ratio 4: the
        diagnostic "does the local exponent settle?".
      prefactor: C in T(i) ~ C i^-exponent over the window (for plotting), or None.
      drift, window_spread, resample_spread: the uncertainty components.
    """

    exponent: Estimate | None = dataclasses.field(metadata={"ci_key": "ci"})
    window: tuple[int, int] | None
    usable: tuple[int, int] | None
    status: FitStatus
    message: str
    local_indices: tuple[float, ...] = ()
    local_exponents: tuple[float, ...] = ()
    prefactor: float | None = None
    drift: float = 0.0
    window_spread: float = 0.0
    resample_spread: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exponent is not None


def fit_power_law(x: np.ndarray, y: np.ndarray) -> PowerLawFit:
    """Fit ``y ~ prefactor * x^-exponent`` by least squares on ``log y`` against ``log x``; x, y positive (m,)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise DataError(f"x and y must be 1-D arrays of equal length >= 2; got shapes {x.shape} and {y.shape}.")
    if np.any(x <= 0) or np.any(y <= 0):
        raise DataError("a power-law fit needs positive x and y.")
    lx, ly = np.log(x), np.log(y)
    slope, intercept = np.polyfit(lx, ly, 1)
    residual = ly - (slope * lx + intercept)
    total = np.sum((ly - ly.mean()) ** 2)
    r2 = 1.0 - np.sum(residual**2) / total if total > 0 else 1.0
    return PowerLawFit(exponent=float(-slope), prefactor=float(np.exp(intercept)), r2=float(r2))


def tail_sums(values: np.ndarray, total: float | None = None) -> np.ndarray:
    """``T[i - 1] = sum_{j > i} values_j`` for i = 1..m (1-based i), computed as ``total - cumsum``; shape (m,).

    ``total`` is the sum of the whole sequence when ``values`` holds only its first m entries (a top-k spectrum:
    trace(K)/n or ||y||^2/n); None means ``values`` is complete.
    """
    values = np.asarray(values, dtype=np.float64)
    return (values.sum() if total is None else total) - np.cumsum(values)


def richardson_tail(values: np.ndarray, half_values: np.ndarray, total: float | None = None,
                    half_totals=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Finite-n-corrected tails on indices 1..m.

    Args:
      values: (n,) eigenvalues of K/n (or target powers), or the first k of them with their ``total``.
      half_values: (h, m) the same on h half-samples (m = n // 2, or fewer for truncated spectra, m <= k), with
        their ``half_totals`` (h,) when truncated.
    Returns:
      ``(T_R, T_n, T_R_each)``: the corrected tail ``2 T_n - mean_h T_half`` (m,), the uncorrected tail (m,), and the
      corrected tail with each half-sample alone (h, m).
    """
    m = half_values.shape[1]
    t_full = tail_sums(values, total)[:m]
    totals = [None] * len(half_values) if half_totals is None else list(half_totals)
    t_halves = np.array([tail_sums(h, t) for h, t in zip(half_values, totals)])
    return richardson(t_full, t_halves), t_full, 2 * t_full - t_halves


def convergence_factor(manifold_dim: float | None) -> float:
    """How many drifts the interval allows beyond the top window: ``max(DRIFT_FACTOR, 1 / (4^(1/d) - 1))``.

    Weyl's law on a d-dimensional manifold: the eigenvalue counting function has relative corrections of order
    i^(-1/d), so a local exponent approaches its limit like ``e(i) = e_inf + c i^(-1/d)``. With windows of ratio 4,
    the drift shrinks by ``r = 4^(-1/d)`` per window and the top-window slope is still
    ``sum_m drift r^m = drift / (4^(1/d) - 1)`` from the limit. DRIFT_FACTOR = 2 is the case d = 2.4; on the
    sphere S^(d-1) (manifold dimension d - 1), degree-k corrections of order 1/k ~ i^(-1/(d-1)) are this case.
    Without a dimension (None) the factor is DRIFT_FACTOR.
    """
    if manifold_dim is None:
        return DRIFT_FACTOR
    if not manifold_dim > 0:
        raise ParameterError(f"manifold_dim must be > 0; got {manifold_dim}.")
    return max(DRIFT_FACTOR, 1.0 / (4.0 ** (1.0 / manifold_dim) - 1.0))


def _grid(first: int, last: int) -> np.ndarray:
    steps = max(2, int(np.ceil(np.log2(last / first) * GRID_STEPS_PER_OCTAVE)) + 1)
    return np.unique(np.round(np.geomspace(first, last, steps)).astype(int))


def _slope(tail: np.ndarray, first: int, last: int) -> tuple[float, float]:
    """Tail exponent and prefactor over [first, last] (1-based), on log-spaced points."""
    points = _grid(first, last)
    fit = fit_power_law(points.astype(float), tail[points - 1])
    return fit.exponent, fit.prefactor


def _failed(status: FitStatus, message: str, usable=None, **diagnostics) -> TailFit:
    return TailFit(exponent=None, window=None, usable=usable, status=status, message=message, **diagnostics)


def block_starts(eigenvalues: np.ndarray, *, gap: float = BLOCK_GAP) -> np.ndarray:
    """The first index of each block of nearly degenerate eigenvalues (descending) after the first: where the next
    eigenvalue is more than ``gap`` times smaller."""
    values = np.asarray(eigenvalues, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.flatnonzero(values[:-1] > gap * values[1:]) + 1


def block_averaged(powers: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Target powers (m,) averaged over each block closed on both sides (``starts`` from :func:`block_starts`);
    powers past the last start (the continuum of small eigenvalues, where no block is resolved) as they are."""
    powers = np.array(powers, dtype=np.float64)
    for start, stop in zip([0, *starts[:-1]], starts):
        powers[start:stop] = powers[start:stop].mean()
    return powers


def block_averaged_target(spec) -> tuple[np.ndarray, np.ndarray]:
    """A :class:`~kernelscale.spectrum.Spectrum`'s target powers and its halves', averaged over the sample's blocks
    of nearly degenerate eigenvalues: what the target fit and its plot use.

    Inside an eigenspace (the 4 degree-1 harmonics on S^3, say) the order of the eigenvectors, and so of the target
    powers, is arbitrary: only the block's total is determined, and a sample and its halves split it differently, so
    a tail sum inside the block measures the split, not the decay. Averaging keeps every block's total (the tail at
    its boundaries) and makes the tail inside it independent of the split. A block's size is the operator's, so the
    sample and its halves share its boundaries at the same indices; only boundaries all of them resolve are used
    (:func:`block_starts`; past them the halves' eigenvalues blur into the continuum).
    """
    starts = block_starts(spec.eigenvalues)
    for values in spec.half_eigenvalues:  # only boundaries every half resolves too
        starts = np.intersect1d(starts, block_starts(values))
    halves = np.array([block_averaged(powers, starts) for powers in spec.half_target_powers])
    return block_averaged(spec.target_powers, starts), halves.reshape(spec.half_target_powers.shape)


def usable_range(tail: np.ndarray, uncorrected: np.ndarray, *, tail_floor: float) -> int:
    """Largest i such that every index up to i has a positive, above-floor tail and a trusted correction."""
    return _usable(tail, uncorrected, tail_floor)[0]


def _usable(tail: np.ndarray, uncorrected: np.ndarray, tail_floor: float) -> tuple[int, str]:
    """:func:`usable_range`, and what ended it, in words ("" when nothing did)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        correction = np.where(tail > 0, (tail - uncorrected) / tail, np.inf)
    above = (tail > tail_floor) & (uncorrected > tail_floor)
    good = above & (np.abs(correction) <= MAX_CORRECTION)
    bad = np.flatnonzero(~good[MIN_INDEX - 1 :])
    if not len(bad):
        return len(tail), ""
    stop = int(MIN_INDEX - 1 + bad[0])  # 0-based: the first untrusted index is stop + 1
    if not above[stop]:
        return stop, (f"the tail falls to the float64 round-off floor at index {stop + 1}: the values decay faster "
                      "than the matrix resolves them, and more points do not lift the floor")
    return stop, (f"the finite-n correction of the tail at index {stop + 1} is {correction[stop]:+.2f} of it (more "
                  f"than {MAX_CORRECTION}: the sample and its halves disagree there); the correction falls about as "
                  "1/n, so increase n")


def fit_tail_exponent(values: np.ndarray, half_values: np.ndarray, *, noise_floor: float = 0.0,
                      what: str = "eigenvalues", extrapolate: bool = True, n_samples: int | None = None,
                      total: float | None = None, half_totals=None, manifold_dim: float | None = None) -> TailFit:
    """Fit ``sum_{j>i} values_j ~ C i^-exponent`` with an automatic window and an interval (see module docstring).

    Args:
      values: (n,) descending eigenvalues of K/n, or target powers in the same eigen-order.
      half_values: (h, n // 2) the same on h >= 1 half-samples.
      noise_floor: eigenvalue round-off floor (:func:`kernelscale.spectrum.noise_floor`).
      what: name used in messages.
      extrapolate: add the drift to the top-window slope (for smooth spectra). Target powers of one draw of
        labels are noisy (chi-squared per index), their drift is mostly noise: fit them with False; the drift
        then only widens the interval.
      n_samples, total, half_totals: for a truncated (top-k) spectrum: the sample size n, the sum of all n values
        and the halves' sums (see :func:`richardson_tail`); half_values then has k // 2 columns.
      manifold_dim: intrinsic dimension of the data, for the convergence bound (:func:`convergence_factor`);
        None uses DRIFT_FACTOR.
    """
    n = len(values) if n_samples is None else n_samples
    tail, each, half_tails, (i_max, stopped) = _corrected_tails(values, half_values, n, noise_floor, total, half_totals)
    if i_max < (need := int(np.ceil(MIN_INDEX * WINDOW_RATIO**2))):
        return _failed(FitStatus.TOO_FEW_EIGENVALUES,
                       f"only indices up to {i_max} of the {what} tail are reliable at n={n}: {stopped}. A fit with "
                       f"an uncertainty needs reliable indices up to at least {need}.",
                       usable=(MIN_INDEX, i_max))
    local_indices, local_exponents = _local_exponents(tail, i_max)
    slopes = np.array(local_exponents)
    if np.any(slopes <= 0.01) or slopes.max() > NOT_POWER_LAW_RATIO * slopes.min():
        return _failed(
            FitStatus.NOT_POWER_LAW,
            f"the {what} tail is not a power law over indices {MIN_INDEX}..{i_max}: its local exponent ranges from "
            f"{slopes.min():.3g} to {slopes.max():.3g} (a power law keeps it constant). No exponent is reported; "
            "see the local exponents and the spectrum plot.", usable=(MIN_INDEX, i_max),
            local_indices=local_indices, local_exponents=local_exponents)
    window = _TailWindow(max(MIN_INDEX, int(round(i_max / WINDOW_RATIO))), i_max, extrapolate)
    exponent, prefactor = _slope(tail, window.first, i_max)
    window_slopes = _window_slopes(tail, window, exponent)
    top_window_exponent, drift = window.estimate(tail)
    exponent = top_window_exponent + drift if extrapolate else top_window_exponent
    resample_spread = _resample_spread(window, exponent, each, half_tails)
    factor = convergence_factor(manifold_dim)
    slowest = top_window_exponent + factor * drift
    plausible = [*window_slopes, exponent, slowest]
    low = max(0.0, min(plausible) - resample_spread)  # a tail sum never grows: its exponent is >= 0
    high = max(plausible) + resample_spread
    clipped = exponent < 0
    exponent = max(exponent, 0.0)  # the same bound for the estimate, which the drift can push below it
    window_spread = float(max(window_slopes) - min(window_slopes))
    unresolved = (factor - 1) * abs(drift)  # what the slowest plausible convergence adds beyond one drift
    converged = unresolved <= CONVERGED_TOLERANCE and window_spread <= 2 * CONVERGED_TOLERANCE
    message = (f"{what}: tail exponent {exponent:.3f}{' (clipped at 0: a tail sum never grows)' if clipped else ''} "
               f"over indices {window.first}..{i_max} (of {n}; {top_window_exponent:.3f} on the window itself"
               f"{', extrapolated by the drift' if extrapolate else ''}); window spread {window_spread:.3f}, "
               f"resampling {resample_spread:.3f}, drift {drift:+.3f}.")
    if not converged:
        message += _not_converged(low if slowest < exponent else high, manifold_dim, factor)
    return TailFit(exponent=Estimate(exponent, (low, high)), window=(window.first, i_max), usable=(MIN_INDEX, i_max),
                   status=FitStatus.OK if converged else FitStatus.NOT_CONVERGED, message=message,
                   local_indices=local_indices, local_exponents=local_exponents, prefactor=float(prefactor),
                   drift=float(drift), window_spread=window_spread, resample_spread=resample_spread)


def _corrected_tails(values, half_values, n: int, noise_floor: float, total, half_totals):
    """The Richardson-corrected tail (m,), the same with each half-sample alone (h, m), the half-samples' own tails
    (h, m), and the end of the usable range i_max with what ended it (:func:`usable_range`)."""
    values = np.asarray(values, dtype=np.float64)
    half_values = np.atleast_2d(np.asarray(half_values, dtype=np.float64))
    expected = n // 2 if total is None else len(values) // 2
    if half_values.shape[0] < 1 or half_values.shape[1] != expected:
        raise DataError(f"half_values must have shape (h >= 1, {expected}); got {half_values.shape}.")
    tail, uncorrected, each = richardson_tail(values, half_values, total, half_totals)
    totals = [None] * len(half_values) if half_totals is None else list(half_totals)
    half_tails = [tail_sums(h, t) for h, t in zip(half_values, totals)]
    return tail, each, half_tails, _usable(tail, uncorrected, FLOOR_FACTOR * n * noise_floor)


def _local_exponents(tail: np.ndarray, i_max: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Local exponents over consecutive windows of ratio WINDOW_RATIO (the "does it settle?" diagnostic): their
    geometric centres and slopes."""
    edges = _grid(MIN_INDEX, i_max)
    step = int(np.log2(WINDOW_RATIO) * GRID_STEPS_PER_OCTAVE)
    local = [(np.sqrt(edges[k] * edges[k + step]), _slope(tail, edges[k], edges[k + step])[0])
             for k in range(0, len(edges) - step, max(1, step // 2))]
    return tuple(float(c) for c, _ in local), tuple(float(e) for _, e in local)


@dataclasses.dataclass(frozen=True)
class _TailWindow:
    """The fit window [first, last] and the one before it, [first / WINDOW_RATIO, first]."""

    first: int
    last: int
    extrapolate: bool

    @property
    def previous_first(self) -> int:
        return int(round(self.first / WINDOW_RATIO))

    def estimate(self, tail: np.ndarray) -> tuple[float, float]:
        """(top-window slope, drift) of one tail; the estimator is slope + drift (or the slope alone)."""
        top = _slope(tail, self.first, self.last)[0]
        previous = self.previous_first
        return top, (top - _slope(tail, previous, self.first)[0] if previous >= MIN_INDEX else 0.0)

    def estimator(self, tail: np.ndarray) -> float:
        top, drift = self.estimate(tail)
        return top + drift if self.extrapolate else top

    def usable(self, tail: np.ndarray) -> bool:
        start = self.previous_first if self.previous_first >= MIN_INDEX else self.first
        return bool(np.all(tail[start - 1 : self.last] > 0))


def _window_slopes(tail: np.ndarray, window: _TailWindow, exponent: float) -> list[float]:
    """Window sensitivity: the slopes of windows of ratio 4..16 whose upper end lies in the top octave."""
    slopes = [exponent]
    for last in _grid(max(window.first, window.last // 2), window.last):
        for ratio in (WINDOW_RATIO, 2 * WINDOW_RATIO, 4 * WINDOW_RATIO):
            lo = int(round(last / ratio))
            if lo >= MIN_INDEX:
                slopes.append(_slope(tail, lo, last)[0])
    return slopes


def _resample_spread(window: _TailWindow, exponent: float, corrected_each, half_tails) -> float:
    """The larger of: the spread of the whole estimate (its drift too, which is noisy) over each half-sample's
    corrected tail, and the standard deviation of the half-samples' own estimates (independent draws)."""
    resampled = [window.estimator(t) for t in corrected_each if window.usable(t)]
    spread = float(np.max(np.abs(np.array(resampled) - exponent))) if resampled else 0.0
    if len(half_tails) >= 2:
        own = [window.estimator(t) for t in half_tails if window.usable(t)]
        if len(own) >= 2:
            spread = max(spread, float(np.std(own, ddof=1)))
    return spread


def _not_converged(end: float, manifold_dim: float | None, factor: float) -> str:
    message = (" The local exponent is still moving at the largest reliable index: the asymptote is not reached at "
               f"this n, and the interval is widened in the direction of the drift, to {end:.3f}")
    if manifold_dim is not None and factor > DRIFT_FACTOR:
        message += (f" (on data of intrinsic dimension {manifold_dim:.1f} local exponents converge like "
                    f"i^(-1/{manifold_dim:.1f}), so the drift may persist)")
    return message + ". Increase n."


# --- Measured curves -----------------------------------------------------------------------------------------------

BOOTSTRAP_SAMPLES = 2000
CURVE_CI_LEVEL = 0.95
BEND_MIN = 0.1
OUTLIER_RATIO = 10.0


@dataclasses.dataclass(frozen=True)
class CurveFit:
    """Exponent of a measured curve ``loss ~ x^-exponent`` (or ``loss - limit ~ x^-exponent``).

    Attributes:
      exponent: least-squares ``-slope`` of ``log s(loss - limit)`` on ``log x``, ``s`` the ``statistic`` over the
        repeats at each x, with its 95% percentile-bootstrap interval over the repeats (each resample redraws whole
        repeats; no interval from one repeat); None when it could not be fitted (JSON: ``exponent`` and ``ci``).
      x_range: (smallest x, largest x) fitted.
      repeats: independent repeats per x.
      status, message: a :class:`~kernelscale.estimates.CurveStatus`: ``"ok"``; ``"not_positive"`` when the mean
        (gap) is not positive at some x; ``"flattens"``
        when the local exponent of the upper half of the x range is below half that of the lower half (by more than
        BEND_MIN, and beyond the bootstrap's 95% interval of the difference): the loss approaches a floor set by
        something else (a width curve where data becomes the limit, a noise floor), so the curve is not one power law
        over the range and the exponent averages over the bend; ``"outlier"`` when at some x one repeat's (gap) is
        more than OUTLIER_RATIO times the median of the repeats there: the mean, and so the exponent, is one draw's
        (least squares on a nearly singular design has a heavy tail at small D / P). With the median as the
        statistic such a draw cannot move the exponent: the message still names it, and the status stays ``"ok"``.
      statistic: ``"mean"`` (the expected loss: resolution-limited curves) or ``"median"`` (the variance-limited
        regimes, whose gap ``~ c / x`` holds for the median as for the mean, and whose least-squares draws have a
        heavy tail).
    """

    exponent: Estimate | None = dataclasses.field(metadata={"ci_key": "ci"})
    x_range: tuple[float, float]
    repeats: int
    status: CurveStatus = CurveStatus.OK
    message: str = ""
    statistic: str = "mean"

    @property
    def ok(self) -> bool:
        return self.status == CurveStatus.OK


def _log_slope(log_x: np.ndarray, values: np.ndarray) -> float:
    return float(-np.polyfit(log_x, np.log(values), 1)[0])


def _statistic(statistic: str):
    if statistic not in ("mean", "median"):
        raise ParameterError(f"statistic must be 'mean' or 'median'; got {statistic!r}.")
    return np.mean if statistic == "mean" else np.median


def center_over_repeats(gaps: np.ndarray, statistic: str = "mean") -> np.ndarray:
    """(m, repeats) -> (m,): the mean or the median over repeats, the value :func:`fit_curve` fits."""
    return _statistic(statistic)(gaps, axis=1)


def fit_curve(x, losses, limits=None, *, seed: int = 0, statistic: str = "mean") -> CurveFit:
    """Fit ``s_r(losses[:, r] - limits[r]) ~ x^-exponent``, ``s`` the mean or the median over the repeats; the
    interval bootstraps the repeats (the ``"curve_bootstrap"`` stream of ``seed``).

    Args:
      x: (m,) sizes or widths, positive.
      losses: (m, repeats) measured losses.
      limits: (repeats,) the loss at infinite x per repeat (variance-limited regimes), or None.
      statistic: ``"mean"`` or ``"median"`` (see :class:`CurveFit`).
    """
    center = _statistic(statistic)
    x = np.asarray(x, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim != 2 or losses.shape[0] != len(x) or len(x) < 2:
        raise DataError(f"losses must have shape (len(x) >= 2, repeats); got {losses.shape} for {len(x)} x values.")
    gaps = losses - (0.0 if limits is None else np.asarray(limits, dtype=np.float64)[None, :])
    repeats = gaps.shape[1]
    x_range = (float(x.min()), float(x.max()))
    mean = center(gaps, axis=1)
    if np.any(mean <= 0):
        return CurveFit(None, x_range, repeats, CurveStatus.NOT_POSITIVE,
                        f"the {statistic} loss gap is not positive at every x: the curve is dominated by noise there; "
                        "use more repeats or a range where the gap is larger.", statistic)
    log_x = np.log(x)
    exponent = _log_slope(log_x, mean)
    if repeats < 2:
        return CurveFit(Estimate(exponent), x_range, repeats, CurveStatus.OK, "one repeat: no interval.", statistic)
    draws, bends = _bootstrap(log_x, gaps, center, seed)
    tail = (1 - CURVE_CI_LEVEL) / 2
    if len(draws) < 0.9 * BOOTSTRAP_SAMPLES:
        message = (f"in {BOOTSTRAP_SAMPLES - len(draws)} of {BOOTSTRAP_SAMPLES} bootstrap resamples the gap was not "
                   "positive: the interval is unreliable; use more repeats.")
        interval = (float(min(draws, default=-np.inf)), float(max(draws, default=np.inf)))
        return CurveFit(Estimate(exponent, interval), x_range, repeats, CurveStatus.NOT_POSITIVE, message, statistic)
    low, high = np.quantile(draws, [tail, 1 - tail])
    estimate = Estimate(exponent, (float(min(low, exponent)), float(max(high, exponent))))
    outlier = _outlier(x, gaps, exponent, statistic)
    if outlier and statistic == "mean":
        return CurveFit(estimate, x_range, repeats, CurveStatus.OUTLIER, outlier, statistic)
    bend = _flattening(x, log_x, mean, bends, tail, exponent)
    if bend:
        return CurveFit(estimate, x_range, repeats, CurveStatus.FLATTENS, " ".join(filter(None, (bend, outlier))),
                        statistic)
    return CurveFit(estimate, x_range, repeats, CurveStatus.OK, outlier, statistic)


def _bootstrap(log_x: np.ndarray, gaps: np.ndarray, center, seed: int) -> tuple[list[float], list[float]]:
    """Slopes and bends of BOOTSTRAP_SAMPLES resamples of whole repeats (those whose gap stays positive)."""
    rng = generator(seed, "curve_bootstrap")
    repeats = gaps.shape[1]
    draws, bends = [], []
    for _ in range(BOOTSTRAP_SAMPLES):
        resampled = center(gaps[:, rng.integers(0, repeats, repeats)], axis=1)
        if np.all(resampled > 0):
            draws.append(_log_slope(log_x, resampled))
            bends.append(_bend(log_x, resampled))
    return draws, bends


def _outlier(x: np.ndarray, gaps: np.ndarray, exponent: float, statistic: str) -> str:
    """A message when one repeat's gap at some x is more than OUTLIER_RATIO times the median there, else ""."""
    repeats = gaps.shape[1]
    if repeats < 3:
        return ""
    median = np.median(gaps, axis=1)
    ratio = np.where(median > 0, gaps.max(axis=1) / np.where(median > 0, median, 1.0), 0.0)
    worst = int(np.argmax(ratio))
    if ratio[worst] <= OUTLIER_RATIO:
        return ""
    if statistic == "mean":
        return (f"one repeat dominates the mean at x = {x[worst]:g}: its value is {ratio[worst]:.3g} times the "
                f"median of the {repeats} repeats, so the exponent {exponent:.3g} follows that one draw. Use more "
                "repeats, or start the range higher (for least squares, at more points per feature).")
    return (f"one repeat at x = {x[worst]:g} is {ratio[worst]:.3g} times the median of the {repeats} repeats there (a "
            "nearly singular draw); the fit uses the median over repeats, which that draw does not move.")


def _flattening(x, log_x, mean, bends, tail: float, exponent: float) -> str:
    """A message when the upper half's local exponent is below half the lower half's, beyond the bootstrap, else ""."""
    if len(x) < 4:
        return ""
    half = len(x) // 2
    lower, upper = _log_slope(log_x[:half + 1], mean[:half + 1]), _log_slope(log_x[half:], mean[half:])
    if not (upper < 0.5 * lower and lower - upper > BEND_MIN and np.quantile(bends, tail) > 0):
        return ""
    return (f"the curve flattens: local exponent {lower:.3g} over x = {x[0]:g}..{x[half]:g} against {upper:.3g} over "
            f"{x[half]:g}..{x[-1]:g}. Something else (data, width, a noise floor) limits the loss at the upper end, so "
            f"{exponent:.3g} averages over a bend; fit the lower range.")


def _bend(log_x: np.ndarray, values: np.ndarray) -> float:
    """Local exponent of the lower half minus that of the upper half (the middle point in both); 0 below 4 x."""
    if len(log_x) < 4:
        return 0.0
    half = len(log_x) // 2
    return _log_slope(log_x[:half + 1], values[:half + 1]) - _log_slope(log_x[half:], values[half:])
