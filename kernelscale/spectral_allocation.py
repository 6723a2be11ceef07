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
from .theory import local_exponent, random_feature_curve, width_curve

CAVEAT = ("the random-feature (lazy) baseline: networks that learn features scaled better than it (Bordelon, "
          "Atanasov, Pehlevan 2024, arXiv 2409.17858)")
STEP_POINTS_PER_DECADE = 50  # F(t) is tabulated on this log grid of t and interpolated in log-log between
FEATURE_POINTS_PER_DECADE = 100  # the N grid the frontier minimises over
MODES_PER_FEATURE = 16  # modes drawn explicitly into the features' covariance, per feature of the largest model
VERTEX_WINDOW = 0.4  # decades of N either side of the grid minimum that the frontier's parabola is fitted over
RIDGES = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1)  # the fixed-data ridge grid, in units of the kernel's trace


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


def fixed_data_phase(a: float, b: float) -> str:
    """The regime of ridge regression on random features trained to convergence on a fixed data set: ``"hard"``
    (a - 1 <= b: model size and data limit the loss at the same rate), ``"intermediate"`` (b < a - 1 <= 2b: the
    model size's exponent saturates at b) or ``"easy"`` (a - 1 > 2b: the data's saturates at 2b too)."""
    _check_decays(a, b)
    if a - 1 <= b:
        return "hard"
    return "intermediate" if a - 1 <= 2 * b else "easy"


def fixed_data_exponents(a: float, b: float) -> tuple[float, float]:
    """``(xi, eta)`` of a fixed data set trained to convergence, C = N D: with alpha_N = min(a - 1, b) and
    beta_D = min(a - 1, 2b) (the width and data exponents), ``N* ~ C^(beta_D / (alpha_N + beta_D))`` and
    ``L* ~ C^-(alpha_N beta_D / (alpha_N + beta_D))`` (1/2 and (a - 1)/2 in the hard regime)."""
    _check_decays(a, b)
    alpha_n, beta_d = min(a - 1, b), min(a - 1, 2 * b)
    return beta_d / (alpha_n + beta_d), alpha_n * beta_d / (alpha_n + beta_d)


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
    """The compute-optimal frontier: for each budget C, the model size N* and the samples s* = C / N* that minimise
    the loss, and the loss L* there.

    Attributes:
      compute: (m,) budgets C = N s, increasing (s: samples drawn, steps x batch in one-pass SGD; the data set's
        size with a fixed data set).
      features, samples, loss: (m,) N*, s* and L* at each budget (where the optimum left the grid: the N of the
        edge it left by, and NaN).
      inside: (m,) whether the optimum lies inside the grid of N (and its samples inside the grid of s).
    """

    compute: tuple[float, ...]
    features: tuple[float, ...]
    samples: tuple[float, ...]
    loss: tuple[float, ...]
    inside: tuple[bool, ...] = ()

    def exponents(self, low: float | None = None, high: float | None = None) -> tuple[float, float]:
        """``(xi, eta)``: the least-squares log-log slopes of N* and of 1/L* against C over the budgets in
        ``[low, high]`` whose optimum lies inside the grid (at least 3)."""
        compute, features, loss = self._inside(low, high)
        return local_exponent(compute, 1.0 / features), local_exponent(compute, loss)

    def inside_only(self) -> Frontier:
        """The budgets whose optimum lies inside the grid."""
        keep = [i for i, ok in enumerate(self.inside or [True] * len(self.compute)) if ok]
        return Frontier(*(tuple(getattr(self, name)[i] for i in keep)
                          for name in ("compute", "features", "samples", "loss")), inside=(True,) * len(keep))

    def _inside(self, low, high) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        keep = np.array(self.inside or [True] * len(self.compute), dtype=bool)
        compute = np.asarray(self.compute)
        keep &= (compute >= (low or 0.0) * (1 - 1e-12)) & (compute <= (high or np.inf) * (1 + 1e-12))
        if keep.sum() < 3:
            raise ParameterError(f"only {int(keep.sum())} budgets have their optimum inside the grid of model sizes "
                                 "and samples; at least 3 are needed for an exponent.")
        return compute[keep], np.asarray(self.features)[keep], np.asarray(self.loss)[keep]


