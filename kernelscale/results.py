"""Frozen result dataclasses with a JSON round trip: ``Prediction.from_dict(p.to_dict()) == p``."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .fit import CurveFit, TailFit
from .spectrum import Spectrum


def _plain(value: Any) -> Any:
    """Tuples -> lists, numpy scalars -> Python numbers, nested dataclasses -> dicts."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.metadata.get("json", True)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "item"):
        return value.item()
    return value


def _tailfit_from_dict(data: dict | None) -> TailFit | None:
    if data is None:
        return None
    tuples = {"ci", "window", "usable", "local_indices", "local_exponents"}
    return TailFit(**{k: (tuple(v) if k in tuples and v is not None else v) for k, v in data.items()})


@dataclasses.dataclass(frozen=True)
class Prediction:
    """Predicted resolution-limited exponents of one architecture on one data sample.

    Exponents are of ``L - L_inf ~ x^-alpha``. Intervals are ``(low, high)``; any exponent may be None when its
    fit failed (see ``status`` and ``message``).

    Attributes:
      arch, data, kernel, n, seed: what was predicted.
      alpha_K, alpha_K_ci: kernel exponent, ``lambda_i ~ i^-(1 + alpha_K)``.
      target_decay, target_decay_ci: ``a`` in ``v_i^2 ~ i^-a`` (None without a target).
      alpha_D_kernel_only (= alpha_K, duality) and alpha_D_task_aware (= min(a - 1, 2 b)), with intervals.
      alpha_D, alpha_D_ci, alpha_D_basis: the estimate kernelscale recommends ("task-aware" or "kernel-only").
      alpha_W, alpha_W_ci: width exponent by duality (``alpha_W = alpha_D`` for random-feature models).
      recommendation: why ``alpha_D_basis`` was chosen.
      fit_window: (first, last) 1-based eigen-indices of the alpha_K fit.
      kernel_fit, target_fit: the full fits with diagnostics.
      status: "ok", "not_converged", "not_power_law" or "too_few_eigenvalues" (of the alpha_K fit).
      device, seconds, kernel_seconds, eigh_seconds, from_cache: where and how long.
      spectrum: the :class:`Spectrum` (kept for plots; not serialized).
    """

    arch: str
    data: str
    kernel: str
    n: int
    seed: int
    alpha_K: float | None
    alpha_K_ci: tuple[float, float] | None
    target_decay: float | None
    target_decay_ci: tuple[float, float] | None
    alpha_D_kernel_only: float | None
    alpha_D_kernel_only_ci: tuple[float, float] | None
    alpha_D_task_aware: float | None
    alpha_D_task_aware_ci: tuple[float, float] | None
    alpha_D: float | None
    alpha_D_ci: tuple[float, float] | None
    alpha_D_basis: str
    alpha_W: float | None
    alpha_W_ci: tuple[float, float] | None
    recommendation: str
    fit_window: tuple[int, int] | None
    kernel_fit: TailFit
    target_fit: TailFit | None
    status: str
    message: str
    device: str
    seconds: float
    kernel_seconds: float
    eigh_seconds: float
    from_cache: bool
    spectrum: Spectrum | None = dataclasses.field(default=None, repr=False, compare=False, metadata={"json": False})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field except ``spectrum``."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "spectrum"}

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Prediction:
        names = {f.name for f in dataclasses.fields(cls)} - {"spectrum"}
        values = {k: data[k] for k in names}
        for key in ("alpha_K_ci", "target_decay_ci", "alpha_D_kernel_only_ci", "alpha_D_task_aware_ci",
                    "alpha_D_ci", "alpha_W_ci", "fit_window"):
            if values[key] is not None:
                values[key] = tuple(values[key])
        values["kernel_fit"] = _tailfit_from_dict(values["kernel_fit"])
        values["target_fit"] = _tailfit_from_dict(values["target_fit"])
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> Prediction:
        return cls.from_dict(json.loads(text))


def _tuple(value):
    return None if value is None else tuple(value)


