"""Frozen result dataclasses with a JSON round trip: ``Prediction.from_dict(p.to_dict()) == p``."""

from __future__ import annotations

import dataclasses
from typing import Any

from ._json import JsonResult
from .curves import PredictedCurve
from .fit import CurveFit, TailFit
from .intrinsic import IntrinsicDimension
from .spectrum import Spectrum


@dataclasses.dataclass(frozen=True)
class Prediction(JsonResult):
    """Predicted resolution-limited exponents of one architecture on one data sample.

    Exponents are of ``L - L_inf ~ x^-alpha``. Intervals are ``(low, high)``; any exponent may be None when its
    fit failed (see ``status`` and ``message``).

    Attributes:
      arch, data, kernel, n, seed: what was predicted.
      alpha_K, alpha_K_ci: kernel exponent, ``lambda_i ~ i^-(1 + alpha_K)``.
      target_decay, target_decay_ci: ``a`` in ``v_i^2 ~ i^-a`` (None without a target).
      alpha_D_kernel_only (= alpha_K, duality) and alpha_D_task_aware (= min(a - 1, 2 b)), with intervals.
      alpha_D, alpha_D_ci, alpha_D_basis: the estimate kernelscale recommends: ``"learning-curve"``, the local
        exponent of ``learning_curve`` at ``alpha_D_at``; without a curve (no target, or the top-k solver) an
        asymptote, ``"task-aware"`` or ``"kernel-only"``.
      alpha_W, alpha_W_ci: asymptotic width exponent of P random features of this kernel at infinite data
        (THEORY.md 1b): ``min(a - 1, b)`` on the task-aware basis, ``alpha_K`` on the kernel-only one.
      alpha_W_local, alpha_W_local_ci: local exponent of the width theory ``E_W(P)`` on this sample's spectrum over
        ``width_features`` (P from 16 to n/4; None without a target or with the top-k solver).
      recommendation: why ``alpha_D_basis`` was chosen.
      fit_window: (first, last) 1-based eigen-indices of the alpha_K fit.
      kernel_fit, target_fit: the full fits with diagnostics.
      status: "ok", "not_converged", "not_power_law" or "too_few_eigenvalues" (of the alpha_K fit).
      device, seconds, kernel_seconds, eigh_seconds, from_cache: where and how long.
      intrinsic_seconds: the intrinsic-dimension stage (an exact k-nearest-neighbour search and two formulas).
      devices: how many devices computed the kernel's blocks (0 when it was read from the cache).
      eigh_device: where the full eigendecomposition ran (``"cpu"`` host LAPACK, ``"gpu"``; with the reason when it
        fell back to the host).
      eigensolver, n_eigs: ``"full"`` eigh of the whole matrix, or ``"topk"`` with its number of eigenpairs (the
        kernel blocks are then recomputed on each pass and ``kernel_seconds`` is 0: ``eigh_seconds`` holds both).
      intrinsic_dimension: TwoNN and MLE estimates of the inputs' dimension d with the manifold estimate 4/d (a
        different estimate from alpha_K), or None when not computed.
      learning_curve: the predicted test loss L(D) of kernel regression with this kernel at the sizes asked for,
        with bands and local exponents (:class:`kernelscale.curves.PredictedCurve`), or None.
      width_curve: L(P) of P random features of this kernel at infinite data, the same way, or None.
      alpha_D_at: the size D at which alpha_D was read from ``learning_curve`` (default 10 n), or None.
      asymptote_basis: which asymptote applies, ``"task-aware"`` (``min(a - 1, 2b)`` for alpha_D, ``min(a - 1, b)``
        for alpha_W) or ``"kernel-only"`` (alpha_K for both).
      warnings: what the numbers above do not cover for this architecture (deep finite networks).
      notes: how the sample was chosen when it was not as asked (a default n capped by the data's size, a Dataset
        subsampled).
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
    devices: int = 1
    eigensolver: str = "full"
    n_eigs: int | None = None
    eigh_device: str = "cpu"
    intrinsic_seconds: float = 0.0
    intrinsic_dimension: IntrinsicDimension | None = None
    alpha_W_local: float | None = None
    alpha_W_local_ci: tuple[float, float] | None = None
    width_features: tuple[int, int] | None = None
    warnings: tuple[str, ...] = ()
    learning_curve: PredictedCurve | None = None
    width_curve: PredictedCurve | None = None
    alpha_D_at: int | None = None
    asymptote_basis: str = ""
    notes: tuple[str, ...] = ()
    spectrum: Spectrum | None = dataclasses.field(default=None, repr=False, compare=False, metadata={"json": False})


@dataclasses.dataclass(frozen=True)
class Curve:
    """One measured scaling curve and its fitted exponent.

    Attributes:
      regime: ``"data"``, ``"width"``, ``"linear_rf"``, ``"data_variance"`` or ``"width_variance"`` (see
        :mod:`kernelscale.measurements`), ``"trained_width"`` or ``"trained_data"`` (see :mod:`kernelscale.training`);
        ``"finite_width"`` for the finite-width diagnosis of ``compare`` (theory values, not measurements).
      x_name: ``"D"`` (training-set size), ``"width"`` or ``"P"`` (feature count).
      x: (m,) the sizes or widths.
      features: (m,) feature counts P for width-type curves (P at the fixed width for ``data_variance``; trained
        parameters for the trained-network curves), else None.
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