def surface_frontier(features, samples, loss, compute) -> Frontier:
    """The frontier of a loss surface tabulated on a grid: at each budget C, ``log L(N, C / N)`` along each row N
    (interpolated linearly in log s; NaN outside the row's samples), minimised over N and refined by the parabola
    through the three grid points around the minimum in log N.

    Args:
      features: (p,) model sizes N, increasing; samples: (m,) samples s, increasing.
      loss: (p, m) positive losses L(N, s) (NaN where not measured).
      compute: budgets C, increasing.
    """
    features, samples = np.asarray(features, dtype=np.float64), np.asarray(samples, dtype=np.float64)
    log_loss = np.log(np.asarray(loss, dtype=np.float64))
    compute = np.asarray(compute, dtype=np.float64)
    if log_loss.shape != (len(features), len(samples)) or len(features) < 3:
        raise ParameterError(f"loss must have shape (len(features), len(samples)) with at least 3 model sizes; got "
                             f"{log_loss.shape} for {len(features)} x {len(samples)}.")
    if np.any(np.diff(compute) <= 0):
        raise ParameterError(f"compute must be increasing; got {compute.tolist()}.")
    log_n, log_s = np.log(features), np.log(samples)
    rows = []
    for budget in compute:
        at = np.log(budget) - log_n
        row = np.array([np.interp(x, log_s, y, left=np.nan, right=np.nan) for x, y in zip(at, log_loss)])
        rows.append(_refined_minimum(log_n, row))
    best_n, best_loss, inside = (np.array(column) for column in zip(*rows))
    return Frontier(tuple(compute.tolist()), tuple(best_n.tolist()), tuple((compute / best_n).tolist()),
                    tuple(best_loss.tolist()), tuple(bool(v) for v in inside))


def _refined_minimum(log_n: np.ndarray, row: np.ndarray) -> tuple[float, float, bool]:
    """(N*, L*, inside) of one budget's row of log L over log N: the vertex of the least-squares parabola through the
    grid minimum and its two neighbours on each side (one where the row ends; it smooths the draws' noise of a flat
    minimum); (the N of that edge, NaN, False) when the minimum is at an edge of the row's finite values."""
    row = np.where(np.isfinite(row), row, np.nan)  # a diverged N (infinite loss) is no candidate
    if np.all(np.isnan(row)):
        return math.nan, math.nan, False
    j = int(np.nanargmin(row))
    if j == 0 or j == len(row) - 1 or np.isnan(row[j - 1]) or np.isnan(row[j + 1]):
        return math.exp(log_n[j]), math.nan, False
    near = np.isfinite(row) & (np.abs(log_n - log_n[j]) <= VERTEX_WINDOW * math.log(10))
    x, y = log_n[near], row[near]
    coefficients = np.polyfit(x, y, 2)
    vertex = -coefficients[1] / (2 * coefficients[0]) if coefficients[0] > 0 else log_n[j]
    vertex = float(np.clip(vertex, x[0], x[-1]))
    return math.exp(vertex), math.exp(float(np.polyval(coefficients, vertex))), True


