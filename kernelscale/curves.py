"""Predicted curves for the sizes a user asks about, past the sample (docs/theory.md, "Past the sample"): the test
loss L(D) of kernel regression against the training-set size, and L(P) of P random features at infinite data, each with a band and
a local exponent at every size.

The method, chosen by ``benchmarks/extrapolate.py`` (docs/benchmarks.md, which also reports the methods that lost):

* Up to ``D_r = n/4``, the reliable range: the learning-curve theory on the sample's spectrum with the held-out
  pool correction, extrapolated to an infinite pool with the half-samples in log E,
  ``log E_inf = 2 log E_n - mean_j log E_{n/2, j}`` (:func:`kernelscale.theory.richardson`, per size, with the
  interval of :func:`kernelscale.theory.extrapolate_to_infinite_pool`). This is ``compare``'s recommended method,
  within 0.03 in exponent of held-out kernel regression on every digits, mnist5k and ReLU sphere row of
  ``benchmarks/compare.py`` (docs/benchmarks.md; smooth activations on the sphere run up to 21% high).
* Past ``D_r``: the local exponent moves from the theory's top-octave exponent ``s_r`` (over ``[D_r/2, D_r]``,
  extrapolated to an infinite pool the same way) toward the task-aware asymptote ``min(a - 1, 2b)`` the table lists
  as ``(D / D_r)^-r``, with ``r = 1/d``
  on data of intrinsic dimension d (:class:`ContinuationLaw`). The band adds the shifts from the intervals of
  ``s_r``, the asymptote and ``r`` (``r`` within a factor 2) and L(D_r)'s band in quadrature. On the ReLU NTK's
  exact operator spectrum of the sphere this law reproduces the full spectrum's curve at 2 n to 10 n within 5%
  where the constant power law with ``s_r`` falls 18 to 20% low (tests/test_curves.py); on samples the two tie up
  to 8 n and this one does a little better at 10 n and 20 n (benchmarks/extrapolate.py). When the target's decay
  was not fitted, the constant continuation: the duality's alpha_K assumes a = b, which a failed target fit does
  not support (:func:`kernelscale.predict.predicted_curves`).

Continuing the sample's eigenvalues and target powers with their fitted power laws (the straight continuation)
lost: 0.18 to 0.69 of the measured loss at D = 2n to 8n on every data set. So did correcting the pool theory up to
0.9 n by a finite-pool bias linear in D/n (off by more than 10% in 15 of 18 cases). L(P) is built the same way from
the width theory ``E_W(P)`` (:func:`kernelscale.theory.width_curve`) on the width kernel's spectrum (the NNGP by
default), which has no held-out correction (random features at infinite data), with the reliable range ending at
P_r = n/8 and the asymptote ``min(a - 1, b)``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from .errors import DataError, ParameterError
from .estimates import Estimate
from .spectrum import Spectrum
from .theory import extrapolate_to_infinite_pool, learning_curve, local_exponent, richardson, width_curve

# the reliable range, as a fraction of n: D_r = n/4, where the data theory has been checked in the sample; for the
# width theory P_r = n/8: E_W on an N-point pool falls to 0 as P -> N (P features span the pool), so the half-samples'
# E_W at P = n/4 (half their size) is biased far beyond the 1/N term the extrapolation removes
RELIABLE_FRACTION = {"D": 0.25, "P": 0.125}
POINTS_PER_OCTAVE = 4  # the internal grid of the in-sample theory


@dataclasses.dataclass(frozen=True)
class PredictedCurve:
    """A predicted loss curve with its band and local exponents.

    Attributes:
      x_name: ``"D"`` (training-set size, kernel regression) or ``"P"`` (features, random features at infinite
        data).
      sizes: (m,) the sizes asked for, increasing.
      loss: (m,) predicted test MSE (summed over output columns, against the clean target) with 95% bands (JSON:
        ``loss`` and ``loss_ci``).
      local_exponent: (m,) ``-d log L / d log x`` at each size (over one octave around it in the reliable range;
        the continuation's exponent past it), with intervals (JSON: ``local_exponent`` and ``local_exponent_ci``).
      reliable_up_to: x_r (n/4 for D, n/8 for P): up to it the curve is the sample's theory, past it the
        continuation (the one reliable range: the tables mark sizes past it, and every exponent past it is the
        continuation's).
      continuation_exponent: s_r and its interval, the local exponent over the window ``continuation_window``.
      n: the sample size; ridge, noise: as in :func:`kernelscale.theory.learning_curve` (noise summed over columns).
      assumptions: what the curve assumed, in words.
      continuation_law: how the curve continues past ``reliable_up_to`` (:class:`ContinuationLaw`): ``"constant"``
        (a power law with s_r) or ``"toward-asymptote"`` (the local exponent moves from s_r toward ``asymptote`` as
        ``(x / x_r)^-rate``).
      asymptote, convergence_rate: s_inf and the rate with their intervals (None for the constant law).
    """

    x_name: str
    sizes: tuple[int, ...]
    loss: tuple[Estimate, ...]
    local_exponent: tuple[Estimate, ...]
    reliable_up_to: int
    continuation_exponent: Estimate
    continuation_window: tuple[int, int]
    n: int
    ridge: float
    noise: float
    assumptions: str
    continuation_law: str = "constant"
    asymptote: Estimate | None = None
    convergence_rate: Estimate | None = None

    def exponent_at(self, size: int) -> Estimate:
        """The local exponent and its interval at ``size`` (one of :attr:`sizes`)."""
        if size not in self.sizes:
            raise ParameterError(f"{size} is not one of the curve's sizes {list(self.sizes)}.")
        return self.local_exponent[self.sizes.index(size)]


@dataclasses.dataclass(frozen=True)
class ContinuationLaw:
    """The curve past x_r (u = log(x / x_r)): its local exponent ``s(u) = s_inf + (s_r - s_inf) exp(-rate u)``
    moves from the top-octave exponent s_r toward the asymptote s_inf, so
    ``log L(x) = log L(x_r) - s_inf u - (s_r - s_inf) (1 - exp(-rate u)) / rate``. Without an asymptote, s stays s_r
    (the constant continuation). Every argument is an Estimate. ``band``: how their intervals combine,
    ``"quadrature"`` (each one's shift with the others at their values, added in quadrature on each side: independent
    errors) or ``"corners"`` (the extremes over the 8 corners: the worst case)."""

    start: Estimate
    asymptote: Estimate | None = None
    rate: Estimate | None = None
    band: str = "quadrature"

    def __post_init__(self):
        if self.band not in ("quadrature", "corners"):
            raise ParameterError(f"band must be 'quadrature' or 'corners'; got {self.band!r}.")

    @property
    def name(self) -> str:
        return "constant" if self.asymptote is None else "toward-asymptote"

    @staticmethod
    def _drop(u: float, start: float, asymptote: float, rate: float) -> float:
        return asymptote * u + (start - asymptote) * -math.expm1(-rate * u) / rate

    @staticmethod
    def _local(u: float, start: float, asymptote: float, rate: float) -> float:
        return asymptote + (start - asymptote) * math.exp(-rate * u)

    def _estimates(self) -> tuple[Estimate, ...]:
        return (self.start,) if self.asymptote is None else (self.start, self.asymptote, self.rate)

    def _arguments(self, values) -> tuple[float, float, float]:
        """(start, asymptote, rate) from the parameters' values (the constant law: the start twice)."""
        return (values[0], values[0], 1.0) if self.asymptote is None else tuple(values)

    def _estimate(self, function, u: float) -> Estimate:
        point = [e.value for e in self._estimates()]
        value = function(u, *self._arguments(point))
        if self.band == "corners":
            corners = [function(u, *self._arguments(list(c))) for c in itertools.product(
                *(_bounds(e) for e in self._estimates()))]
            return Estimate(value, (min(corners), max(corners)))
        shifts = []  # per parameter: the shifts of the function at its interval's two ends
        for k, estimate in enumerate(self._estimates()):
            shifts.append([function(u, *self._arguments(point[:k] + [end] + point[k + 1:])) - value
                           for end in _bounds(estimate)])
        below = math.sqrt(sum(min(0.0, *pair) ** 2 for pair in shifts))
        above = math.sqrt(sum(max(0.0, *pair) ** 2 for pair in shifts))
        return Estimate(value, (value - below, value + above))

    def log_drop(self, u: float) -> Estimate:
        """log L(x_r) - log L(x) with its interval."""
        return self._estimate(self._drop, u)

    def local_exponent(self, u: float) -> Estimate:
        return self._estimate(self._local, u)

    def combined_with(self, value: float, band: tuple[float, float], u: float) -> tuple[float, tuple[float, float]]:
        """log L(x) and its band from log L(x_r) = ``value`` with ``band``: the drop's interval and L(x_r)'s band
        added as ``band`` says (in quadrature, or end to end for the corners)."""
        drop = self.log_drop(u)
        low, high = drop.ci
        if self.band == "corners":
            return value - drop.value, (band[0] - high, band[1] - low)
        center = value - drop.value
        return center, (center - math.hypot(value - band[0], high - drop.value),
                        center + math.hypot(band[1] - value, drop.value - low))


def _bounds(estimate: Estimate) -> tuple[float, float]:
    """An estimate's interval; the value twice when it has none."""
    return estimate.ci if estimate.ci is not None else (estimate.value, estimate.value)


def default_convergence_rate(manifold_dim: float | None) -> Estimate:
    """The rate of ``s - s_inf ~ (x / x_r)^-rate``: 1/d on data of intrinsic dimension d, the law by which the tail
    fits' local exponents converge (:func:`kernelscale.fit.convergence_factor`; a resolved mode index grows like D),
    within a factor 2 either way; without d, the fit's default d = log 4 / log 1.5 = 3.42 (a drift that shrinks by
    a third every two octaves)."""
    d = manifold_dim if manifold_dim else math.log(4.0) / math.log(1.5)
    return Estimate(1.0 / d, (0.5 / d, 2.0 / d))


def check_curve_sizes(sizes, what: str) -> tuple[int, ...]:
    """Sizes of a predicted curve: at least 2, positive, strictly increasing integers (any may exceed n), or a
    ParameterError that says which rule failed."""
    try:
        values = [int(s) for s in sizes]
    except (TypeError, ValueError):
        raise ParameterError(f"{what} must be integers; got {sizes!r}.") from None
    if any(v != s for v, s in zip(values, sizes)):
        raise ParameterError(f"{what} must be integers; got {list(sizes)}.")
    if len(values) < 2:
        raise ParameterError(f"{what}: need at least 2 sizes for local exponents; got {values}.")
    if min(values) <= 0:
        raise ParameterError(f"{what} must be > 0; got {values}.")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ParameterError(f"{what} must be strictly increasing with no duplicates; got {values}.")
    return tuple(values)


def default_curve_sizes(n: int) -> tuple[int, ...]:
    """The default grid of predicted sizes: 16 log-spaced from n/64 to 10 n (at least 2)."""
    return tuple(sorted({max(2, int(round(s))) for s in np.geomspace(n / 64, 10 * n, 16)}))


@dataclasses.dataclass(frozen=True)
class CurveGrids:
    """What predict evaluates: the sizes D of L(D), the feature counts P of L(P), and where the recommended
    exponents are read: alpha_D at ``at`` (one of ``sizes``), alpha_W at ``at_features`` (one of ``features``)."""

    sizes: tuple[int, ...]
    features: tuple[int, ...]
    at: int
    at_features: int


def _read_at(grid: tuple[int, ...], at: int | None, n: int, what: str, option: str) -> tuple[tuple[int, ...], int]:
    """The grid with ``at`` added, and ``at``: by default the largest size of the grid at most 10 n (the smallest
    when all are larger)."""
    if at is None:
        at = max((size for size in grid if size <= 10 * n), default=grid[0])
    if not grid[0] <= at <= grid[-1]:
        raise ParameterError(f"{option}={at!r} must be an integer within {what} {grid[0]}..{grid[-1]}; choose one "
                             "there or widen them.")
    return tuple(sorted({*grid, int(at)})), int(at)


def curve_grids(n: int, sizes=None, features=None, at: int | None = None,
                at_features: int | None = None) -> CurveGrids:
    """Defaults: sizes 16 log-spaced from n/64 to 10 n; features as the sizes; ``at`` (``at_features``) the largest
    size (feature count) asked for that is at most 10 n (the smallest when all are larger; a given one is added to
    its grid when missing, and must lie within it)."""
    sizes = check_curve_sizes(sizes if sizes is not None else default_curve_sizes(n), "sizes")
    features = check_curve_sizes(features if features is not None else sizes, "features")
    sizes, at = _read_at(sizes, at, n, "the learning curve's sizes", "at")
    features, at_features = _read_at(features, at_features, n, "the width curve's feature counts",
                                         "at_features")
    return CurveGrids(sizes, features, at, at_features)


def _check_spectrum(spec: Spectrum) -> None:
    if spec.target_powers is None:
        raise DataError("a predicted loss curve needs a target (labels, or target=gp for synthetic data).")
    if spec.half_target_powers is None or len(spec.half_eigenvalues) == 0:
        raise DataError("a predicted loss curve needs half-sample spectra (n_halves >= 1).")
    if spec.solver != "full":
        raise DataError("a predicted loss curve needs the full spectrum; the top-k spectrum lacks the tail that the "
                        "theory sums over (use eigensolver='full' or a smaller n).")


@dataclasses.dataclass(frozen=True)
class _LogTheory:
    """log E at ``points`` on the sample's spectrum (``full``, (m,)) and on each half-sample's (``halves``, (h, m)):
    the learning-curve theory with the held-out pool correction (``kind="D"``) or the width theory (``"P"``)."""

    points: np.ndarray
    full: np.ndarray
    halves: np.ndarray

    @classmethod
    def on(cls, spec: Spectrum, points, kind: str, ridge: float = 0.0, noise: float = 0.0) -> _LogTheory:
        def errors(values, powers, pool):
            if kind == "D":
                return learning_curve(values, powers, points, ridge=ridge, noise=noise, pool_size=pool).errors
            return width_curve(values, powers, points).errors

        half_n = spec.half_eigenvalues.shape[1]
        return cls(np.asarray(points), np.log(errors(spec.eigenvalues, spec.target_powers, spec.n)),
                   np.log([errors(values, powers, half_n)
                           for values, powers in zip(spec.half_eigenvalues, spec.half_target_powers)]))

    def population(self) -> np.ndarray:
        """log E extrapolated to an infinite pool at every point."""
        return richardson(self.full, self.halves)

    def band(self, j: int) -> tuple[float, float]:
        """The interval of log E at point j, extrapolated to an infinite pool."""
        return extrapolate_to_infinite_pool(self.full[j], self.halves[:, j]).estimate.ci

    def slope(self, chosen) -> Estimate:
        """The local exponent over the chosen points, extrapolated to an infinite pool."""
        sizes = self.points[chosen]
        return extrapolate_to_infinite_pool(_slope(sizes, self.full[chosen]),
                                            [_slope(sizes, h[chosen]) for h in self.halves]).estimate


def _slope(sizes, log_errors) -> float:
    return local_exponent(sizes, np.exp(log_errors))


def data_theory_exponent(spec: Spectrum, sizes, *, ridge: float = 0.0, noise: float = 0.0
                         ) -> tuple[Estimate, tuple[float, ...]]:
    """The theory's local exponent of E_g(D) over ``sizes`` for the population, with its interval, and the curve:
    E_g on the sample and on each half-sample (held-out correction), extrapolated to an infinite pool; the curve
    the same way in log E. Without usable halves (sizes reach the half pool) the sample's own curve and no
    interval. This is ``compare``'s recommended alpha_D and the reliable part of :func:`predict_curve`."""
    if max(sizes) >= spec.half_eigenvalues.shape[1]:
        full = learning_curve(spec.eigenvalues, spec.target_powers, sizes, ridge=ridge, noise=noise,
                              pool_size=spec.n)
        return Estimate(full.local_exponent()), full.errors
    theory = _LogTheory.on(spec, sizes, "D", ridge, noise)
    every = np.ones(len(theory.points), dtype=bool)
    return theory.slope(every), tuple(float(e) for e in np.exp(theory.population()))


def width_theory_exponent(spec: Spectrum, features, x=None) -> tuple[Estimate, tuple[float, ...]]:
    """Local exponent of the width theory ``E_W(P)`` (:func:`kernelscale.theory.width_curve`) on a spectrum at the
    feature counts ``features``, against ``x`` (default: the feature counts; the widths when the measured curve is
    fitted against width), with an interval of +- the largest difference from the same exponent on a half-sample's
    spectrum; and the curve E_W(P) on the sample."""
    x = features if x is None else x
    full = width_curve(spec.eigenvalues, spec.target_powers, features).errors
    estimate = local_exponent(x, full)
    spread = 0.0
    for values, powers in zip(spec.half_eigenvalues, spec.half_target_powers):
        if max(features) < np.count_nonzero(values > spec.noise_floor):
            spread = max(spread, abs(local_exponent(x, width_curve(values, powers, features).errors) - estimate))
    return Estimate(estimate, (estimate - spread, estimate + spread)), tuple(full)


def _lattice(reliable: int, smallest: float) -> np.ndarray:
    """Sizes ``reliable * 2^(-j/4)``, j = 0, 1, ..., down to below ``smallest / sqrt 2`` (at least one octave),
    rounded: the same points whatever sizes a user asks for, so a size's value never depends on the others."""
    steps = max(POINTS_PER_OCTAVE, math.ceil(POINTS_PER_OCTAVE * math.log2(reliable * math.sqrt(2) / smallest)))
    points = np.round(reliable * 2.0 ** (-np.arange(steps + 1) / POINTS_PER_OCTAVE))
    return np.unique(points[points >= 1]).astype(int)


def predict_curve(spec: Spectrum, sizes, *, kind: str = "D", ridge: float = 0.0, noise: float = 0.0,
                  asymptote: Estimate | None = None, rate: Estimate | None = None,
                  band: str = "quadrature") -> PredictedCurve:
    """L(D) (``kind="D"``, kernel regression with ``ridge`` and label ``noise``) or L(P) (``kind="P"``, random
    features at infinite data) at ``sizes`` for the population, from the sample's :class:`~kernelscale.Spectrum`
    (with half-samples); see the module docstring.

    Args:
      spec: the sample's spectrum with target powers and half-sample spectra (a full eigendecomposition).
      sizes: training-set sizes D or feature counts P, positive and strictly increasing; any may exceed n.
      asymptote, rate: the exponent the curve tends to and the rate of :class:`ContinuationLaw` (rate default
        :func:`default_convergence_rate`); without an asymptote the curve continues with its top-octave exponent.
      band: how the continuation's intervals combine (:class:`ContinuationLaw`).
    """
    _check_spectrum(spec)
    sizes = check_curve_sizes(sizes, "sizes" if kind == "D" else "features")
    reliable = int(RELIABLE_FRACTION[kind] * spec.n)
    inside_sizes = [d for d in sizes if d <= reliable]
    lattice = _lattice(reliable, min([reliable / 2, *inside_sizes]))
    if kind == "P" and reliable >= min(np.count_nonzero(v > spec.noise_floor) for v in spec.half_eigenvalues):
        raise DataError("too few eigenvalues above the noise floor on the half-samples for the width curve at "
                        f"P = n/8 = {reliable}; use a larger n.")
    points = np.unique(np.r_[lattice, inside_sizes]).astype(int)  # each point's value is computed on its own
    theory = _LogTheory.on(spec, points, kind, ridge, noise)
    on_lattice = np.isin(points, lattice)
    window = on_lattice & (points >= reliable / 2)
    continuation = theory.slope(window)
    law = ContinuationLaw(continuation, asymptote, (rate or default_convergence_rate(None)) if asymptote else None,
                          band)
    population, top = theory.population(), int(np.searchsorted(points, reliable))
    band_r = theory.band(top)
    loss, exponents = [], []
    for size in sizes:
        if size <= reliable:
            j = int(np.searchsorted(points, size))
            value, interval = population[j], theory.band(j)
            exponents.append(theory.slope(_octave(points, on_lattice, size, j, reliable)))
        else:
            value, interval = law.combined_with(population[top], band_r, math.log(size / reliable))
            exponents.append(law.local_exponent(math.log(size / reliable)))
        loss.append(Estimate(math.exp(value), (math.exp(interval[0]), math.exp(interval[1]))))
    first = int(points[window][0])
    return PredictedCurve(kind, sizes, tuple(loss), tuple(exponents), reliable, continuation, (first, reliable), spec.n,
                          float(ridge), float(noise), _assumptions(kind, reliable, law, first), law.name,
                          law.asymptote, law.rate)


def _octave(points: np.ndarray, on_lattice: np.ndarray, size: int, j: int, reliable: int) -> np.ndarray:
    """The lattice points within one octave around ``size`` (and the size itself); at the top of the range, the
    last octave of the lattice."""
    octave = on_lattice & (points >= size / math.sqrt(2)) & (points <= size * math.sqrt(2))
    octave[j] = True
    if octave.sum() < 3:
        octave = (on_lattice & (points >= reliable / 2)) | (points == size)
    return octave


def _assumptions(kind: str, reliable: int, law: ContinuationLaw, first: int) -> str:
    what = "the learning-curve theory (held-out pool correction)" if kind == "D" else "the width theory E_W(P)"
    low, high = law.start.ci
    start = f"{law.start.value:.3f} [{low:.3f}, {high:.3f}] over {kind} = {first}..{reliable}"
    past = (f"a power law with the local exponent {start}" if law.asymptote is None else
            f"a local exponent that moves from {start} toward the asymptote {law.asymptote.value:.3f} "
            f"[{law.asymptote.ci[0]:.3f}, {law.asymptote.ci[1]:.3f}] as ({kind}/{reliable})^-r, r = "
            f"{law.rate.value:.3f} [{law.rate.ci[0]:.3f}, {law.rate.ci[1]:.3f}]")
    return (f"up to {kind} = {reliable} (n/{round(1 / RELIABLE_FRACTION[kind])}): "
            f"{what} on the sample's spectrum, extrapolated to an infinite pool with the half-samples; past it "
            + past)