@dataclasses.dataclass(frozen=True)
class Measurement(JsonResult):
    """Measured curves of one architecture on one data sample (``kernelscale measure``).

    Attributes:
      arch, data, kernel, n, seed: what was measured; ``curves`` maps regime name to :class:`Curve`.
      seconds: wall time of the whole measurement.
      notes: how the sample was chosen when it was not as asked (see :class:`Prediction`).
    """

    arch: str
    data: str
    kernel: str
    n: int
    seed: int
    curves: dict[str, Curve]
    seconds: float
    notes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ComparisonRow:
    """Predicted against measured for one exponent.

    ``verdict`` is ``"agree"`` when ``|predicted - measured|`` is within the combined uncertainty
    ``sqrt(p^2 + m^2)`` (p, m: the half-widths of the two 95% intervals on the sides that face each other),
    ``"disagree"`` otherwise, ``"n/a"`` when either side is missing. ``gap_sigma`` is the same gap in units of the
    combined sigma ``sqrt(p^2 + m^2) / 1.96``: "agree" means at most 1.96. ``label`` is the row's short name in
    tables (``basis`` says what it is).
    """

    quantity: str
    basis: str
    predicted: float | None
    predicted_ci: tuple[float, float] | None
    measured: float | None
    measured_ci: tuple[float, float] | None
    verdict: str
    gap_sigma: float | None = None
    label: str = ""


@dataclasses.dataclass(frozen=True)
class Comparison(JsonResult):
    """``kernelscale compare``: predicted and measured exponents on the same sample.

    Attributes:
      alpha_D_predicted, alpha_D_predicted_ci: the estimate kernelscale recommends for the measured D-range (the
        learning-curve theory's local exponent over that range, with the held-out pool correction, extrapolated to
        an infinite pool with the half-samples).
      alpha_D_measured, alpha_D_measured_ci: kernel-regression learning curve over ``d_range``.
      alpha_W_predicted, alpha_W_predicted_ci: the local exponent against width of the width theory ``E_W(P)``
        (P random features at infinite data, THEORY.md 1b) on the NNGP spectrum, at the readout feature counts
        P(width) of ``width_range``.
      alpha_W_measured, alpha_W_measured_ci: readout features of finite networks, fitted against width over
        ``width_range``.
      alpha_W_rf_predicted, alpha_W_rf_predicted_ci: the same theory's local exponent against P over the
        ``linear_rf`` curve's feature counts.
      alpha_W_rf_measured, alpha_W_rf_measured_ci: the ``linear_rf`` curve (linear random features of the NNGP,
        the model the theory is exact for), fitted against P.
      rows: every predicted-against-measured row, with verdicts (kernel-only and task-aware estimates included).
      theory_sizes, theory_errors: the predicted curve E_g(D) at the measured sizes, extrapolated to an infinite
        pool as the exponent is (for plots).
      width_theory_features, width_theory_errors: E_W(P) at the readout feature counts (for plots).
      prediction, measurement: the full results behind the rows.
      seconds_predict, seconds_measure: wall time of each side.
      finite_width: with ``finite_width=True``, E_W on each measured network's realized readout kernel
        (:mod:`kernelscale.finite_width`) as a curve against width (rows: widths, columns: the networks), else None.
      seconds_finite_width: what that diagnosis cost, or None.
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
    alpha_W_rf_predicted: float | None = None
    alpha_W_rf_predicted_ci: tuple[float, float] | None = None
    alpha_W_rf_measured: float | None = None
    alpha_W_rf_measured_ci: tuple[float, float] | None = None
    finite_width: Curve | None = None
    seconds_finite_width: float | None = None


@dataclasses.dataclass(frozen=True)
class SweepPoint:
    """One variant of a sweep: the value of the varied option, the specs it ran, and its results."""

    value: str
    arch: str
    data: str
    prediction: Prediction
    comparison: Comparison | None = None


@dataclasses.dataclass(frozen=True)
class Sweep(JsonResult):
    """``kernelscale sweep``: predictions (and optionally comparisons) over the values of one spec option.

    Attributes:
      parameter: the varied option; applies_to: ``"arch"`` or ``"data"``.
      points: one :class:`SweepPoint` per value, in the order given.
      n, kernel, seed: shared by every point; seconds: wall time of the whole sweep.
    """

    parameter: str
    applies_to: str
    points: tuple[SweepPoint, ...]
    n: int
    kernel: str
    seed: int
    seconds: float