def one_pass_frontier(eigenvalues, target_powers, compute, *, learning_rate: float = 1.0) -> Frontier:
    """N*, s* and L* minimising the additive loss ``E_W(N) + F(C / N)`` at each budget of ``compute`` (increasing),
    over N on a log grid of :data:`FEATURE_POINTS_PER_DECADE` points per decade from 1 to a tenth of the modes
    (batch 1: samples are steps).

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
    descent = np.maximum(gradient_descent_loss(eta, v2, step_grid, learning_rate), 1e-300)
    frontier = surface_frontier(features, step_grid, capacity[:, None] + descent[None, :], compute)
    if not all(frontier.inside):
        raise ParameterError(f"at C = {compute[~np.array(frontier.inside)][0]:g} the optimum reaches the largest N "
                             f"the spectrum's {len(eta)} modes allow; give more modes or smaller budgets.")
    return frontier


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


def one_pass_sgd_surface(eigenvalues, target_powers, features, samples, *, learning_rate: float, batch: int = 1,
                         draws: int = 2, seed: int = 0) -> np.ndarray:
    """The expected loss of one-pass SGD on N linear random features of the spectrum after s samples, for each N of
    ``features`` and s of ``samples``: :func:`one_pass_sgd_risk` averaged over ``draws`` draws of the features
    (within a draw the N features are the first N columns of one Gaussian matrix, so the surface is smooth in N).

    ``learning_rate`` is in kernel units: the step is ``gamma = learning_rate / sum(lambda)``, ``sum(lambda)`` the
    kernel's trace ``E k(x, x)`` (= E |phi|^2 of the features). Modes past ``MODES_PER_FEATURE`` times the largest N
    enter the features' covariance as the isotropic ``sum_(i > M) lambda_i / N`` (their law of large numbers) and
    the floor through the target mass they hold. Where SGD diverges for some draw (a small N, whose features' top
    eigenvalue fluctuates far above the kernel's), the loss is infinite: no optimum lies there. Shapes: (M,), (M,),
    (p,), (m,) -> (p, m).
    """
    eta, v2 = _spectrum(eigenvalues, target_powers)
    features = np.asarray(features, dtype=np.int64)
    if features.ndim != 1 or np.any(np.diff(features) <= 0) or features[0] < 1 or features[-1] >= len(eta):
        raise ParameterError(f"features must be increasing counts between 1 and the {len(eta)} modes; got "
                             f"{features.tolist()}.")
    head = min(len(eta), MODES_PER_FEATURE * int(features[-1]))
    tail_trace = float(eta[head:].sum())
    gamma = learning_rate / float(eta.sum())
    steps = np.asarray(samples, dtype=np.float64) / batch
    surface = np.zeros((len(features), len(steps)))
    for draw in range(draws):
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), draw]))
        gaussian = rng.standard_normal((head, int(features[-1])))
        coefficients = np.sqrt(v2[:head]) * rng.choice([-1.0, 1.0], head)
        gram = gaussian.T @ (eta[:head, None] * gaussian)
        cross = gaussian.T @ (np.sqrt(eta[:head]) * coefficients)
        for i, count in enumerate(features):
            covariance = gram[:count, :count] / count + np.eye(count) * (tail_trace / count)
            problem = least_squares_problem(covariance, cross[:count] / math.sqrt(count), float(v2.sum()))
            try:
                surface[i] += one_pass_sgd_risk(problem, steps, learning_rate=gamma, batch=batch)
            except ParameterError:  # this draw's top eigenvalue is too large for the step: SGD diverges
                surface[i] = np.inf
    return surface / draws


def fixed_data_surface(eigenvalues, target_powers, features, sizes, *, ridges=None) -> np.ndarray:
    """The test loss of ridge regression on N linear random features of the spectrum trained to convergence on D
    samples (:func:`kernelscale.theory.random_feature_curve`), the ridge tuned per (N, D) over ``ridges`` (default
    :data:`RIDGES`, relative to the kernel's trace). Shapes: (M,), (M,), (p,), (m,) -> (p, m)."""
    eta, v2 = _spectrum(eigenvalues, target_powers)
    trace = float(eta.sum())
    ridges = RIDGES if ridges is None else tuple(ridges)
    surface = np.full((len(features), len(sizes)), np.inf)
    for ridge in ridges:
        for i, count in enumerate(features):
            errors = random_feature_curve(eta, v2, features=float(count), sizes=np.asarray(sizes, dtype=np.float64),
                                          ridge=ridge * trace)
            surface[i] = np.minimum(surface[i], errors)
    return surface


def continued_spectrum(eigenvalues, target_powers, *, kernel_decay: float, target_decay: float, reliable: int,
                       modes: int) -> tuple[np.ndarray, np.ndarray]:
    """A sample's spectrum up to index ``reliable``, continued to ``modes`` modes by the fitted power laws
    ``lambda_i ~ i^-b`` (b = ``kernel_decay``) and ``v_i^2 ~ i^-a`` (a = ``target_decay``), each anchored on the
    mean of ``lambda_i i^b`` (``v_i^2 i^a``) over the last octave before ``reliable``. Shapes: (n,), (n,) ->
    (modes,), (modes,)."""
    eta, v2 = _spectrum(eigenvalues, target_powers)
    if not 16 <= reliable <= len(eta) or modes < reliable:
        raise ParameterError(f"reliable must lie in 16..{len(eta)} and modes >= reliable; got {reliable}, {modes}.")
    octave = np.arange(reliable // 2, reliable) + 1.0
    index = np.arange(reliable + 1, modes + 1, dtype=np.float64)
    eta_tail = np.mean(eta[reliable // 2:reliable] * octave**kernel_decay) * index**-kernel_decay
    v2_tail = np.mean(v2[reliable // 2:reliable] * octave**target_decay) * index**-target_decay
    continued = np.minimum.accumulate(np.concatenate([eta[:reliable], eta_tail]))
    return continued, np.concatenate([v2[:reliable], v2_tail])


def mean_over_repeats(losses) -> np.ndarray:
    """(p, m, r) losses -> (p, m) their mean over the repeats; NaN where any repeat has none (every repeat of a
    model size trains as long, so only a diverged run leaves a gap its size's mean must not paper over)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(losses, dtype=np.float64).mean(axis=2)


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
