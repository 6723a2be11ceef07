"""Compute-optimal allocation: the loss model ``L(N, D) = E + A / N^alpha + B / D^beta`` under a compute budget.

Cost model ``C = k N^p D^q`` (:class:`CostModel`; Chinchilla's ``6 N D`` is ``k = 6, p = q = 1``). Minimising L on
the constraint (Lagrange) gives closed forms (Hoffmann et al., arXiv 2203.15556, eq. 4, generalised to p, q):

    N_opt = G (C / k)^a,   D_opt = (C / (k N_opt^p))^(1/q),
    a = beta / (q alpha + p beta),   b = alpha / (q alpha + p beta),
    G = (q alpha A / (p beta B))^(q / (q alpha + p beta)).

For p = q = 1: ``a = beta / (alpha + beta)``, ``b = alpha / (alpha + beta)``, ``G = (alpha A / (beta B))^(1/(alpha +
beta))``. When alpha = beta (the duality of random-feature models, exact when the target's powers follow the kernel's
eigenvalues; THEORY.md 1b) a = b = 1/2: N_opt and D_opt grow in proportion, ``D_opt / N_opt = (B / A)^(1/alpha)``,
the linear relation of Jeon & Van Roy (arXiv 2212.01365).

:func:`fit_loss_model` fits the five parameters to losses measured on a grid of (N, D) with a bootstrap over
repeats.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .errors import DataError
from ._json import JsonResult
from .specs import parse_spec

COST_SCHEMAS = {
    "6nd": {},
    "nd": {},
    "power": {"k": 6.0, "p": 1.0, "q": 1.0},
}
_PRESETS = {"6nd": (6.0, 1.0, 1.0), "nd": (1.0, 1.0, 1.0)}


@dataclasses.dataclass(frozen=True)
class CostModel(JsonResult):
    """Compute ``C = k N^p D^q`` of training a model with N parameters on D examples."""

    k: float = 6.0
    p: float = 1.0
    q: float = 1.0

    def __post_init__(self):
        for name in ("k", "p", "q"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise DataError(f"cost model: {name} must be a finite number > 0; got {value!r}.")

    @classmethod
    def parse(cls, spec: str) -> CostModel:
        """``"6nd"`` (default, Chinchilla), ``"nd"``, or ``"power:k=2,p=2,q=1"`` (e.g. least squares on N features)."""
        name, options = parse_spec(spec, COST_SCHEMAS, what="cost model")
        return cls(*_PRESETS[name]) if name in _PRESETS else cls(options["k"], options["p"], options["q"])

    def compute(self, n: float, d: float) -> float:
        return self.k * n**self.p * d**self.q

    def describe(self) -> str:
        return f"C = {self.k:g} N^{self.p:g} D^{self.q:g}"


@dataclasses.dataclass(frozen=True)
class LossModel(JsonResult):
    """``L(N, D) = E + A / N^alpha + B / D^beta``; E >= 0, A, B, alpha, beta > 0."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float

    def __post_init__(self):
        check_loss_model(self.E, self.A, self.B, self.alpha, self.beta)

    def loss(self, n, d):
        n, d = np.asarray(n, dtype=np.float64), np.asarray(d, dtype=np.float64)
        return self.E + self.A / n**self.alpha + self.B / d**self.beta


def check_loss_model(E, A, B, alpha, beta) -> None:
    """Raise DataError naming each parameter that makes the optimum undefined."""
    problems = []
    if not (_finite(E) and E >= 0):
        problems.append(f"E = {E!r} (irreducible loss; needs a finite number >= 0)")
    for name, value in (("A", A), ("B", B)):
        if not (_finite(value) and value > 0):
            problems.append(f"{name} = {value!r} (needs a finite number > 0; with {name} <= 0 that term never "
                            "limits the loss and the optimum puts all compute on the other)")
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not (_finite(value) and value > 0):
            problems.append(f"{name} = {value!r} (needs a finite exponent > 0; with {name} <= 0 more of that "
                            "resource never lowers the loss, so no finite optimum exists)")
    if problems:
        raise DataError("loss model L = E + A/N^alpha + B/D^beta is not usable: " + "; ".join(problems) + ".")


