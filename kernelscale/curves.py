"""Predicted curves for the sizes a user asks about, past the sample (THEORY.md 1c): the test loss L(D) of kernel
regression against the training-set size, and L(P) of P random features at infinite data, each with a band and
a local exponent at every size.

The method, chosen by ``benchmarks/extrapolate.py`` (docs/benchmarks.md, which also reports the methods that lost):

* Up to ``D_r = n/4``, the reliable range: the learning-curve theory on the sample's spectrum with the held-out
  pool correction, extrapolated to an infinite pool with the half-samples in log E,
  ``log E_inf = 2 log E_n - mean_j log E_{n/2, j}`` (:func:`kernelscale.theory.extrapolate_to_infinite_pool`,
  per size). This is ``compare``'s recommended method, checked against held-out kernel regression within 0.03 in
  exponent on every sphere, digits and mnist5k benchmark row.
* Past ``D_r``: a power law from ``D_r``, ``L(D) = L(D_r) (D / D_r)^-s``, with ``s`` the theory's local exponent
  over ``[D_r/2, D_r]``, extrapolated to an infinite pool the same way. The band combines L(D_r)'s band with s's
  interval, so it widens like ``log(D / D_r)``.

Continuing the sample's eigenvalues and target powers with their fitted power laws (the straight continuation)
lost: 0.18 to 0.69 of the measured loss at D = 2n to 8n on every data set. So did correcting the pool theory up to
0.9 n by a finite-pool bias linear in D/n (off by more than 10% in 15 of 18 cases). L(P) is built the same way from the width theory ``E_W(P)``
(:func:`kernelscale.theory.width_curve`), which has no held-out correction (random features at infinite data), with
the reliable range ending at P_r = n/8.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .errors import DataError
from .theory import extrapolate_to_infinite_pool, learning_curve, local_exponent, width_curve

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
      loss: (m,) predicted test MSE (summed over output columns, against the clean target).
      loss_ci: (m,) ``(low, high)`` bands.
      local_exponent: (m,) ``-d log L / d log x`` at each size (over one octave around it in the reliable range;
        the continuation's exponent past it).
      local_exponent_ci: (m,) ``(low, high)``.
      reliable_up_to: x_r (n/4 for D, n/8 for P): up to it the curve is the sample's theory, past it the
        continuation.
      continuation_exponent, continuation_exponent_ci: s and its interval, from the window ``continuation_window``.
      n: the sample size; ridge, noise: as in :func:`kernelscale.theory.learning_curve` (noise summed over columns).
      assumptions: what the curve assumed, in words.
    """

    x_name: str
    sizes: tuple[int, ...]
    loss: tuple[float, ...]
    loss_ci: tuple[tuple[float, float], ...]
    local_exponent: tuple[float, ...]
    local_exponent_ci: tuple[tuple[float, float], ...]
    reliable_up_to: int
    continuation_exponent: float
    continuation_exponent_ci: tuple[float, float]
    continuation_window: tuple[int, int]
    n: int
    ridge: float
    noise: float
    assumptions: str

    def exponent_at(self, size: int) -> tuple[float, tuple[float, float]]:
        """The local exponent and its interval at ``size`` (one of :attr:`sizes`)."""
        if size not in self.sizes:
            raise DataError(f"{size} is not one of the curve's sizes {list(self.sizes)}.")
        index = self.sizes.index(size)
        return self.local_exponent[index], self.local_exponent_ci[index]


def check_sizes(sizes, what: str) -> tuple[int, ...]:
    """Positive, strictly increasing integer sizes, or a DataError that says which rule failed."""
    try:
        values = [int(s) for s in sizes]
    except (TypeError, ValueError):
        raise DataError(f"{what} must be integers; got {sizes!r}.") from None
    if any(v != s for v, s in zip(values, sizes)):
        raise DataError(f"{what} must be integers; got {list(sizes)}.")
    if len(values) < 2:
        raise DataError(f"{what}: need at least 2 sizes for local exponents; got {values}.")
    if min(values) <= 0:
        raise DataError(f"{what} must be > 0; got {values}.")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise DataError(f"{what} must be strictly increasing with no duplicates; got {values}.")
    return tuple(values)


