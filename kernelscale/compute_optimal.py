"""``allocate --arch --data --compute``: the compute-optimal split of a budget predicted from a sample's spectrum,
without training (issue 27; docs/theory.md, "Compute-optimal allocation").

predict's spectrum of ``kernel`` and its tail fits (b = 1 + alpha_K, a) -> the spectrum continued past the sample by
the fitted power laws (:func:`kernelscale.spectral_allocation.continued_spectrum`) -> the loss surface L(N, s) of N
linear random features of the kernel after s samples (one-pass SGD's exact expected risk, or ridge regression on a
fixed data set of s points trained to convergence) -> its frontier around the budget
(:func:`~kernelscale.spectral_allocation.surface_frontier`) -> :class:`SpectralAllocation`. The intervals are the
frontier's spread over the four corners of the fits' intervals of (b, a), each continuing the same sample.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

import numpy as np

from .architectures import Architecture, as_architecture
from .data import Dataset
from .errors import DataError, ParameterError
from .estimates import Estimate
from .options import validated
from .predict import predict
from .progress import Progress, no_progress
from .results import Prediction, SpectralAllocation
from .spectral_allocation import (CAVEAT, Frontier, continued_spectrum, fixed_data_exponents, fixed_data_phase,
                                  fixed_data_surface, one_pass_sgd_surface, phase, phase_exponents, surface_frontier)
from .spectrum import Spectrum

FRONTIER_DECADES = 1.0  # the predicted frontier spans C / 10 .. 10 C
EXPONENT_DECADES = 0.5  # the local exponents at C are read over C / 10^0.5 .. C 10^0.5
BUDGETS_PER_DECADE = 8
FEATURES_PER_DECADE = 10
SAMPLES_PER_DECADE = 20
SMALLEST_FEATURES = 2
LARGEST_FEATURES = 1024  # the surface's cost grows as its largest N cubed (32 N modes drawn per feature)
# modes of the continued spectrum per feature of the largest N (the fixed-data theory's cost grows with them)
CONTINUED_MODES = {"one-pass-sgd": 256, "fixed-data": 16}
# the closed forms of each regime: (phase, exponents) of (a, b)
CLOSED_FORMS = {"one-pass-sgd": (phase, phase_exponents), "fixed-data": (fixed_data_phase, fixed_data_exponents)}


@dataclasses.dataclass(frozen=True)
class SurfaceModel:
    """What a predicted frontier is computed from: a sample's spectrum, its fitted decays (b, a) and the training.

    ``frontier(budgets)`` continues the spectrum by the central decays, ``frontier(budgets, corner)`` by one corner
    of their intervals; the grid of N grows by doubling until every budget's optimum lies inside it (up to
    :data:`LARGEST_FEATURES`)."""

    spectrum: Spectrum
    kernel_decay: Estimate
    target_decay: Estimate
    regime: str
    learning_rate: float
    batch: int
    draws: int
    seed: int

    def corners(self) -> list[tuple[float, float]]:
        return list(itertools.product(self.kernel_decay.ci, self.target_decay.ci))

    def frontier(self, budgets, corner: tuple[float, float] | None = None, largest: int | None = None,
                 grow: bool = True) -> Frontier:
        """The frontier at ``budgets`` on a grid of N from 2 to ``largest`` (default 64), doubled while some
        budget's optimum leaves it at the top (unless ``grow`` is False)."""
        b, a = corner or (self.kernel_decay.value, self.target_decay.value)
        budgets = np.asarray(budgets, dtype=np.float64)
        largest = largest or 64
        while True:
            features = _log_grid(SMALLEST_FEATURES, largest, FEATURES_PER_DECADE).astype(int)
            samples = _log_grid(1.0, budgets[-1] / SMALLEST_FEATURES, SAMPLES_PER_DECADE)
            surface = self.surface(b, a, features, samples, budgets=(budgets[0], budgets[-1]))
            frontier = surface_frontier(features, samples, surface, budgets)
            if (not grow or all(frontier.inside) or largest >= LARGEST_FEATURES
                    or not _reaches_top(frontier, features)):
                return frontier
            largest *= 2

    def exponents(self, budgets, largest: int, grow: bool = True) -> tuple[Frontier, Estimate, Estimate]:
        """The central frontier at ``budgets`` and its exponents over all of them, with the corners' range as
        their intervals (:func:`exponent_estimates`)."""
        central = self.frontier(budgets, largest=largest, grow=grow)
        corners = [self.frontier(budgets, corner, largest=largest, grow=grow) for corner in self.corners()]
        return (central, *exponent_estimates(central, corners, budgets[0], budgets[-1]))

    def surface(self, b: float, a: float, features: np.ndarray, samples: np.ndarray,
                budgets: tuple[float, float] | None = None) -> np.ndarray:
        """The (p, m) loss surface on the spectrum continued by (b, a). With ``budgets``, the fixed-data theory (a
        root solve per point) is evaluated only where C = N s lies in them (with a grid step to spare), NaN
        elsewhere; one-pass SGD's risk costs the same at every s."""
        modes = max(self.spectrum.n, CONTINUED_MODES[self.regime] * int(features[-1]))
        eigenvalues, powers = continued_spectrum(self.spectrum.eigenvalues, self.spectrum.target_powers,
                                                 kernel_decay=b, target_decay=a, reliable=self.spectrum.n // 4,
                                                 modes=modes)
        if self.regime == "fixed-data":
            surface = np.full((len(features), len(samples)), np.nan)
            margin = 10 ** (1.5 / SAMPLES_PER_DECADE)
            for i, count in enumerate(features):
                needed = ((samples * count >= budgets[0] / margin) & (samples * count <= budgets[1] * margin)
                          if budgets else np.ones(len(samples), dtype=bool))
                if needed.any():
                    surface[i, needed] = fixed_data_surface(eigenvalues, powers, features[i:i + 1],
                                                            samples[needed])[0]
            return surface
        return one_pass_sgd_surface(eigenvalues, powers, features, samples, learning_rate=self.learning_rate,
                                    batch=self.batch, draws=self.draws, seed=self.seed)


