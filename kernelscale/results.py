"""Frozen result dataclasses with a JSON round trip: ``Prediction.from_dict(p.to_dict()) == p``."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .fit import TailFit
from .spectrum import Spectrum


def _plain(value: Any) -> Any:
    """Tuples -> lists, numpy scalars -> Python numbers, nested dataclasses -> dicts."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
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
    spectrum: Spectrum | None = dataclasses.field(default=None, repr=False, compare=False)

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