def _finite(value) -> bool:
    return isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value)


@dataclasses.dataclass(frozen=True)
class Allocation(JsonResult):
    """The compute-optimal split of one budget.

    Attributes:
      compute: the budget C; cost: the cost model.
      n_opt, d_opt: the optimal model size N and data size D; loss_opt = L(n_opt, d_opt).
      a, b: exponents of ``N_opt ~ C^a``, ``D_opt ~ C^b``.
      G: the prefactor of ``N_opt = G (C/k)^a``.
      tokens_per_parameter: d_opt / n_opt.
      explanation: what the exponents mean (the duality case alpha = beta included).
      model: the loss model used.
      ci: 95% intervals of n_opt, d_opt, a, b when the model was fitted to measured losses (else empty).
      model_ci: 95% intervals of the model's parameters when fitted (else empty).
      fit: the fit to measured losses, or None when the parameters were given.
    """

    compute: float
    cost: CostModel
    n_opt: float
    d_opt: float
    loss_opt: float
    a: float
    b: float
    G: float
    tokens_per_parameter: float
    explanation: str
    model: LossModel
    ci: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)
    model_ci: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)
    fit: LossModelFit | None = None


def compute_optimal(model: LossModel, compute: float, cost: CostModel = CostModel()) -> Allocation:
    """N_opt(C), D_opt(C) minimising ``model.loss`` subject to ``cost.compute(N, D) = compute`` (closed form)."""
    if not (_finite(compute) and compute > 0):
        raise DataError(f"compute must be a finite number > 0 (FLOPs, or the cost model's units); got {compute!r}.")
    k, p, q = cost.k, cost.p, cost.q
    denominator = q * model.alpha + p * model.beta
    a, b = model.beta / denominator, model.alpha / denominator
    G = (q * model.alpha * model.A / (p * model.beta * model.B)) ** (q / denominator)
    n_opt = G * (compute / k) ** a
    d_opt = (compute / (k * n_opt**p)) ** (1 / q)
    return Allocation(compute=float(compute), cost=cost, n_opt=float(n_opt), d_opt=float(d_opt),
                      loss_opt=float(model.loss(n_opt, d_opt)), a=float(a), b=float(b), G=float(G),
                      tokens_per_parameter=float(d_opt / n_opt), explanation=explain(model, cost, a, b, d_opt / n_opt),
                      model=model)


def explain(model: LossModel, cost: CostModel, a: float, b: float, ratio: float) -> str:
    """What the exponents say; ``ratio`` is D_opt / N_opt."""
    text = f"N_opt ~ C^{a:.4f} and D_opt ~ C^{b:.4f} ({cost.describe()}). "
    if math.isclose(model.alpha, model.beta, rel_tol=1e-9):
        return text + ("alpha = beta (the duality of random-feature models when the target follows the kernel): a = b, "
                       "so N_opt and D_opt grow in fixed "
                       f"proportion, D_opt / N_opt = {ratio:.4g} at every budget: the linear relation Jeon & Van "
                       "Roy derive.")
    larger = "model size N" if model.beta > model.alpha else "data D"
    return text + (f"alpha = {model.alpha:.4g} {'<' if model.alpha < model.beta else '>'} beta = {model.beta:.4g}: "
                   f"the resource with the smaller exponent is the bottleneck, so more of each extra unit of compute "
                   f"goes to {larger}.")


def frontier(model: LossModel, computes, cost: CostModel = CostModel()) -> np.ndarray:
    """Optimal loss L(N_opt(C), D_opt(C)) for each budget, shape (len(computes),)."""
    return np.array([compute_optimal(model, c, cost).loss_opt for c in computes])


