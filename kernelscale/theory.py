"""Scaling theory: exponents from spectra, and closed-form references on the sphere.

* ``alpha_K``: kernel exponent, ``lambda_i ~ i^-(1 + alpha_K)`` (Bahri et al. 2021, arXiv 2102.06701).
* Duality: for a target with equal weight per eigen-direction, ``alpha_D = alpha_W = alpha_K`` (their Eq. 3).
* Task-aware: with ``v_i^2 ~ i^-a`` the ridgeless, noiseless learning-curve exponent is
  ``beta = min(a - 1, 2 b)``, ``b = 1 + alpha_K`` (source/capacity rates; Cui et al. 2021, arXiv 2105.15004;
  Bordelon, Canatar, Pehlevan 2020, arXiv 2002.02561).
* ReLU kernels on the sphere S^(d-1): per-degree eigenvalues ``mu_k ~ k^-d`` (NTK) and ``k^-(d+2)`` (NNGP), with
  multiplicity ``N(d, k)``, so ``alpha_K = 1/(d-1)`` (NTK) and ``3/(d-1)`` (NNGP) (Bietti & Bach 2020,
  arXiv 2009.14397). :func:`funk_hecke_eigenvalues` computes the exact operator eigenvalues of any dot-product
  kernel by quadrature against Gegenbauer polynomials, a reference with no finite-n error.
* Learning curves: :func:`learning_curve` (kappa, gamma; Canatar, Bordelon, Pehlevan 2021, arXiv 2006.13198) and
  :func:`eigenlearning_curve` (Simon et al. 2021, arXiv 2110.03922), the same theory in two forms.
* Finite pools: :func:`extrapolate_to_infinite_pool` removes the leading 1/N bias of a quantity computed from the
  spectrum of an N-point pool (Richardson extrapolation with the half-sample pools).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
from scipy import optimize, special


def task_aware_exponent(alpha_K: float, target_tail_exponent: float) -> float:
    """``beta = min(a - 1, 2 b)`` with ``b = 1 + alpha_K`` and ``a - 1`` the target-tail exponent."""
    return float(min(target_tail_exponent, 2.0 * (1.0 + alpha_K)))


def task_aware_interval(alpha_K_ci: tuple[float, float], target_ci: tuple[float, float]) -> tuple[float, float]:
    """Interval of ``min(a - 1, 2 (1 + alpha_K))``: ``min`` is monotone in both arguments."""
    return (task_aware_exponent(alpha_K_ci[0], target_ci[0]), task_aware_exponent(alpha_K_ci[1], target_ci[1]))


def sphere_alpha_K(dim: int, kind: str) -> float:
    """Closed-form kernel exponent of a ReLU network (b_std > 0, any depth) on the sphere S^(dim-1)."""
    if dim < 3:
        raise ValueError(f"the closed form needs dim >= 3, got {dim}.")
    return {"ntk": 1.0, "nngp": 3.0}[kind] / (dim - 1)


def sphere_multiplicity(dim: int, degree: int) -> int:
    """Number of spherical harmonics of ``degree`` on S^(dim-1): ``(2k+d-2)(k+d-3)! / (k! (d-2)!)``."""
    if degree == 0:
        return 1
    return (2 * degree + dim - 2) * math.factorial(degree + dim - 3) // (
        math.factorial(degree) * math.factorial(dim - 2))


def funk_hecke_eigenvalues(profile: Callable[[np.ndarray], np.ndarray], dim: int, max_degree: int,
                           *, nodes: int = 4000) -> np.ndarray:
    """Operator eigenvalues ``mu_k``, k = 0..max_degree, of the kernel ``k(x, x') = profile(x . x')`` on the unit
    sphere S^(dim-1) with the uniform probability measure (Funk-Hecke formula):

        mu_k = c_d * integral_{-1}^{1} profile(t) P_k(t) (1 - t^2)^((d-3)/2) dt,
        c_d = Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2)),  P_k = C_k^((d-2)/2) / C_k^((d-2)/2)(1).

    Gauss-Jacobi quadrature with ``nodes`` points; accurate for degrees well below ``nodes``.
    Returns shape (max_degree + 1,); each mu_k has multiplicity :func:`sphere_multiplicity`.
    """
    if dim < 3:
        raise ValueError(f"dim must be >= 3, got {dim}.")
    a = (dim - 3) / 2
    t, w = special.roots_jacobi(nodes, a, a)
    values = np.asarray(profile(t), dtype=np.float64)
    c_d = math.gamma(dim / 2) / (math.sqrt(math.pi) * math.gamma((dim - 1) / 2))
    lam = (dim - 2) / 2
    return np.array([c_d * np.sum(w * values * special.eval_gegenbauer(k, lam, t) / special.eval_gegenbauer(k, lam, 1.0))
                     for k in range(max_degree + 1)])


def sorted_operator_spectrum(mu: np.ndarray, dim: int) -> np.ndarray:
    """Per-degree eigenvalues repeated by multiplicity and sorted descending: the operator's ``lambda_i``."""
    counts = [sphere_multiplicity(dim, k) for k in range(len(mu))]
    return np.sort(np.repeat(mu, counts))[::-1]