def _log_grid(low: float, high: float, per_decade: int) -> np.ndarray:
    count = max(3, int(round(per_decade * math.log10(high / low))) + 1)
    return np.unique(np.round(np.geomspace(low, high, count), 6 if low < 2 else 0))


def _reaches_top(frontier: Frontier, features: np.ndarray) -> bool:
    """Whether some budget's optimum left the grid at its largest N."""
    return any(not ok and n >= features[-1] * (1 - 1e-9) for n, ok in zip(frontier.features, frontier.inside))


def spectrum_decays(prediction: Prediction) -> tuple[Estimate, Estimate]:
    """(b, a): the kernel's decay 1 + alpha_K and the target's a, with intervals; a DataError naming the failed fit
    when either is missing (the frontier needs both)."""
    if prediction.spectrum is None or prediction.spectrum.target_powers is None:
        raise DataError("the compute-optimal frontier needs a target: this data has none (use data with labels or "
                        "target=gp).")
    if prediction.spectrum.solver != "full":
        raise DataError("the compute-optimal frontier needs the whole spectrum; the top-k eigensolver keeps only its "
                        "head. Use a smaller n.")
    for name, fit in (("eigenvalues'", prediction.kernel_fit), ("target's", prediction.target_fit)):
        if fit is None or not fit.ok or fit.exponent.ci is None:
            message = "" if fit is None else f" {fit.message}"
            raise DataError(f"the {name} tail fit gave no exponent, and the frontier continues the spectrum by it:"
                            f"{message}")
    return prediction.alpha_K.shifted(1.0), prediction.target_decay