# ---------------------------------------------------------------------------------------------------- fitting


@dataclasses.dataclass(frozen=True)
class LossModelFit(JsonResult):
    """A loss model fitted to a measured grid.

    Attributes:
      model: the fit to the mean loss over repeats.
      ci: 95% percentile bootstrap interval (over repeats) of each parameter, keyed ``E, A, B, alpha, beta``.
      n_values (m,), d_values (k,): the grid; losses (m, k, repeats): the measured losses.
      rms_log_residual: root-mean-square of ``log L_fit - log L_measured`` over the grid.
      bootstrap: the models fitted to resampled repeats (resamples that failed to fit are left out).
      source: what produced the grid (architecture, data, sample, ridge, widths...), empty for a user's grid.
    """

    model: LossModel
    ci: dict[str, tuple[float, float]]
    n_values: tuple[float, ...]
    d_values: tuple[float, ...]
    losses: tuple[tuple[tuple[float, ...], ...], ...]
    rms_log_residual: float
    bootstrap: tuple[LossModel, ...]
    source: dict[str, Any] = dataclasses.field(default_factory=dict)


_PARAMETERS = ("E", "A", "B", "alpha", "beta")
MIN_GRID = 3  # distinct values of N and of D
_LOWER = np.array([-50.0, -50.0, -50.0, 1e-4, 1e-4])  # bounds on theta: exponents in (0, 5]
_UPPER = np.array([50.0, 100.0, 100.0, 5.0, 5.0])


def _fit_mean(n_grid: np.ndarray, d_grid: np.ndarray, loss: np.ndarray, start: np.ndarray | None = None
              ) -> np.ndarray | None:
    """Least squares in log L over theta = (log E, log A, log B, alpha, beta) from ``start``, or from a few starting
    points when None; the best theta, or None when no start converged."""
    from scipy import optimize  # 0.5 s to import: only when a loss model is fitted

    log_loss = np.log(loss)

    def residual(theta):
        log_e, log_a, log_b, alpha, beta = theta
        terms = np.stack([np.full_like(n_grid, log_e), log_a - alpha * np.log(n_grid), log_b - beta * np.log(d_grid)])
        return (np.logaddexp.reduce(terms, axis=0) - log_loss).ravel()

    best = None
    floor, top = np.log(loss.min()), np.log(loss.max())
    starts = [start] if start is not None else [np.array([e, top, top, exponent, exponent])
                                                 for e in (floor - 6.0, floor - 1.0, floor - 0.1)
                                                 for exponent in (0.2, 0.6)]
    for first in starts:
        result = optimize.least_squares(residual, first, bounds=(_LOWER, _UPPER), method="trf")
        if result.success and (best is None or result.cost < best.cost):
            best = result
    return None if best is None else best.x