@dataclasses.dataclass(frozen=True)
class Curve:
    """One measured scaling curve and its fitted exponent.

    Attributes:
      regime: ``"data"``, ``"width"``, ``"data_variance"`` or ``"width_variance"`` (see :mod:`kernelscale.measurements`).
      x_name: ``"D"`` (training-set size) or ``"width"``.
      x: (m,) the sizes or widths.
      features: (m,) feature counts P for width-type curves (P at the fixed width for ``data_variance``), else None.
      losses: (m, repeats) test MSE.
      limits: (repeats,) loss at infinite x subtracted in the variance-limited regimes, else None.
      fit: the exponent of ``loss - limit ~ x^-exponent`` with its bootstrap interval.
      expected: the exponent the theory expects for this regime when it is a constant (1 for variance-limited), else
        None (the resolution-limited exponents are what ``compare`` predicts).
      settings: what else determined the curve (ridge, noise, feature kind, fixed width or size, kernel).
    """

    regime: str
    x_name: str
    x: tuple[int, ...]
    features: tuple[int, ...] | None
    losses: tuple[tuple[float, ...], ...]
    limits: tuple[float, ...] | None
    fit: CurveFit
    expected: float | None
    settings: dict[str, Any]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Curve:
        values = dict(data)
        values["x"] = tuple(values["x"])
        values["features"] = _tuple(values["features"])
        values["losses"] = tuple(tuple(row) for row in values["losses"])
        values["limits"] = _tuple(values["limits"])
        fit = dict(values["fit"])
        fit["ci"], fit["x_range"] = _tuple(fit["ci"]), tuple(fit["x_range"])
        values["fit"] = CurveFit(**fit)
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class Measurement:
    """Measured curves of one architecture on one data sample (``kernelscale measure``).

    Attributes:
      arch, data, kernel, n, seed: what was measured; ``curves`` maps regime name to :class:`Curve`.
      seconds: wall time of the whole measurement.
    """

    arch: str
    data: str
    kernel: str
    n: int
    seed: int
    curves: dict[str, Curve]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement:
        values = dict(data)
        values["curves"] = {k: Curve.from_dict(v) for k, v in data["curves"].items()}
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> Measurement:
        return cls.from_dict(json.loads(text))


@dataclasses.dataclass(frozen=True)
class ComparisonRow:
    """Predicted against measured for one exponent.

    ``verdict`` is ``"agree"`` when ``|predicted - measured|`` is within the combined uncertainty
    ``sqrt(p^2 + m^2)`` (p, m: the half-widths of the two intervals on the sides that face each other),
    ``"disagree"`` otherwise, ``"n/a"`` when either side is missing.
    """

    quantity: str
    basis: str
    predicted: float | None
    predicted_ci: tuple[float, float] | None
    measured: float | None
    measured_ci: tuple[float, float] | None
    verdict: str


@dataclasses.dataclass(frozen=True)
class Comparison:
    """``kernelscale compare``: predicted and measured exponents on the same sample.

    Attributes:
      alpha_D_predicted, alpha_D_predicted_ci: the estimate kernelscale recommends for the measured D-range (the
        learning-curve theory's local exponent over that range, with the held-out pool correction).
      alpha_D_measured, alpha_D_measured_ci: kernel-regression learning curve over ``d_range``.
      alpha_W_predicted, alpha_W_predicted_ci: the theory's local exponent of ``E_g(P)`` on the NNGP spectrum over the
        measured feature range (duality: L(P) at infinite data is E_g at D = P).
      alpha_W_measured, alpha_W_measured_ci: random-feature (readout) curve over ``width_range``.
      rows: every predicted-against-measured row, with verdicts (kernel-only and task-aware estimates included).
      theory_sizes, theory_errors: the predicted curve E_g(D) at the measured sizes (for plots).
      prediction, measurement: the full results behind the rows.
      seconds_predict, seconds_measure: wall time of each side.
    """

    arch: str
    data: str
    kernel: str
    n: int
    seed: int
    alpha_D_predicted: float | None
    alpha_D_predicted_ci: tuple[float, float] | None
    alpha_D_measured: float | None
    alpha_D_measured_ci: tuple[float, float] | None
    alpha_W_predicted: float | None
    alpha_W_predicted_ci: tuple[float, float] | None
    alpha_W_measured: float | None
    alpha_W_measured_ci: tuple[float, float] | None
    d_range: tuple[int, int] | None
    width_range: tuple[int, int] | None
    rows: tuple[ComparisonRow, ...]
    theory_sizes: tuple[int, ...]
    theory_errors: tuple[float, ...]
    width_theory_features: tuple[int, ...] | None
    width_theory_errors: tuple[float, ...] | None
    prediction: Prediction
    measurement: Measurement
    seconds_predict: float
    seconds_measure: float

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        values = dict(data)
        for key in ("alpha_D_predicted_ci", "alpha_D_measured_ci", "alpha_W_predicted_ci", "alpha_W_measured_ci",
                    "d_range", "width_range", "theory_sizes", "theory_errors", "width_theory_features",
                    "width_theory_errors"):
            values[key] = _tuple(values[key])
        values["rows"] = tuple(ComparisonRow(**{**r, "predicted_ci": _tuple(r["predicted_ci"]),
                                                "measured_ci": _tuple(r["measured_ci"])}) for r in data["rows"])
        values["prediction"] = Prediction.from_dict(data["prediction"])
        values["measurement"] = Measurement.from_dict(data["measurement"])
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> Comparison:
        return cls.from_dict(json.loads(text))