@validated
def predict_allocation(arch: str | Architecture | tuple, data: str | Dataset, *, compute: float,
                       n_samples: int | None = None, kernel: str = "nngp", regime: str = "one-pass-sgd",
                       learning_rate: float = 0.5, batch: int = 1, draws: int = 8, check: bool = False,
                       check_widths=None, repeats: int = 8, seed: int = 0, device: str | None = None,
                       use_cache: bool = True, progress: Progress = no_progress) -> SpectralAllocation:
    """The compute-optimal model size N*, samples s* and loss L* at budget ``compute`` = N s for N linear random
    features of ``kernel``, predicted from the spectrum of ``n_samples`` points of ``data`` without training.

    Args:
      arch, data, n_samples, kernel, seed, device, use_cache: as :func:`kernelscale.predict` (``kernel`` defaults to
        the NNGP, the kernel of a network's readout features, which ``check`` trains).
      compute: the budget C = N s: features times samples drawn (one-pass SGD: steps x batch; fixed data: the data
        set's size D).
      regime: ``"one-pass-sgd"`` (each step a fresh batch) or ``"fixed-data"`` (trained to convergence, ridge
        tuned per point).
      learning_rate: one-pass SGD's step in kernel units, ``gamma = learning_rate / E k(x, x)``; batch: its batch.
        N*, s* and L* depend on both; the exponents do so only at finite sizes.
      draws: draws of the random features the expected one-pass risk is averaged over.
      check, check_widths, repeats: also measure the frontier by one-pass SGD on the readout features of ``arch``
        at ``check_widths`` (default 8..256), ``repeats`` networks each (:mod:`kernelscale.one_pass`).
    """
    if check and (regime != "one-pass-sgd" or kernel != "nngp"):
        raise ParameterError("check trains a network's readout features by one-pass SGD, whose kernel is the NNGP: "
                             "use regime='one-pass-sgd' and kernel='nngp' (--regime one-pass-sgd --kernel nngp).")
    if check:
        from .one_pass import check_trainable

        check_trainable(data)
    start = time.perf_counter()
    prediction = predict(arch, data, n_samples=n_samples, kernel=kernel, width_kernel=kernel, seed=seed,
                         device=device, use_cache=use_cache, progress=progress)
    kernel_decay, target_decay = spectrum_decays(prediction)
    model = SurfaceModel(prediction.spectrum, kernel_decay, target_decay, regime, learning_rate, batch, draws, seed)
    predicted = predicted_fields(model, compute, progress)
    seconds = time.perf_counter() - start
    measured = None
    if check:
        from .one_pass import DEFAULT_WIDTHS, measure_frontier

        widths = tuple(check_widths or DEFAULT_WIDTHS)
        wide = model.frontier(np.logspace(1, 10, 73), largest=2 * max(widths) + 2, grow=False)
        measured = measure_frontier(as_architecture(arch), data, model=model, predicted=wide, widths=widths,
                                    repeats=repeats, seed=seed, progress=progress)
    return SpectralAllocation(
        arch=prediction.arch, data=prediction.data, kernel=kernel, n=prediction.n, seed=seed, regime=regime,
        compute=float(compute), learning_rate=learning_rate if regime == "one-pass-sgd" else None,
        batch=batch if regime == "one-pass-sgd" else None,
        phase=CLOSED_FORMS[regime][0](target_decay.value, kernel_decay.value),
        kernel_decay=kernel_decay, target_decay=target_decay, trivial_loss=float(prediction.trivial_loss),
        caveat=f"This is {CAVEAT}.", seconds=seconds, check=measured, processes=prediction.processes,
        devices=prediction.devices, **predicted)


def predicted_fields(model: SurfaceModel, compute: float, progress: Progress = no_progress) -> dict:
    """The frontier over C / 10 .. 10 C on the central decays and on the four corners of their intervals, and what
    :class:`SpectralAllocation` reads from them: N*, s*, L* at C, the local exponents over C / 10^0.5 .. C 10^0.5,
    the phase's asymptotic exponents, the notes."""
    budgets = compute * np.logspace(-FRONTIER_DECADES, FRONTIER_DECADES,
                                    int(2 * FRONTIER_DECADES * BUDGETS_PER_DECADE) + 1)
    progress("frontier (central decays)", 0, 5)
    central = model.frontier(budgets)
    _check_inside(central, compute)
    largest = _largest_grid(central)
    corners = []
    for i, corner in enumerate(model.corners()):
        progress("frontier (interval corners)", i + 1, 5)
        corners.append(model.frontier(budgets, corner, largest=largest))
    low, high = compute / 10**EXPONENT_DECADES, compute * 10**EXPONENT_DECADES
    n_exponent, loss_exponent = exponent_estimates(central, corners, low, high)
    n_opt, samples_opt, loss_opt = _optimum_estimates(central, corners, compute)
    b, a = model.kernel_decay.value, model.target_decay.value
    asymptotes = [CLOSED_FORMS[model.regime][1](a, b) for b, a in [(b, a), *model.corners()]]
    return {"n_opt": n_opt, "samples_opt": samples_opt, "loss_opt": loss_opt, "n_exponent": n_exponent,
            "loss_exponent": loss_exponent, "n_exponent_asymptote": _spread([x for x, _ in asymptotes]),
            "loss_exponent_asymptote": _spread([y for _, y in asymptotes]), "frontier": central.inside_only(),
            "exponent_budgets": (float(low), float(high)), "notes": _notes(model.regime, corners),
            **_iso_curves(model, central, largest, budgets[-1])}