def default_sizes(n: int) -> tuple[int, ...]:
    """The default grid: 16 log-spaced sizes from n/64 to 10 n (at least 2)."""
    return tuple(sorted({max(2, int(round(s))) for s in np.geomspace(n / 64, 10 * n, 16)}))


def default_features(n: int) -> tuple[int, ...]:
    """The default grid of feature counts: 16 log-spaced from 16 to 10 n."""
    return tuple(sorted({int(round(p)) for p in np.geomspace(16, 10 * n, 16)}))


def _log_errors(spec, sizes, kind: str, ridge: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """log E at ``sizes`` on the sample's spectrum (n,) and on each half-sample's (h, n)."""
    def errors(values, powers, pool):
        if kind == "D":
            return learning_curve(values, powers, sizes, ridge=ridge, noise=noise, pool_size=pool).errors
        return width_curve(values, powers, sizes).errors

    full = np.log(errors(spec.eigenvalues, spec.target_powers, spec.n))
    half_n = spec.half_eigenvalues.shape[1]
    halves = np.log([errors(values, powers, half_n)
                     for values, powers in zip(spec.half_eigenvalues, spec.half_target_powers)])
    return full, halves


def _extrapolated(full: float, halves) -> tuple[float, tuple[float, float]]:
    result = extrapolate_to_infinite_pool(full, halves)
    return result.estimate, result.ci


def _slope(sizes, log_errors) -> float:
    return local_exponent(sizes, np.exp(log_errors))


def _check_spectrum(spec) -> None:
    if spec.target_powers is None:
        raise DataError("a predicted loss curve needs a target (labels, or target=gp for synthetic data).")
    if spec.half_target_powers is None or len(spec.half_eigenvalues) == 0:
        raise DataError("a predicted loss curve needs half-sample spectra (n_halves >= 1).")
    if spec.solver != "full":
        raise DataError("a predicted loss curve needs the full spectrum; the top-k spectrum lacks the tail that the "
                        "theory sums over (use eigensolver='full' or a smaller n).")


def data_theory_exponent(spec, sizes, *, ridge: float = 0.0, noise: float = 0.0
                         ) -> tuple[float, tuple[float, float] | None, tuple[float, ...]]:
    """The theory's local exponent of E_g(D) over ``sizes`` for the population, its interval, and the curve:
    E_g on the sample and on each half-sample (held-out correction), extrapolated to an infinite pool; the curve
    the same way in log E. Without usable halves (sizes reach the half pool) the sample's own curve and no
    interval. This is ``compare``'s recommended alpha_D and the reliable part of :func:`predict_learning_curve`."""
    full = learning_curve(spec.eigenvalues, spec.target_powers, sizes, ridge=ridge, noise=noise, pool_size=spec.n)
    half_n = spec.half_eigenvalues.shape[1]
    if max(sizes) >= half_n:
        return full.local_exponent(), None, full.errors
    log_full, log_halves = _log_errors(spec, sizes, "D", ridge, noise)
    estimate, interval = _extrapolated(_slope(sizes, log_full), [_slope(sizes, h) for h in log_halves])
    curve = np.exp(2 * log_full - log_halves.mean(axis=0))
    return estimate, interval, tuple(float(e) for e in curve)


def _lattice(reliable: int, smallest: float) -> np.ndarray:
    """Sizes ``reliable * 2^(-j/4)``, j = 0, 1, ..., down to below ``smallest / sqrt 2`` (at least one octave),
    rounded: the same points whatever sizes a user asks for, so a size's value never depends on the others."""
    steps = max(POINTS_PER_OCTAVE, math.ceil(POINTS_PER_OCTAVE * math.log2(reliable * math.sqrt(2) / smallest)))
    points = np.round(reliable * 2.0 ** (-np.arange(steps + 1) / POINTS_PER_OCTAVE))
    return np.unique(points[points >= 1]).astype(int)


def predict_curve(spec, sizes, *, kind: str = "D", ridge: float = 0.0, noise: float = 0.0) -> PredictedCurve:
    """L(D) (``kind="D"``, kernel regression with ``ridge`` and label ``noise``) or L(P) (``kind="P"``, random
    features at infinite data) at ``sizes`` for the population, from the sample's :class:`~kernelscale.Spectrum`
    (with half-samples); see the module docstring.

    Args:
      spec: the sample's spectrum with target powers and half-sample spectra (a full eigendecomposition).
      sizes: training-set sizes D or feature counts P, positive and strictly increasing; any may exceed n.
    """
    _check_spectrum(spec)
    sizes = check_sizes(sizes, "sizes" if kind == "D" else "features")
    n = spec.n
    reliable = int(RELIABLE_FRACTION[kind] * n)
    inside_sizes = [d for d in sizes if d <= reliable]
    lattice = _lattice(reliable, min([reliable / 2, *inside_sizes]))
    if kind == "P" and reliable >= min(np.count_nonzero(v > spec.noise_floor) for v in spec.half_eigenvalues):
        raise DataError("too few eigenvalues above the noise floor on the half-samples for the width curve at "
                        f"P = n/8 = {reliable}; use a larger n.")
    points = np.unique(np.r_[lattice, inside_sizes]).astype(int)  # each point's value is computed on its own
    log_full, log_halves = _log_errors(spec, points, kind, ridge, noise)
    log_inf = 2 * log_full - log_halves.mean(axis=0)
    on_lattice = np.isin(points, lattice)

    def slope(chosen: np.ndarray) -> tuple[float, tuple[float, float]]:
        return _extrapolated(_slope(points[chosen], log_full[chosen]),
                             [_slope(points[chosen], h[chosen]) for h in log_halves])

    window = on_lattice & (points >= reliable / 2)
    s, s_ci = slope(window)
    top = int(np.searchsorted(points, reliable))
    log_r, band_r = log_inf[top], _extrapolated(log_full[top], log_halves[:, top])[1]

    loss, loss_ci, exponents, exponents_ci = [], [], [], []
    for size in sizes:
        if size <= reliable:
            j = int(np.searchsorted(points, size))
            value, band = log_inf[j], _extrapolated(log_full[j], log_halves[:, j])[1]
            octave = on_lattice & (points >= size / math.sqrt(2)) & (points <= size * math.sqrt(2))
            octave[j] = True
            if octave.sum() < 3:  # the top of the range: the last octave of the lattice
                octave = (on_lattice & (points >= reliable / 2)) | (points == size)
            e, e_ci = slope(octave)
        else:
            u = math.log(size / reliable)
            value = log_r - s * u
            band = (band_r[0] - s_ci[1] * u, band_r[1] - s_ci[0] * u)
            e, e_ci = s, s_ci
        loss.append(math.exp(value))
        loss_ci.append((math.exp(band[0]), math.exp(band[1])))
        exponents.append(e)
        exponents_ci.append(e_ci)
    what = "the learning-curve theory (held-out pool correction)" if kind == "D" else "the width theory E_W(P)"
    first = int(points[window][0])
    assumptions = (f"up to {kind} = {reliable} (n/{round(1 / RELIABLE_FRACTION[kind])}): {what} on the sample's "
                   f"spectrum, extrapolated to an infinite pool with the half-samples; past it a power law with the "
                   f"local exponent {s:.3f} [{s_ci[0]:.3f}, {s_ci[1]:.3f}] over {kind} = {first}..{reliable}")
    return PredictedCurve(kind, sizes, tuple(loss), tuple(loss_ci), tuple(exponents), tuple(exponents_ci),
                          reliable, s, s_ci, (first, reliable), n, float(ridge), float(noise), assumptions)
