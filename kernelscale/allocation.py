"""Compute-optimal allocation: the loss model ``L(N, D) = E + A / N^alpha + B / D^beta`` under a compute budget.

Cost model ``C = k N^p D^q`` (:class:`CostModel`; Chinchilla's ``6 N D`` is ``k = 6, p = q = 1``). Minimising L on
the constraint (Lagrange) gives closed forms (Hoffmann et al., arXiv 2203.15556, eq. 4, generalised to p, q):

    N_opt = G (C / k)^a,   D_opt = (C / (k N_opt^p))^(1/q),
    a = beta / (q alpha + p beta),   b = alpha / (q alpha + p beta),
    G = (q alpha A / (p beta B))^(q / (q alpha + p beta)).

For p = q = 1: ``a = beta / (alpha + beta)``, ``b = alpha / (alpha + beta)``, ``G = (alpha A / (beta B))^(1/(alpha +
beta))``. When alpha = beta (the duality of random-feature models, exact when the target's powers follow the kernel's
eigenvalues; docs/theory.md, "Width") a = b = 1/2: N_opt and D_opt grow in proportion,
``D_opt / N_opt = (B / A)^(1/alpha)``,
the linear relation of Jeon & Van Roy (arXiv 2212.01365).

:func:`fit_loss_model` fits the five parameters to losses measured on a grid of (N, D) with a bootstrap over
repeats.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .errors import DataError
from .options import validated
from .random import generator
from .results import Allocation, CostModel, LossModel, LossModelFit


@validated
def compute_optimal(model: LossModel, compute: float, cost: CostModel = CostModel()) -> Allocation:
    """N_opt(C), D_opt(C) minimising ``model.loss`` subject to ``cost.compute(N, D) = compute`` (closed form)."""
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
    rng = generator(seed, "loss_model_bootstrap")
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


@validated
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