def _iso_curves(model: SurfaceModel, central: Frontier, largest: int, top_budget: float) -> dict:
    """The surface at a few N (two per decade, from a third of the smallest N* to the grid's largest) on a grid of
    samples up to the largest budget: the plot's iso-N curves (None where SGD diverges)."""
    smallest = min(n for n, ok in zip(central.features, central.inside) if ok)
    features = _log_grid(max(SMALLEST_FEATURES, smallest / 3), largest, 2).astype(int)
    samples = _log_grid(1.0, top_budget / features[0], SAMPLES_PER_DECADE)
    loss = model.surface(model.kernel_decay.value, model.target_decay.value, features, samples)
    return {"iso_features": tuple(int(n) for n in features), "iso_samples": tuple(samples.tolist()),
            "iso_loss": tuple(tuple(v if math.isfinite(v) else None for v in row) for row in loss.tolist())}


def _check_inside(frontier: Frontier, compute: float) -> None:
    """A ParameterError when the budget's own optimum left the grid of N (2 .. LARGEST_FEATURES), saying by which
    end."""
    inside = [c for c, ok in zip(frontier.compute, frontier.inside) if ok]
    if inside and min(inside) <= compute <= max(inside):
        return
    nearest = int(np.argmin(np.abs(np.log(np.asarray(frontier.compute) / compute))))
    if frontier.features[nearest] <= SMALLEST_FEATURES * (1 + 1e-9):
        advice = f"the optimal model has fewer than {SMALLEST_FEATURES} features: use a larger --compute"
    else:
        advice = (f"the optimal model has more than {LARGEST_FEATURES} features, the largest this prediction "
                  "handles: use a smaller --compute")
    raise ParameterError(f"at C = {compute:g} {advice}.")


def _largest_grid(frontier: Frontier) -> int:
    """The largest N of the corners' grids: twice the central frontier's largest N* (the corners move it little)."""
    top = max(n for n, ok in zip(frontier.features, frontier.inside) if ok)
    return int(min(LARGEST_FEATURES, 16 * math.ceil(2 * top / 16)))


def exponent_estimates(central: Frontier, corners: list[Frontier], low: float, high: float
                       ) -> tuple[Estimate, Estimate]:
    """``(xi, eta)`` of the central frontier over ``[low, high]``, each with the range over the corners' frontiers
    (and the central one) as its interval."""
    values = [central.exponents(low, high)]
    for frontier in corners:
        try:
            values.append(frontier.exponents(low, high))
        except ParameterError:
            continue  # a corner whose optima left the grid adds nothing (the notes say so)
    return (Estimate(values[0][0], (min(v[0] for v in values), max(v[0] for v in values))),
            Estimate(values[0][1], (min(v[1] for v in values), max(v[1] for v in values))))


def _optimum_estimates(central: Frontier, corners: list[Frontier], compute: float) -> tuple[Estimate, ...]:
    """N*, s* and L* at ``compute`` (interpolated in log C along each frontier), with the corners' range."""
    def at(frontier: Frontier) -> np.ndarray | None:
        keep = np.array(frontier.inside)
        if keep.sum() < 2:
            return None
        log_c = np.log(np.asarray(frontier.compute)[keep])
        return np.exp([np.interp(math.log(compute), log_c, np.log(np.asarray(values)[keep]))
                       for values in (frontier.features, frontier.samples, frontier.loss)])

    rows = [row for row in map(at, [central, *corners]) if row is not None]
    return tuple(Estimate(rows[0][i], (min(r[i] for r in rows), max(r[i] for r in rows))) for i in range(3))


def _spread(values: list[float]) -> Estimate:
    return Estimate(values[0], (min(values), max(values)))


def _notes(regime: str, corners: list[Frontier]) -> tuple[str, ...]:
    notes = []
    if regime == "one-pass-sgd":
        notes.append("N*, s* and L* depend on the learning rate and batch (gamma = learning_rate / E k(x, x)); the "
                     "exponents only at finite sizes.")
    else:
        notes.append("fixed data: compute C = N D counts one pass over the data set per unit; training to "
                     "convergence costs a constant factor more, which moves N* and D*, not the exponents.")
    if not all(all(f.inside) for f in corners):
        notes.append("at some corners of the fits' intervals the optimum left the grid of N at some budgets: the "
                     "intervals span the corners that stayed inside.")
    return tuple(notes)