def fit_loss_model(n_values, d_values, losses, *, n_boot: int = 200, seed: int = 0) -> LossModelFit:
    """Fit ``L(N, D) = E + A/N^alpha + B/D^beta`` to losses on a grid.

    Args:
      n_values: (m,) model sizes N (e.g. feature counts P), at least 3 distinct.
      d_values: (k,) data sizes D, at least 3 distinct.
      losses: (m, k, repeats) positive losses; the fit is to their mean over repeats, in log space (Hoffmann et al.
        fit log L with a Huber loss; plain least squares here), and the interval resamples the repeats.
    """
    n_values = np.asarray(n_values, dtype=np.float64)
    d_values = np.asarray(d_values, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim == 2:
        losses = losses[..., None]
    if losses.shape[:2] != (len(n_values), len(d_values)):
        raise DataError(f"losses must have shape (len(n_values), len(d_values), repeats) = ({len(n_values)}, "
                        f"{len(d_values)}, r); got {losses.shape}.")
    if len(set(n_values)) < MIN_GRID or len(set(d_values)) < MIN_GRID:
        raise DataError(f"the grid is too small to fit 5 parameters: need at least {MIN_GRID} distinct N and "
                        f"{MIN_GRID} distinct D; got N = {n_values.tolist()}, D = {d_values.tolist()}.")
    if np.any(n_values <= 0) or np.any(d_values <= 0):
        raise DataError("grid values N and D must be > 0.")
    if not np.all(np.isfinite(losses)) or np.any(losses <= 0):
        raise DataError("losses must be finite and > 0 to fit a power-law loss model in log space.")
    n_grid, d_grid = np.meshgrid(n_values, d_values, indexing="ij")
    theta = _fit_mean(n_grid, d_grid, losses.mean(axis=2))
    if theta is None:
        raise DataError("the loss model did not converge on this grid; check that the losses fall with both N "
                        "and D, or widen the grid.")
    model = _model(theta)
    residual = np.log(model.loss(n_grid, d_grid)) - np.log(losses.mean(axis=2))
    rng = np.random.default_rng(seed)
    repeats = losses.shape[2]
    bootstrap = []
    for _ in range(n_boot if repeats >= 2 else 0):
        boot = _fit_mean(n_grid, d_grid, losses[:, :, rng.integers(0, repeats, repeats)].mean(axis=2), theta)
        if boot is not None:
            bootstrap.append(_model(boot))
    samples = np.array([[getattr(m, name) for name in _PARAMETERS] for m in bootstrap]).reshape(-1, 5)
    ci = {name: (float(np.percentile(samples[:, i], 2.5)), float(np.percentile(samples[:, i], 97.5)))
          for i, name in enumerate(_PARAMETERS)} if len(samples) else {}
    return LossModelFit(model=model, ci=ci, n_values=tuple(n_values.tolist()), d_values=tuple(d_values.tolist()),
                        losses=tuple(tuple(tuple(float(v) for v in cell) for cell in row) for row in losses),
                        rms_log_residual=float(np.sqrt(np.mean(residual**2))), bootstrap=tuple(bootstrap))


def _model(theta: np.ndarray) -> LossModel:
    return LossModel(E=float(np.exp(theta[0])), A=float(np.exp(theta[1])), B=float(np.exp(theta[2])),
                     alpha=float(theta[3]), beta=float(theta[4]))


def allocate(compute: float, model: LossModel | LossModelFit, cost: CostModel = CostModel()) -> Allocation:
    """The compute-optimal allocation of ``compute``; with a :class:`LossModelFit`, with intervals from its bootstrap."""
    if isinstance(model, LossModel):
        return compute_optimal(model, compute, cost)
    allocation = compute_optimal(model.model, compute, cost)
    explanation = allocation.explanation
    n_range, d_range = (min(model.n_values), max(model.n_values)), (min(model.d_values), max(model.d_values))
    if not (n_range[0] <= allocation.n_opt <= n_range[1] and d_range[0] <= allocation.d_opt <= d_range[1]):
        explanation += (f" The optimum lies outside the measured grid (N {n_range[0]:g}..{n_range[1]:g}, D "
                        f"{d_range[0]:g}..{d_range[1]:g}): it extrapolates the fitted power laws.")
    return dataclasses.replace(allocation, ci=allocation_interval(model, compute, cost), model_ci=model.ci, fit=model,
                               explanation=explanation)


def allocation_interval(fit: LossModelFit, compute: float, cost: CostModel = CostModel()
                        ) -> dict[str, tuple[float, float]]:
    """95% intervals of n_opt, d_opt, a, b over the fit's bootstrap models (empty without repeats)."""
    if not fit.bootstrap:
        return {}
    allocations = [compute_optimal(m, compute, cost) for m in fit.bootstrap]
    rows = np.array([[al.n_opt, al.d_opt, al.a, al.b] for al in allocations])
    return {name: (float(np.percentile(rows[:, i], 2.5)), float(np.percentile(rows[:, i], 97.5)))
            for i, name in enumerate(("n_opt", "d_opt", "a", "b"))}
