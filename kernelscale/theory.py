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
* Random features (docs/theory.md, "Width"): :func:`random_feature_curve`, the deterministic equivalent of ridge
  regression on P linear random features of the kernel with D samples (Atanasov, Zavatone-Veth, Pehlevan 2024, arXiv
  2405.00592),
  and :func:`random_feature_bias_variance`, the same in the bias-variance form of Defilippis, Loureiro, Misiakiewicz
  2024 (arXiv 2405.15699). Its two limits: D = infinity, the width curve :func:`width_curve`
  ``E_W(P) = k_P sum_r v_r^2 / (eta_r + k_P)`` with ``df1(k_P) = P``; P = infinity, :func:`learning_curve`.
  ``E_W(P) = E_g(D = P)`` only when ``v_r^2`` is proportional to ``eta_r``; for power laws ``eta ~ i^-b``,
  ``v^2 ~ i^-a`` the exponents are ``min(a - 1, b)`` in width and ``min(a - 1, 2b)`` in data.
* Finite pools: :func:`extrapolate_to_infinite_pool` removes the leading 1/N bias of a quantity computed from the
  spectrum of an N-point pool (Richardson extrapolation with the half-sample pools).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
import numpy as np

from .errors import ParameterError, SpectrumError
from .estimates import Estimate


