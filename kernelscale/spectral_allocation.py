"""Compute-optimal allocation predicted from a spectrum (issue 27; ../shared/THEORY.md section 5b): how to split a
budget C = N t between N random features of a kernel and t steps of one-pass SGD (a fresh sample every step),
without training anything.

Notation: eigenvalues ``lambda_i ~ i^-b`` (b = 1 + alpha_K > 1), target powers ``v_i^2 ~ i^-a``.

* The loss surface, additive model: ``L(N, t) = E_W(N) + F(t)``, with E_W the width curve
  (:func:`kernelscale.theory.width_curve`, the capacity floor, ``~ N^-min(a - 1, b)``) and
  ``F(t) = sum_i v_i^2 (1 - gamma lambda_i)^(2t)`` the loss of population gradient descent with step ``gamma``
  after t steps (``~ (gamma t)^-(a - 1)/b``). It leaves out the target mass smeared into the random-feature bulk
  and the SGD noise, which matter outside phase Ia.
* The frontier: for each C, the N minimising ``L(N, C/N)``; its local exponents ``N* ~ C^xi``, ``L* ~ C^-eta``.
* The exact expected loss of one-pass SGD on one draw of Gaussian random features (:func:`one_pass_sgd_risk`, a
  linear recursion solved by one symmetric eigendecomposition), which has both missing terms; checked against a
  simulation. The frontier on it is still to be written.
* The phases of the closed form (Paquette, Paquette, Xiao, Pennington 2024, arXiv 2405.15074; Bordelon, Atanasov,
  Pehlevan 2024, arXiv 2402.01092; Lin, Wu, Kakade, Bartlett, Lee 2024, arXiv 2406.08466), for b > 1:

      Ia   a < b + 1        xi = 1/(1 + b)    eta = (a - 1)/(1 + b)
      II   b + 1 < a < 2b   xi = (a - b)/a    eta = (a - 1)/a
      III  a > 2b           xi = 1/2          eta = 1 - 1/(2b)     (SGD noise; without it II goes on)

This is the random-feature (lazy) baseline: feature-learning networks scaled better than it (Bordelon, Atanasov,
Pehlevan 2024 and arXiv 2409.17858). This module is the theory; the command and its check are still to come.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .errors import ParameterError
from .theory import local_exponent, width_curve

CAVEAT = ("the random-feature (lazy) baseline: networks that learn features scaled better than it (Bordelon, "
          "Atanasov, Pehlevan 2024, arXiv 2409.17858)")
STEP_POINTS_PER_DECADE = 50  # F(t) is tabulated on this log grid of t and interpolated in log-log between
FEATURE_POINTS_PER_DECADE = 100  # the N grid the frontier minimises over


def phase(a: float, b: float) -> str:
    """The phase of one-pass SGD on random features: ``"Ia"`` (a < b + 1), ``"II"`` (b + 1 <= a < 2b) or ``"III"``
    (a >= 2b); ``a`` the target decay, ``b > 1`` the kernel decay (module docstring)."""
    _check_decays(a, b)
    if a < b + 1:
        return "Ia"
    return "II" if a < 2 * b else "III"


def phase_exponents(a: float, b: float) -> tuple[float, float]:
    """The closed-form compute-optimal exponents ``(xi, eta)``: ``N* ~ C^xi``, ``L* ~ C^-eta`` in :func:`phase`."""
    name = phase(a, b)
    if name == "Ia":
        return 1.0 / (1.0 + b), (a - 1.0) / (1.0 + b)
    if name == "II":
        return (a - b) / a, (a - 1.0) / a
    return 0.5, 1.0 - 1.0 / (2.0 * b)


def gradient_descent_loss(eigenvalues, target_powers, steps, learning_rate: float = 1.0) -> np.ndarray:
    """``F(t) = sum_i v_i^2 (1 - gamma lambda_i)^(2t)`` at each t of ``steps`` (population gradient descent from 0
    with step ``gamma = learning_rate``, stable for ``gamma lambda_1 < 2``). Shapes: (M,), (M,), (m,) -> (m,)."""
    eta, v2 = _spectrum(eigenvalues, target_powers)
    if not 0 < learning_rate * eta[0] < 2:
        raise ParameterError(f"learning_rate * lambda_1 = {learning_rate * eta[0]:.4g} must lie in (0, 2) for "
                             "gradient descent to converge; lower the learning rate.")
    log_factor = np.log(np.abs(1.0 - learning_rate * eta) + 1e-300)
    return np.array([float(np.sum(v2 * np.exp(2.0 * t * log_factor))) for t in np.atleast_1d(steps)])


@dataclasses.dataclass(frozen=True)
class Frontier:
    """The compute-optimal frontier of the additive model.

    Attributes:
      compute: (m,) budgets C = N t, increasing.
      features, steps, loss: (m,) N*, t* = C / N* and L* at each budget.
      learning_rate: gamma, in the kernel's units (N* scales with it: ``~ (gamma C)^(1/(1 + b))`` in Ia).
    """

    compute: tuple[float, ...]
    features: tuple[float, ...]
    steps: tuple[float, ...]
    loss: tuple[float, ...]
    learning_rate: float

    def exponents(self) -> tuple[float, float]:
        """``(xi, eta)``: the least-squares log-log slopes of N* and of 1/L* against C over the budgets."""
        return local_exponent(self.compute, 1.0 / np.asarray(self.features)), local_exponent(self.compute, self.loss)


def one_pass_frontier(eigenvalues, target_powers, compute, *, learning_rate: float = 1.0) -> Frontier:
    """N*, t* and L* minimising the additive loss ``E_W(N) + F(C / N)`` at each budget of ``compute`` (increasing),
    over N on a log grid of :data:`FEATURE_POINTS_PER_DECADE` points per decade from 1 to a tenth of the modes.

    Args:
      eigenvalues, target_powers: (M,) lambda_i (descending) and v_i^2 of the kernel's operator or a sample's
        spectrum; M must exceed the N* of the largest budget many times over (E_W(N) sums over the modes).
      compute: budgets C, increasing.
      learning_rate: gamma of :func:`gradient_descent_loss`.
    """
    eta, v2 = _spectrum(eigenvalues, target_powers)
    compute = np.asarray(compute, dtype=np.float64)
    if compute.ndim != 1 or np.any(np.diff(compute) <= 0) or compute[0] <= 1:
        raise ParameterError(f"compute must be increasing budgets above 1; got {compute.tolist()}.")
    largest = len(eta) // 10
    features = np.unique(np.round(np.geomspace(1, largest, int(FEATURE_POINTS_PER_DECADE * math.log10(largest)))))
    capacity = np.asarray(width_curve(eta, v2, features.astype(int)).errors)
    low, high = compute[0] / features[-1], compute[-1]
    if low < 1:
        raise ParameterError(f"the smallest budget {compute[0]:g} leaves fewer than one step at N = {largest}; "
                             "use larger budgets or fewer modes.")
    step_grid = np.geomspace(low, high, int(STEP_POINTS_PER_DECADE * max(1.0, math.log10(high / low))) + 2)
    # F underflows to 0 once every mode is learned: floor it so that its log stays finite
    log_descent = np.log(np.maximum(gradient_descent_loss(eta, v2, step_grid, learning_rate), 1e-300))
    best_n, best_loss = [], []
    for budget in compute:
        loss = capacity + np.exp(np.interp(np.log(budget / features), np.log(step_grid), log_descent))
        j = int(np.argmin(loss))
        if j == len(features) - 1:
            raise ParameterError(f"at C = {budget:g} the optimum reaches the largest N the spectrum's {len(eta)} modes "
                                 "allow; give more modes or smaller budgets.")
        best_n.append(float(features[j]))
        best_loss.append(float(loss[j]))
    return Frontier(tuple(float(c) for c in compute), tuple(best_n), tuple(c / n for c, n in zip(compute, best_n)),
                    tuple(best_loss), float(learning_rate))


@dataclasses.dataclass(frozen=True)
class FeatureProblem:
    """One draw of N linear random features of a kernel, as a least-squares problem for SGD.

    Attributes:
      eigenvalues: (N,) ``lam_hat``, the eigenvalues of the features' covariance, descending.
      weight_powers: (N,) the squared components of the best weights w* in that eigenbasis (the initial error of SGD
        from w = 0).
      floor: ``P*``, the loss of w*: the target's part no linear function of these features reaches (in expectation
        over draws, the width curve E_W(N)).
    """

    eigenvalues: np.ndarray
    weight_powers: np.ndarray
    floor: float

    @property
    def initial_loss(self) -> float:
        return float(self.eigenvalues @ self.weight_powers + self.floor)


def linear_random_features(eigenvalues, target_powers, features: int, *, seed: int = 0) -> FeatureProblem:
    """Bahri et al.'s linear random features ``phi = G^T diag(sqrt(lambda)) psi / sqrt(N)`` (G: (M, N) standard
    Gaussian, psi the kernel's eigen-coordinates) for a target ``y = sum_i sign_i sqrt(v_i^2) psi_i`` with random
    signs; shapes (M,), (M,) -> a :class:`FeatureProblem` of N features."""
    eta, v2 = _spectrum(eigenvalues, target_powers)
    if not 1 <= features < len(eta):
        raise ParameterError(f"features must be between 1 and the number of modes {len(eta)} - 1; got {features}.")
    rng = np.random.default_rng(seed)
    projection = rng.standard_normal((len(eta), features)) * np.sqrt(eta)[:, None] / math.sqrt(features)
    coefficients = np.sqrt(v2) * rng.choice([-1.0, 1.0], len(eta))
    return least_squares_problem(projection.T @ projection, projection.T @ coefficients, float(v2.sum()))


def least_squares_problem(covariance: np.ndarray, cross: np.ndarray, target_norm: float) -> FeatureProblem:
    """The :class:`FeatureProblem` of features with ``covariance`` E[phi phi^T] (N, N), ``cross`` E[phi y] (N,)
    and ``target_norm`` E[y^2]: w* = covariance^-1 cross, P* = E[y^2] - cross . w*."""
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    if values[-1] <= 0:
        raise ParameterError("the features' covariance is singular; use fewer features than modes.")
    projected = vectors.T @ cross
    weights = projected / values  # w* in the eigenbasis
    return FeatureProblem(values, weights**2, max(float(target_norm - projected @ weights), 0.0))


def one_pass_sgd_risk(problem: FeatureProblem, steps, *, learning_rate: float, batch: int = 1) -> np.ndarray:
    """The expected population loss after each of ``steps`` steps of one-pass SGD from w = 0 (a fresh batch of
    ``batch`` Gaussian samples each step, step ``gamma = learning_rate``) on ``problem``: exact for Gaussian features.
    With s the expected squared error per eigen-direction (s_0 = ``weight_powers``),

        s_(t+1) = A s_t + c,   A = diag(1 - 2 gamma lam + gamma^2 lam^2 (1 + 1/B)) + (gamma^2 / B) lam lam^T,
        c = (gamma^2 / B) P* lam,   L_t = lam . s_t + P*

    (Isserlis: the diagonal of the error's second moment closes on itself). A is symmetric, so every t comes from
    one eigendecomposition. Shapes: (m,) steps -> (m,) losses."""
    lam, floor, gamma = problem.eigenvalues, problem.floor, float(learning_rate)
    A = np.diag(1 - 2 * gamma * lam + gamma**2 * lam**2 * (1 + 1 / batch)) + (gamma**2 / batch) * np.outer(lam, lam)
    mu, Q = np.linalg.eigh(A)
    if np.max(np.abs(mu)) >= 1:
        raise ParameterError(f"one-pass SGD diverges at learning_rate {gamma:g} with batch {batch} (the error's "
                             f"recursion has a mode of factor {np.max(np.abs(mu)):.4g}); lower the learning rate.")
    start, drive = Q.T @ problem.weight_powers, Q.T @ ((gamma**2 / batch) * floor * lam)
    weights = Q.T @ lam  # L_t = floor + sum_k (lam . Q_k) [mu_k^t start_k + (1 - mu_k^t) / (1 - mu_k) drive_k]
    losses = []
    for t in np.atleast_1d(steps):
        power = mu ** float(t)
        losses.append(floor + float(weights @ (power * start + (1 - power) / (1 - mu) * drive)))
    return np.array(losses)


def _spectrum(eigenvalues, target_powers) -> tuple[np.ndarray, np.ndarray]:
    eta = np.asarray(eigenvalues, dtype=np.float64)
    v2 = np.asarray(target_powers, dtype=np.float64)
    if eta.ndim != 1 or eta.shape != v2.shape or len(eta) < 10:
        raise ParameterError(f"eigenvalues {eta.shape} and target_powers {v2.shape} must be the same 1-d shape, "
                             "with at least 10 modes.")
    if np.any(eta <= 0) or np.any(v2 < 0) or np.any(np.diff(eta) > 0):
        raise ParameterError("eigenvalues must be positive and descending, target powers >= 0.")
    return eta, v2


def _check_decays(a: float, b: float) -> None:
    if not (b > 1 and a > 1):
        raise ParameterError(f"the phases need a kernel decay b > 1 and a target decay a > 1; got a = {a}, b = {b}.")