# --- The whole learning curve from a spectrum (THEORY.md section 3) ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TheoryCurve:
    """Predicted kernel-regression test error ``E_g(D)`` at each training-set size.

    Attributes:
      sizes: (m,) training-set sizes D.
      errors: (m,) predicted test MSE (summed over output columns), against the clean target.
      kappa, gamma: (m,) the self-consistent ``kappa(D)`` and ``gamma(D)``.
      ridge, noise: ridge on the raw D x D Gram matrix, label-noise variance summed over output columns.
      pool_size: N of the pool the spectrum came from when the held-out correction was applied, else None.
    """

    sizes: tuple[int, ...]
    errors: tuple[float, ...]
    kappa: tuple[float, ...]
    gamma: tuple[float, ...]
    ridge: float
    noise: float
    pool_size: int | None

    def local_exponent(self, low: float | None = None, high: float | None = None) -> float:
        """``-d log E_g / d log D``: least-squares slope over the sizes in ``[low, high]``."""
        return local_exponent(self.sizes, self.errors, low, high)


def _check_spectrum(eigenvalues: np.ndarray, target_powers: np.ndarray, ridge: float, noise: float) -> None:
    if eigenvalues.shape != target_powers.shape or eigenvalues.ndim != 1:
        raise ValueError(f"eigenvalues {eigenvalues.shape} and target_powers {target_powers.shape} must be the same "
                         "1-d shape.")
    if not (ridge >= 0 and noise >= 0):
        raise ValueError(f"ridge and noise must be >= 0; got ridge={ridge}, noise={noise}.")


def solve_kappa(eigenvalues: np.ndarray, size: int, ridge: float = 0.0) -> float:
    """Canatar et al. (arXiv 2006.13198): the root ``kappa > 0`` of ``kappa = ridge + kappa sum_r eta_r/(D eta_r + kappa)``.

    ``eigenvalues`` are the operator eigenvalues eta_r (estimated as those of K/N); the right side minus the left,
    divided by kappa, decreases monotonically in kappa, so the root is bracketed in log kappa.
    """
    eta = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    if ridge == 0.0 and np.count_nonzero(eta) <= size:
        raise ValueError(f"ridgeless theory needs more positive eigenvalues ({np.count_nonzero(eta)}) than training "
                         f"points (D = {size}); use a larger pool or a ridge > 0.")

    def excess(log_kappa: float) -> float:
        kappa = math.exp(log_kappa)
        return ridge / kappa + float(np.sum(eta / (size * eta + kappa))) - 1.0

    high = math.log(ridge + float(eta.sum()) + 1e-300) + 1.0
    low = high - 5.0
    while excess(low) < 0:
        low -= 5.0
        if low < -745:
            raise ValueError("could not bracket kappa: the spectrum is too small against the training-set size.")
    return math.exp(optimize.brentq(excess, low, high, xtol=1e-14, rtol=1e-14, maxiter=500))


def learning_curve(eigenvalues: np.ndarray, target_powers: np.ndarray, sizes, *, ridge: float = 0.0,
                   noise: float = 0.0, pool_size: int | None = None) -> TheoryCurve:
    """Canatar-Bordelon-Pehlevan learning curve (arXiv 2006.13198, 2002.02561):

        kappa = ridge + kappa sum_r eta_r / (D eta_r + kappa)
        gamma = sum_r D eta_r^2 / (D eta_r + kappa)^2
        E_g(D) = kappa^2 / (1 - gamma) sum_r v_r^2 / (D eta_r + kappa)^2 + noise gamma / (1 - gamma)

    Args:
      eigenvalues: (N,) eigenvalues eta_r of K/N on a pool of N points.
      target_powers: (N,) v_r^2 = <y, u_r>^2 / N summed over output columns.
      sizes: training-set sizes D.
      ridge: added to the raw D x D Gram matrix (``K_DD + ridge I``).
      noise: label-noise variance summed over output columns (training labels only; E_g is against the clean target).
      pool_size: when given, the error on held-out pool points for training sets drawn from a pool of that size
        (the spectrum is the pool's own measure, which includes the training points):

            E_held_out = (N E_g - D E_train) / (N - D),
            E_train = (ridge/kappa)^2 (E_g + noise) + noise (1 - 2 ridge/kappa)   (clean-target training error)

        Without ridge or noise this is the ``N/(N - D)`` rescaling of Canatar et al.'s scripts.
    """
    eta = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    v2 = np.asarray(target_powers, dtype=np.float64)
    _check_spectrum(eta, v2, ridge, noise)
    sizes = tuple(int(s) for s in sizes)
    if pool_size is not None and max(sizes) >= pool_size:
        raise ValueError(f"sizes must be below the pool size {pool_size} for the held-out correction; got {max(sizes)}.")
    errors, kappas, gammas = [], [], []
    for size in sizes:
        kappa = solve_kappa(eta, size, ridge)
        denominator = size * eta + kappa
        gamma = float(np.sum(size * eta**2 / denominator**2))
        error = kappa**2 / (1 - gamma) * float(np.sum(v2 / denominator**2)) + noise * gamma / (1 - gamma)
        if pool_size is not None:
            shrink = ridge / kappa
            train = shrink**2 * (error + noise) + noise * (1 - 2 * shrink)
            error = (pool_size * error - size * train) / (pool_size - size)
        errors.append(error)
        kappas.append(kappa)
        gammas.append(gamma)
    return TheoryCurve(sizes, tuple(errors), tuple(kappas), tuple(gammas), float(ridge), float(noise), pool_size)


