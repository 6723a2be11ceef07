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
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special


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