def find_root(f: Callable[[float], float], low: float, high: float, *, xtol: float = 1e-14, rtol: float = 1e-14,
              maxiter: int = 500) -> float:
    """A root of ``f`` in ``[low, high]`` where f changes sign: Brent's method (inverse quadratic interpolation,
    secant and bisection; Brent 1973, as in Numerical Recipes' ``zbrent``). Written here because importing
    scipy.optimize for it took 0.5 s of a 4 s command; the tests check it against ``scipy.optimize.brentq``."""
    a, b = float(low), float(high)
    fa, fb = f(a), f(b)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if (fa > 0) == (fb > 0):
        raise SpectrumError(f"f({a:g}) = {fa:g} and f({b:g}) = {fb:g} have the same sign: no bracketed root.")
    c, fc = a, fa
    d = e = b - a
    for _ in range(maxiter):
        if (fb > 0) == (fc > 0):  # keep the root between b and c
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 0.5 * (xtol + rtol * abs(b))
        m = 0.5 * (c - b)
        if abs(m) <= tol or fb == 0.0:
            return b
        if abs(e) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:  # secant
                p, q = 2.0 * m * s, 1.0 - s
            else:  # inverse quadratic interpolation
                q, r = fa / fc, fb / fc
                p = s * (2.0 * m * q * (q - r) - (b - a) * (r - 1.0))
                q = (q - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if 2.0 * p < min(3.0 * m * q - abs(tol * q), abs(e * q)):
                e, d = d, p / q
            else:  # interpolation would leave the bracket or converge slowly: bisect
                d = e = m
        else:
            d = e = m
        a, fa = b, fb
        b += d if abs(d) > tol else (tol if m > 0 else -tol)
        fb = f(b)
    raise SpectrumError(f"no root within {maxiter} iterations.")


def task_aware_exponent(alpha_K: float, target_tail_exponent: float) -> float:
    """``beta = min(a - 1, 2 b)`` with ``b = 1 + alpha_K`` and ``a - 1`` the target-tail exponent."""
    return float(min(target_tail_exponent, 2.0 * (1.0 + alpha_K)))


def task_aware_interval(alpha_K_ci: tuple[float, float], target_ci: tuple[float, float]) -> tuple[float, float]:
    """Interval of ``min(a - 1, 2 (1 + alpha_K))``: ``min`` is monotone in both arguments."""
    return (task_aware_exponent(alpha_K_ci[0], target_ci[0]), task_aware_exponent(alpha_K_ci[1], target_ci[1]))


def width_exponent(alpha_K: float, target_tail_exponent: float) -> float:
    """Asymptotic width exponent of random features at infinite data: ``min(a - 1, b)`` with ``b = 1 + alpha_K``."""
    return float(min(target_tail_exponent, 1.0 + alpha_K))


def width_interval(alpha_K_ci: tuple[float, float], target_ci: tuple[float, float]) -> tuple[float, float]:
    """Interval of ``min(a - 1, 1 + alpha_K)`` (monotone in both arguments)."""
    return (width_exponent(alpha_K_ci[0], target_ci[0]), width_exponent(alpha_K_ci[1], target_ci[1]))


def sphere_alpha_K(dim: int, kind: str) -> float:
    """Closed-form kernel exponent of a ReLU network (b_std > 0, any depth) on the sphere S^(dim-1)."""
    if dim < 3:
        raise ParameterError(f"the closed form needs dim >= 3, got {dim}.")
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
        raise ParameterError(f"dim must be >= 3, got {dim}.")
    from scipy import special

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


# --- The whole learning curve from a spectrum (docs/theory.md, "The whole learning curve") ------------------------


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
        raise SpectrumError(f"eigenvalues {eigenvalues.shape} and target_powers {target_powers.shape} must be the same "
                         "1-d shape.")
    if not (ridge >= 0 and noise >= 0):
        raise ParameterError(f"ridge and noise must be >= 0; got ridge={ridge}, noise={noise}.")


def solve_kappa(eigenvalues: np.ndarray, size: int, ridge: float = 0.0) -> float:
    """Canatar et al. (arXiv 2006.13198): the root ``kappa > 0`` of ``kappa = ridge + kappa sum_r eta_r/(D eta_r + kappa)``.

    ``eigenvalues`` are the operator eigenvalues eta_r (estimated as those of K/N); the right side minus the left,
    divided by kappa, decreases monotonically in kappa, so the root is bracketed in log kappa.
    """
    eta = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    if ridge == 0.0 and np.count_nonzero(eta) <= size:
        raise SpectrumError(f"ridgeless theory needs more positive eigenvalues ({np.count_nonzero(eta)}) than training "
                         f"points (D = {size}); use a larger pool or a ridge > 0.")

    def excess(log_kappa: float) -> float:
        kappa = math.exp(log_kappa)
        return ridge / kappa + float(np.sum(eta / (size * eta + kappa))) - 1.0

    high = math.log(ridge + float(eta.sum()) + 1e-300) + 1.0
    low = high - 5.0
    while excess(low) < 0:
        low -= 5.0
        if low < -745:
            raise SpectrumError("could not bracket kappa: the spectrum is too small against the training-set size.")
    return math.exp(find_root(excess, low, high))


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
        raise SpectrumError(f"sizes must be below the pool size {pool_size} for the held-out correction; got {max(sizes)}.")
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
    from scipy import optimize  # a different root finder from learning_curve's, so the check covers both

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


# --- Random features: P features, D samples (docs/theory.md, "Width") ------------------------------------------


def degrees_of_freedom(eigenvalues: np.ndarray, k: float) -> tuple[float, float]:
    """``df1(k) = sum_r eta_r / (eta_r + k)`` and ``df2(k) = sum_r eta_r^2 / (eta_r + k)^2``."""
    ratio = eigenvalues / (eigenvalues + k)
    return float(np.sum(ratio)), float(np.sum(ratio**2))


def _count(value) -> float:
    """A feature count or sample size: a number >= 1, or ``math.inf`` (the limit)."""
    value = float(value)
    if not (value >= 1):
        raise ParameterError(f"feature counts and sample sizes must be >= 1 (or math.inf); got {value}.")
    return value


def _solve_df1(eta: np.ndarray, target: float) -> float:
    """The k > 0 with ``df1(k) = target`` (df1 falls from the number of positive eigenvalues to 0)."""
    positive = np.count_nonzero(eta)
    if positive <= target:
        raise SpectrumError(f"ridgeless theory needs more positive eigenvalues ({positive}) than min(P, D) = "
                         f"{target:g}; use a larger pool or a ridge > 0.")
    high = math.log(float(eta.sum()) + 1e-300) + 1.0
    low = high - 5.0
    while degrees_of_freedom(eta, math.exp(low))[0] < target:
        low -= 5.0
    return math.exp(find_root(lambda lk: degrees_of_freedom(eta, math.exp(lk))[0] - target, low, high))


def solve_random_feature_kappa(eigenvalues: np.ndarray, *, features: float, size: float, ridge: float = 0.0) -> float:
    """Effective ridge k of ridge regression on P linear random features with D samples (Atanasov et al.):

        k (1 - df1(k)/D) (1 - df1(k)/P) = ridge / D          (ridge on the raw D x D Gram matrix)

    Ridgeless (or D = infinity): ``df1(k) = min(P, D)``. On ``df1(k) < min(P, D)`` the left side increases from 0,
    so the root is unique; it is bracketed in log k above the ridgeless root.
    """
    eta = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    features, size = _count(features), _count(size)
    bound = min(features, size)
    if math.isinf(bound):
        raise ParameterError("at least one of P (features) and D (size) must be finite.")
    delta = 0.0 if math.isinf(size) else ridge / size
    if delta == 0.0:
        return _solve_df1(eta, bound)
    low = math.log(_solve_df1(eta, bound)) if np.count_nonzero(eta) > bound else math.log(1e-300)

    def excess(log_k: float) -> float:
        k = math.exp(log_k)
        df1 = degrees_of_freedom(eta, k)[0]
        return k * (1 - df1 / size) * (1 - df1 / features) / delta - 1.0

    high = max(low, math.log(delta + float(eta.sum()))) + 1.0
    while excess(high) < 0:
        high += 5.0
    return math.exp(find_root(excess, low, high))


def _pairs(features, sizes) -> list[tuple[float, float]]:
    features = np.atleast_1d(np.asarray(features, dtype=np.float64))
    sizes = np.atleast_1d(np.asarray(sizes, dtype=np.float64))
    try:
        features, sizes = np.broadcast_arrays(features, sizes)
    except ValueError:
        raise ParameterError(f"features {features.shape} and sizes {sizes.shape} must broadcast together.") from None
    return [(_count(p), _count(d)) for p, d in zip(features.ravel(), sizes.ravel())]


def random_feature_curve(eigenvalues: np.ndarray, target_powers: np.ndarray, *, features, sizes, ridge: float = 0.0,
                         noise: float = 0.0) -> np.ndarray:
    """Test error of ridge regression on P linear random features of the kernel with D samples (Atanasov,
    Zavatone-Veth, Pehlevan 2024, arXiv 2405.00592; docs/theory.md, "Width"). With k from
    :func:`solve_random_feature_kappa`, ``S1 = sum v^2/(eta + k)``, ``S2 = sum v^2/(eta + k)^2``:

        r = (P - df1)/(P - df2),   g1 = (df1 - r (df1 - df2))/D
        E = [r k^2 S2 + (1 - r) k S1 + noise] / (1 - g1) - noise

    Features ``phi(x) = G^T diag(sqrt(eta)) psi(x) / sqrt(P)`` (G Gaussian, psi the kernel's eigenfunctions), so
    ``E[phi . phi'] = k(x, x')``. P = infinity is kernel regression (:func:`learning_curve`); D = infinity is the
    width curve (:func:`width_curve`); ridgeless D > P: ``E_W(P) / (1 - P/D)``; ridgeless P = D: infinity (the
    interpolation peak).

    Args:
      eigenvalues, target_powers: (N,) eta_r and v_r^2, as in :func:`learning_curve`.
      features, sizes: P and D, scalars or arrays that broadcast together; ``math.inf`` for a limit.
      ridge: added to the raw D x D Gram matrix of the features (per-sample ridge ridge/D).
      noise: label-noise variance of the training labels, summed over output columns.

    Returns:
      (m,) errors against the clean target (summed over output columns), one per broadcast (P, D) pair.
    """
    eta = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    v2 = np.asarray(target_powers, dtype=np.float64)
    _check_spectrum(eta, v2, ridge, noise)
    errors = []
    for features_p, size in _pairs(features, sizes):
        k = solve_random_feature_kappa(eta, features=features_p, size=size, ridge=ridge)
        df1, df2 = degrees_of_freedom(eta, k)
        r = 1.0 if math.isinf(features_p) else (features_p - df1) / (features_p - df2)
        g1 = 0.0 if math.isinf(size) else (df1 - r * (df1 - df2)) / size
        if g1 >= 1.0 - 1e-12:
            errors.append(math.inf)
            continue
        s1, s2 = float(np.sum(v2 / (eta + k))), float(np.sum(v2 / (eta + k) ** 2))
        errors.append((r * k**2 * s2 + (1 - r) * k * s1 + noise) / (1 - g1) - noise)
    return np.array(errors)


def random_feature_bias_variance(eigenvalues: np.ndarray, target_powers: np.ndarray, *, features, sizes,
                                 ridge: float = 0.0, noise: float = 0.0) -> np.ndarray:
    """:func:`random_feature_curve` in the bias-variance form of Defilippis, Loureiro, Misiakiewicz 2024 (arXiv
    2405.15699), solved independently (brentq on nu2 with nu1 in closed form), as a check of both:

        D - ridge/nu1 = df1(nu2),   P - P nu1/nu2 = df1(nu2)
        nu1 = (nu2/2) [1 - D/P + sqrt((1 - D/P)^2 + 4 ridge/(P nu2))]
        Upsilon = (P/D) [(1 - nu1/nu2)^2 + (nu1/nu2)^2 df2/(P - df2)],   chi = sum eta/(eta + nu2)^2 / (P - df2)
        B = nu2^2 [sum v^2/(eta + nu2)^2 + chi sum eta v^2/(eta + nu2)^2] / (1 - Upsilon),  V = Upsilon/(1 - Upsilon)
        E = B + noise V

    Returns (m,) errors against the clean target, as :func:`random_feature_curve`.
    """
    eta = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    v2 = np.asarray(target_powers, dtype=np.float64)
    _check_spectrum(eta, v2, ridge, noise)
    return np.array([_bias_variance_error(eta, v2, features_p, size, ridge, noise)
                     for features_p, size in _pairs(features, sizes)])


def _bias_variance_error(eta: np.ndarray, v2: np.ndarray, features_p: float, size: float, ridge: float,
                         noise: float) -> float:
    """One (P, D) pair of :func:`random_feature_bias_variance`."""
    from scipy import optimize  # scipy's brentq, not find_root: the two forms are solved independently

    if math.isinf(features_p) and math.isinf(size):
        raise ParameterError("at least one of P (features) and D (size) must be finite.")

    def nu1_of(nu2: float) -> float:
        if math.isinf(features_p):  # nu1 = nu2: kernel regression
            return nu2
        if math.isinf(size):  # D - ridge/nu1 = df1 with D -> inf: nu1 -> 0
            return 0.0
        lead = 1.0 - size / features_p
        return nu2 / 2 * (lead + math.sqrt(lead**2 + 4 * ridge / (features_p * nu2)))

    def residual(log_nu2: float) -> float:
        nu2 = math.exp(log_nu2)
        df1 = float(np.sum(eta / (eta + nu2)))
        if math.isinf(features_p):  # D - ridge/nu2 = df1(nu2)
            return size - ridge / nu2 - df1
        return features_p * (1.0 - nu1_of(nu2) / nu2) - df1

    high = math.log(float(eta.sum()) + ridge + 1e-300) + 2.0
    while residual(high) < 0:
        high += 5.0
    low = high - 10.0
    while residual(low) > 0:
        low -= 10.0
        if low < -1500:
            raise SpectrumError("ridgeless theory needs more positive eigenvalues than min(P, D); use a ridge > 0.")
    nu2 = math.exp(optimize.brentq(residual, low, high, xtol=1e-14, rtol=1e-14, maxiter=1000))  # scipy's
    nu1 = nu1_of(nu2)
    df2 = float(np.sum(eta**2 / (eta + nu2) ** 2))
    if math.isinf(features_p):
        upsilon, chi = df2 / size, 0.0
    else:
        upsilon = 0.0 if math.isinf(size) else features_p / size * (
            (1 - nu1 / nu2) ** 2 + (nu1 / nu2) ** 2 * df2 / (features_p - df2))
        chi = float(np.sum(eta / (eta + nu2) ** 2)) / (features_p - df2)
    if upsilon >= 1.0 - 1e-12:
        return math.inf
    bias = nu2**2 * (float(np.sum(v2 / (eta + nu2) ** 2)) + chi * float(np.sum(eta * v2 / (eta + nu2) ** 2)))
    return bias / (1 - upsilon) + noise * upsilon / (1 - upsilon)


@dataclasses.dataclass(frozen=True)
class WidthCurve:
    """Predicted test error at infinite data of least squares on P random features of the kernel, ``E_W(P)``.

    Attributes:
      features: (m,) feature counts P.
      errors: (m,) ``E_W(P) = k_P sum_r v_r^2 / (eta_r + k_P)`` (summed over output columns).
      kappa: (m,) ``k_P``, the root of ``df1(k_P) = P``.
    """

    features: tuple[int, ...]
    errors: tuple[float, ...]
    kappa: tuple[float, ...]

    def local_exponent(self, low: float | None = None, high: float | None = None) -> float:
        """``-d log E_W / d log P``: least-squares slope over the feature counts in ``[low, high]``."""
        return local_exponent(self.features, self.errors, low, high)


def width_curve(eigenvalues: np.ndarray, target_powers: np.ndarray, features) -> WidthCurve:
    """The width-limited curve (docs/theory.md, "Width"): P random features of the kernel, infinite data, ridgeless,

        df1(k_P) = sum_r eta_r / (eta_r + k_P) = P,      E_W(P) = k_P sum_r v_r^2 / (eta_r + k_P).

    The projection of the target onto P random directions of the kernel's feature space leaves, in expectation,
    ``k_P (Sigma + k_P)^-1`` of it (a deterministic equivalent; trace N - P). A readout fitted and scored on a
    pool is this case for the pool's measure: use the pool's spectrum.

    Args:
      eigenvalues, target_powers: (N,) eta_r and v_r^2, as in :func:`learning_curve`.
      features: feature counts P (each below the number of positive eigenvalues).
    """
    eta = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    v2 = np.asarray(target_powers, dtype=np.float64)
    _check_spectrum(eta, v2, 0.0, 0.0)
    features = tuple(int(p) for p in features)
    kappas = [_solve_df1(eta, float(_count(p))) for p in features]
    errors = [k * float(np.sum(v2 / (eta + k))) for k in kappas]
    return WidthCurve(features, tuple(errors), tuple(kappas))


def local_exponent(sizes, errors, low: float | None = None, high: float | None = None) -> float:
    """Least-squares ``-slope`` of ``log errors`` against ``log sizes`` for sizes in ``[low, high]``."""
    sizes = np.asarray(sizes, dtype=np.float64)
    errors = np.asarray(errors, dtype=np.float64)
    keep = (sizes >= (low or 0)) & (sizes <= (high or np.inf))
    if keep.sum() < 2 or np.any(errors[keep] <= 0):
        raise SpectrumError("a local exponent needs at least two sizes in range with positive errors.")
    return float(-np.polyfit(np.log(sizes[keep]), np.log(errors[keep]), 1)[0])


def richardson(full, halves):
    """Richardson extrapolation in the sample size: ``2 full - mean(halves)`` (halves stacked on the first axis).

    With ``e(N) = e_inf + c/N + O(1/N^2)`` and ``e(N/2)`` the mean over half-sample pools, ``e_inf = 2 e(N) - e(N/2)``.
    Applied to the spectrum's tail sums (:func:`kernelscale.fit.richardson_tail`), to the theory's log loss per size
    (:mod:`kernelscale.curves`) and to exponents (:func:`extrapolate_to_infinite_pool`).
    """
    return 2 * np.asarray(full, dtype=np.float64) - np.mean(np.asarray(halves, dtype=np.float64), axis=0)


@dataclasses.dataclass(frozen=True)
class PoolExtrapolation:
    """A theory quantity computed on the pool (N points) and on its half-samples (N/2), extrapolated to N = inf.

    Attributes:
      estimate: ``2 e(N) - mean_j e_j(N/2)`` with its interval ``estimate +- sqrt(correction^2 + (2 + 1/m) s^2)``,
        which always contains ``full``.
      full: e(N), the quantity on the whole pool.
      halves: (m,) the quantity on each half-sample pool.
      correction: ``estimate - full``.
    """

    estimate: Estimate
    full: float
    halves: tuple[float, ...]
    correction: float


def extrapolate_to_infinite_pool(full: float, halves) -> PoolExtrapolation:
    """:func:`richardson` on one quantity, with its uncertainty.

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
        raise SpectrumError("extrapolating to an infinite pool needs at least one half-sample value.")
    estimate = float(richardson(full, halves))
    correction = estimate - float(full)
    spread2 = float(np.var(halves, ddof=1)) if len(halves) > 1 else correction**2
    half_width = math.sqrt(correction**2 + (2 + 1 / len(halves)) * spread2)
    # half_width >= |correction| = |estimate - e(N)| reaches e(N); min / max keep it inside despite rounding
    interval = (min(estimate - half_width, float(full)), max(estimate + half_width, float(full)))
    return PoolExtrapolation(Estimate(estimate, interval), float(full), halves, correction)