def eigenlearning_curve(eigenvalues: np.ndarray, target_powers: np.ndarray, sizes, *, ridge: float = 0.0,
                        noise: float = 0.0) -> np.ndarray:
    """The same theory in eigenlearning form (Simon, Dickens, Karkada, DeWeese, arXiv 2110.03922):

        sum_i eta_i / (eta_i + k) + ridge / k = D               (effective regularization k = kappa / D)
        L_i = eta_i / (eta_i + k),   E_0 = D / (D - sum_i L_i^2)
        test MSE = E_0 (sum_i (1 - L_i)^2 v_i^2 + noise)        (against noisy test labels)

    Returns (m,) errors against the clean target (``test MSE - noise``), to compare with :func:`learning_curve`.
    Solved independently (bisection on k), so agreement checks both implementations.
    """
    eta = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    v2 = np.asarray(target_powers, dtype=np.float64)
    _check_spectrum(eta, v2, ridge, noise)
    out = []
    for size in sizes:
        result = optimize.root_scalar(lambda k: float(np.sum(eta / (eta + k))) + ridge / k - size,
                                      bracket=(1e-300, float(eta.sum()) + ridge + 1.0), method="bisect",
                                      xtol=1e-300, rtol=1e-15, maxiter=5000)
        k = result.root
        learnability = eta / (eta + k)
        e0 = size / (size - float(np.sum(learnability**2)))
        out.append(e0 * (float(np.sum((1 - learnability) ** 2 * v2)) + noise) - noise)
    return np.array(out)


def local_exponent(sizes, errors, low: float | None = None, high: float | None = None) -> float:
    """Least-squares ``-slope`` of ``log errors`` against ``log sizes`` for sizes in ``[low, high]``."""
    sizes = np.asarray(sizes, dtype=np.float64)
    errors = np.asarray(errors, dtype=np.float64)
    keep = (sizes >= (low or 0)) & (sizes <= (high or np.inf))
    if keep.sum() < 2 or np.any(errors[keep] <= 0):
        raise ValueError("a local exponent needs at least two sizes in range with positive errors.")
    return float(-np.polyfit(np.log(sizes[keep]), np.log(errors[keep]), 1)[0])


@dataclasses.dataclass(frozen=True)
class PoolExtrapolation:
    """A theory quantity computed on the pool (N points) and on its half-samples (N/2), extrapolated to N = inf.

    Attributes:
      estimate: ``2 e(N) - mean_j e_j(N/2)``.
      ci: ``estimate +- sqrt(correction^2 + (2 + 1/m) s^2)``; it always contains ``full``.
      full: e(N), the quantity on the whole pool.
      halves: (m,) the quantity on each half-sample pool.
      correction: ``estimate - full``.
    """

    estimate: float
    ci: tuple[float, float]
    full: float
    halves: tuple[float, ...]
    correction: float


def extrapolate_to_infinite_pool(full: float, halves) -> PoolExtrapolation:
    """Richardson extrapolation in the pool size: with ``e(N) = e_inf + c/N + O(1/N^2)``,

        e_inf = 2 e(N) - e(N/2).

    A theory evaluated on the spectrum of an N-point pool is biased by the finite pool (the spectrum's tail and the
    discrete measure), by an amount that grows with D/N; a kernel-regression curve tested on held-out points
    estimates the population's curve, which has no such bias. ``e(N/2)`` is the mean over the m half-sample pools.

    Uncertainty: the correction itself (the 1/N model may be wrong: the interval reaches back to e(N)), in
    quadrature with the sampling error ``Var(2 e(N) - mean e_j) ~ (2 + 1/m) s^2``, where s^2 is the halves'
    sample variance and Var e(N) ~ s^2 / 2 (half as many points); the halves are subsets of the pool and
    correlated with e(N), so ignoring the covariance makes the interval wider, not narrower. With one half, s^2 is
    taken as the squared correction.
    """
    halves = tuple(float(h) for h in halves)
    if not halves:
        raise ValueError("extrapolating to an infinite pool needs at least one half-sample value.")
    correction = float(full) - float(np.mean(halves))
    spread2 = float(np.var(halves, ddof=1)) if len(halves) > 1 else correction**2
    half_width = math.sqrt(correction**2 + (2 + 1 / len(halves)) * spread2)
    estimate = float(full) + correction
    # half_width >= |correction| = |estimate - e(N)| reaches e(N); min / max keep it inside despite rounding
    interval = (min(estimate - half_width, float(full)), max(estimate + half_width, float(full)))
    return PoolExtrapolation(estimate, interval, float(full), halves, correction)
