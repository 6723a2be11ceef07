"""Every top-level result, frozen, with a JSON round trip: ``Prediction.from_dict(p.to_dict()) == p``.

A result stores what was computed and derives the rest: ``Prediction.alpha_K`` is its kernel fit's exponent, the
recommended alpha_D is read from its learning curve, a comparison row's verdict comes from its two estimates. The
derived values are properties, written to JSON beside the fields (``JSON_DERIVED``), so the JSON keeps the keys
users' scripts read, and gains ``schema_version``. Values with intervals are :class:`~kernelscale.estimates.Estimate`
s (JSON: ``x`` and ``x_ci``); statuses, verdicts and bases are enumerations that carry their meaning.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any

import numpy as np

from ._json import JsonResult
from ._presentation import Presentable, estimate_columns
from .curves import PredictedCurve
from .errors import DataError
from .estimates import Basis, Estimate, FitStatus, Verdict
from .fit import CurveFit, TailFit
from .intrinsic import IntrinsicDimension
from .spectral_allocation import Frontier, mean_over_repeats
from .spectrum import Spectrum
from .specs import parse_spec
from .stats import gap_sigma, log_estimate, verdict
from .theory import task_aware_exponent, task_aware_interval, width_exponent, width_interval


# ---------------------------------------------------------------------------------------------------- predict


@dataclasses.dataclass(frozen=True, repr=False)
class Prediction(JsonResult, Presentable):
    """Predicted resolution-limited exponents of one architecture on one data sample, and the loss past it.

    Exponents are of ``L - L_inf ~ x^-alpha``; each is an :class:`Estimate` (value and 95% interval), or None when
    its fit failed (see ``status`` and ``message``).

    Attributes:
      arch, data, kernel, n, seed: what was predicted.
      width_kernel: the kernel whose random features the width side describes (L(P), alpha_W): the NNGP by
        default, as a network's readout features are; ``kernel`` with the top-k solver.
      kernel_fit, target_fit: the tail fits of the eigenvalues (alpha_K) and of the target powers (a - 1; None
        without a target), with diagnostics.
      learning_curve: the predicted test loss L(D) of kernel regression with this kernel at the sizes asked for,
        with bands and local exponents (:class:`kernelscale.curves.PredictedCurve`), or None (no target, or the
        top-k solver, whose spectrum lacks the tail the theory sums over).
      width_curve: L(P) of P random features of ``width_kernel`` at infinite data, the same way, or None.
      alpha_D_at, alpha_W_at: the size D at which alpha_D is read from ``learning_curve`` and the feature count P
        at which alpha_W is read from ``width_curve`` (default: the largest up to 10 n), or None without curves.
      intrinsic_dimension: TwoNN and MLE estimates of the inputs' dimension d with the manifold estimate 4/d (a
        different estimate from alpha_K), or None when not computed.
      eigensolver, n_eigs, eigensolver_reason: ``"full"`` eigh of the whole matrix, or ``"topk"`` with its number
        of eigenpairs (the kernel blocks are then recomputed on each pass and ``kernel_seconds`` is 0:
        ``eigh_seconds`` holds both), and why it was chosen.
      device, devices, from_cache: where the kernel was computed (for a cached kernel: where it was computed
        before), on how many devices (0 when read from the cache; in a multi-process job all of the job's).
      processes: the processes of the JAX job that ran it (1 without a job; docs/cli.md, "Several processes").
      resumed_blocks: kernel blocks read from an interrupted earlier computation instead of computed (0: none).
      trivial_loss: the loss of predicting 0, ``|y|^2`` averaged over the sample's points (``sum_i v_i^2``; 1 for
        one-hot labels), against which every loss is read; None without a target. The loss, everywhere: the squared
        error summed over the target's columns (one per class for class labels), averaged over points.
      eigh_device: where the full eigendecomposition ran (``"cpu"`` host LAPACK, ``"gpu"``; with the reason when it
        fell back to the host).
      seconds, kernel_seconds, eigh_seconds, intrinsic_seconds: wall time, whole and by stage.
      warnings: what the numbers do not cover for this architecture (deep finite networks).
      notes: how the sample was chosen when it was not as asked, and what was skipped.
      preprocessing: how the inputs were centred and scaled, in words (:func:`kernelscale.data.preprocess`).
      width_kernel_fit, width_target_fit: the tail fits on ``width_kernel``'s spectrum, when it is not ``kernel``
        (None when it is: the fits above serve both sides).
      spectrum, width_spectrum: the :class:`Spectrum` of ``kernel`` and of ``width_kernel`` (the same object when
        they agree; kept for plots and ``compare``; not serialized).

    Derived (properties, also in the JSON):
      alpha_K: kernel exponent, ``lambda_i ~ i^-(1 + alpha_K)``; target_decay: ``a`` in ``v_i^2 ~ i^-a``.
      alpha_D_kernel_only (= alpha_K, the duality) and alpha_D_task_aware (= min(a - 1, 2 b)), the asymptotes.
      asymptote_basis: which asymptote applies (:class:`Basis`).
      alpha_D, alpha_D_basis: the estimate kernelscale recommends: the local exponent of ``learning_curve`` at
        ``alpha_D_at`` (``"learning-curve"``); without a curve the asymptote of ``asymptote_basis``.
      alpha_W, alpha_W_basis: the width exponent kernelscale recommends, the same way as alpha_D: the local exponent
        of ``width_curve`` at ``alpha_W_at``; without a curve the asymptote.
      alpha_W_asymptote: the exponent of P random features at infinite data as P grows without bound
        (docs/theory.md, "Width"): ``min(a - 1, b)`` on the task-aware basis, alpha_K on the kernel-only one, from
        ``width_kernel``'s fits.
      recommendation: why, in words. fit_window: the kernel fit's window.
      status: the worst status of the fits the numbers above rest on (the kernel's and the target's, :meth:`FitStatus
        .worst`); message: their messages, the kernel fit's first.
    """

    arch: str
    data: str
    kernel: str
    width_kernel: str
    n: int
    seed: int
    kernel_fit: TailFit
    target_fit: TailFit | None
    learning_curve: PredictedCurve | None
    width_curve: PredictedCurve | None
    alpha_D_at: int | None
    alpha_W_at: int | None
    intrinsic_dimension: IntrinsicDimension | None
    eigensolver: str
    n_eigs: int | None
    eigensolver_reason: str
    device: str
    devices: int
    from_cache: bool
    eigh_device: str
    seconds: float
    kernel_seconds: float
    eigh_seconds: float
    intrinsic_seconds: float
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    preprocessing: str = ""
    resumed_blocks: int = 0
    trivial_loss: float | None = None
    processes: int = 1
    width_kernel_fit: TailFit | None = None
    width_target_fit: TailFit | None = None
    spectrum: Spectrum | None = dataclasses.field(default=None, repr=False, compare=False, metadata={"json": False})
    width_spectrum: Spectrum | None = dataclasses.field(default=None, repr=False, compare=False,
                                                        metadata={"json": False})

    JSON_DERIVED = ("alpha_K", "target_decay", "alpha_D_kernel_only", "alpha_D_task_aware", "asymptote_basis",
                    "alpha_D", "alpha_D_basis", "alpha_W", "alpha_W_basis", "alpha_W_asymptote", "recommendation",
                    "fit_window", "status", "message")
    REPR_FIELDS = ("arch", "data", "n", "kernel", "alpha_K", "target_decay", "alpha_D", "alpha_D_at", "alpha_D_basis",
                   "alpha_W", "alpha_W_at", "alpha_W_asymptote", "trivial_loss", "status")
    PLOT = "plot_spectrum"

    def frame_records(self) -> list[dict[str, Any]]:
        """One row per size of each predicted curve: ``curve`` (L(D) or L(P)), ``size``, ``loss`` and
        ``local_exponent`` with their bands, ``reliable`` (within the sample's range; past it, the continuation)."""
        if self.learning_curve is None and self.width_curve is None:
            raise DataError("this prediction has no curves (no target, or the top-k eigensolver); its exponents are "
                            "fields: alpha_K, alpha_D, alpha_W.")
        return [{"curve": f"L({curve.x_name})", "size": size, **estimate_columns("loss", curve.loss[i]),
                 **estimate_columns("local_exponent", curve.local_exponent[i]),
                 "reliable": size <= curve.reliable_up_to}
                for curve in (self.learning_curve, self.width_curve) if curve is not None
                for i, size in enumerate(curve.sizes)]

    @property
    def alpha_K(self) -> Estimate | None:
        return self.kernel_fit.exponent

    @property
    def target_decay(self) -> Estimate | None:
        fit = self.target_fit
        return fit.exponent.shifted(1.0) if fit is not None and fit.ok else None

    @property
    def alpha_D_kernel_only(self) -> Estimate | None:
        return self.alpha_K

    @property
    def alpha_D_task_aware(self) -> Estimate | None:
        target = self.target_fit
        if target is None or not target.ok:
            return None
        if not self.kernel_fit.ok:
            return target.exponent
        alpha_K, tail = self.kernel_fit.exponent, target.exponent
        return Estimate(task_aware_exponent(alpha_K.value, tail.value), task_aware_interval(alpha_K.ci, tail.ci))

    @property
    def asymptote_basis(self) -> Basis:
        return _asymptote(self.kernel_fit, self.target_fit)[0]

    @property
    def alpha_D(self) -> Estimate | None:
        if self.learning_curve is not None:
            return self.learning_curve.exponent_at(self.alpha_D_at)
        return asymptotic_exponents(self.kernel_fit, self.target_fit)[0]

    @property
    def alpha_D_basis(self) -> Basis:
        return Basis.LEARNING_CURVE if self.learning_curve is not None else self.asymptote_basis

    @property
    def width_fits(self) -> tuple[TailFit, TailFit | None]:
        """The tail fits the width asymptote rests on: ``width_kernel``'s."""
        if self.width_kernel_fit is None:
            return self.kernel_fit, self.target_fit
        return self.width_kernel_fit, self.width_target_fit

    @property
    def width_asymptote_basis(self) -> Basis:
        """Which asymptote alpha_W tends to, on the width kernel's fits (as :attr:`asymptote_basis` for alpha_D)."""
        return _asymptote(*self.width_fits)[0]

    @property
    def alpha_W_asymptote(self) -> Estimate | None:
        return asymptotic_exponents(*self.width_fits)[1]

    @property
    def alpha_W(self) -> Estimate | None:
        if self.width_curve is not None:
            return self.width_curve.exponent_at(self.alpha_W_at)
        return self.alpha_W_asymptote

    @property
    def alpha_W_basis(self) -> Basis:
        return Basis.LEARNING_CURVE if self.width_curve is not None else self.width_asymptote_basis

    @property
    def recommendation(self) -> str:
        basis, reason = _asymptote(self.kernel_fit, self.target_fit)
        if self.learning_curve is not None:
            return _curve_recommendation(self.learning_curve, self.alpha_D_at, basis, reason)
        if self.target_fit is not None:
            return reason + (" No learning curve: the top-k spectrum lacks the tail the theory sums over, so alpha_D "
                             "is an asymptote.")
        return reason

    @property
    def fit_window(self) -> tuple[int, int] | None:
        return self.kernel_fit.window

    @property
    def fits(self) -> tuple[TailFit, ...]:
        """The tail fits the headline numbers rest on: the kernel's, and the target's when there is a target."""
        return (self.kernel_fit,) if self.target_fit is None else (self.kernel_fit, self.target_fit)

    @property
    def status(self) -> FitStatus:
        return FitStatus.worst(fit.status for fit in self.fits)

    @property
    def message(self) -> str:
        return " ".join(fit.message for fit in self.fits)


def asymptotic_exponents(kernel_fit: TailFit, target_fit: TailFit | None
                         ) -> tuple[Estimate | None, Estimate | None]:
    """The exponents L(D) and L(P) tend to as D or P grow without bound, on the basis :func:`_asymptote` chooses:
    task-aware ``min(a - 1, 2b)`` and ``min(a - 1, b)`` (b = 1 + alpha_K) when the target's decay was fitted,
    alpha_K for both (the duality) otherwise; the continuation of the predicted curves tends to them."""
    if _asymptote(kernel_fit, target_fit)[0] != Basis.TASK_AWARE:
        return kernel_fit.exponent, kernel_fit.exponent
    tail = target_fit.exponent
    if not kernel_fit.ok:
        return tail, tail
    alpha_K = kernel_fit.exponent
    return (Estimate(task_aware_exponent(alpha_K.value, tail.value), task_aware_interval(alpha_K.ci, tail.ci)),
            Estimate(width_exponent(alpha_K.value, tail.value), width_interval(alpha_K.ci, tail.ci)))


def _asymptote(kernel_fit: TailFit, target_fit: TailFit | None) -> tuple[Basis, str]:
    """Which asymptote applies, and why: the task-aware one when the target's decay was fitted."""
    if target_fit is None:
        return Basis.KERNEL_ONLY, ("no target in this data: the duality alpha_D = alpha_K assumes the target has "
                                   "equal weight on every eigen-direction (a = b).")
    if not target_fit.ok:
        return Basis.KERNEL_ONLY, (f"the target's decay could not be fitted ({target_fit.message}); falling back to "
                                   "the duality.")
    if not kernel_fit.ok:
        return Basis.TASK_AWARE, "the kernel exponent could not be fitted; the target decay alone bounds alpha_D."
    kernel, target = kernel_fit.exponent, target_fit.exponent
    overlap = kernel.ci[0] <= target.ci[1] and target.ci[0] <= kernel.ci[1]
    detail = f"the target tail decays with a - 1 = {target.value:.3f} against alpha_K = {kernel.value:.3f}"
    if overlap:
        return Basis.TASK_AWARE, detail + ": the target is spread about evenly (a ~ b), so both estimates agree."
    return Basis.TASK_AWARE, (detail + ": the target is not spread evenly over the eigen-directions, so the "
                              "kernel-only duality estimate would mislead; min(a - 1, 2b) follows the target.")


def _curve_recommendation(curve: PredictedCurve, at: int, basis: Basis, reason: str) -> str:
    reliable, window = curve.reliable_up_to, curve.continuation_window
    start = f"the theory's local exponent {curve.continuation_exponent.value:.3f} over D = {window[0]}..{window[1]}"
    law = (f"moves from {start} toward the asymptote {curve.asymptote.value:.3f}" if curve.asymptote is not None else
           f"keeps {start} (no task-aware asymptote: the target's decay was not fitted)")
    where = (f"within the sample's reliable range (D <= {reliable})" if at <= reliable else
             f"past the sample's reliable range (D <= {reliable}), where the curve's local exponent {law}")
    return (f"alpha_D is the local exponent of the predicted learning curve L(D) at D = {at}, {where}. The "
            f"asymptotes are listed beside it (their basis: {basis}; {reason})")


# ---------------------------------------------------------------------------------------------------- measure


@dataclasses.dataclass(frozen=True)
class Curve:
    """One measured scaling curve and its fitted exponent.

    Attributes:
      regime: ``"data"``, ``"width"``, ``"linear_rf"``, ``"data_variance"`` or ``"width_variance"`` (see
        :mod:`kernelscale.measurements`), ``"trained_width"`` or ``"trained_data"`` (see :mod:`kernelscale.training`);
        ``"finite_width"`` for the finite-width diagnosis of ``compare`` (theory values, not measurements);
        ``"pool"`` for the out-of-sample check.
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


@dataclasses.dataclass(frozen=True, repr=False)
class Measurement(JsonResult, Presentable):
    """Measured curves of one architecture on one data sample (``kernelscale measure``).

    Attributes:
      arch, data, kernel, n, seed: what was measured; ``curves`` maps regime name to :class:`Curve`.
      seconds: wall time of the whole measurement.
      notes: how the sample was chosen when it was not as asked (see :class:`Prediction`).
      processes, devices: the processes of the JAX job that ran it (1 without a job) and the devices its kernels
        were spread over (in a job, all of the job's).
    """

    arch: str
    data: str
    kernel: str
    n: int
    seed: int
    curves: dict[str, Curve]
    seconds: float
    notes: tuple[str, ...] = ()
    processes: int = 1
    devices: int = 1

    REPR_FIELDS = ("arch", "data", "n", "kernel", "exponents")
    PLOT = "plot_curves"

    @property
    def exponents(self) -> dict[str, Estimate | None]:
        """Each curve's fitted exponent, by regime."""
        return {name: curve.fit.exponent for name, curve in self.curves.items()}

    def frame_records(self) -> list[dict[str, Any]]:
        """One row per measured loss: ``regime``, ``x_name``, ``x``, ``features`` (or None), ``repeat``, ``loss``."""
        return [{"regime": name, "x_name": curve.x_name, "x": x, "features": None if curve.features is None else
                 curve.features[i], "repeat": r, "loss": loss}
                for name, curve in self.curves.items() for i, x in enumerate(curve.x)
                for r, loss in enumerate(curve.losses[i])]


# ---------------------------------------------------------------------------------------------------- compare


class RowKind(enum.StrEnum):
    """What a comparison row checks. The value is the row's short label in tables; ``legend`` explains it and
    ``basis`` says what the prediction and the measurement are."""

    def __new__(cls, label: str, legend: str, basis: str):
        member = str.__new__(cls, label)
        member._value_ = label
        member.legend, member.basis = legend, basis
        return member

    D_THEORY = ("alpha_D theory (rec.)", "the learning-curve theory's local exponent over the D-range, extrapolated to "
                "an infinite pool (recommended; predict's L(D) in the sample's range)",
                "theory E_g(D) local, infinite-pool extrapolation (recommended)")
    D_TASK_AWARE = ("alpha_D task-aware", "the asymptote min(a - 1, 2b), b = 1 + alpha_K",
                    "task-aware min(a-1, 2b), b = 1 + alpha_K, asymptotic")
    D_KERNEL_ONLY = ("alpha_D kernel-only", "the asymptote alpha_K (duality)", "kernel-only alpha_K, asymptotic")
    D_TRAINED = ("alpha_D trained", "the theory against networks trained with optax, against D",
                 "theory E_g(D) local")
    W_LINEAR_RF = ("alpha_W linear RF", "the width theory E_W(P) on the NNGP against its own model, linear random "
                   "features", "theory E_W(P) on the NNGP; measured: its linear random features (the theory's own "
                   "model)")
    W_READOUT = ("alpha_W readout", "E_W(P) against the readout features of finite networks",
                 "theory E_W(P) on the NNGP; measured: readout features of finite networks")
    W_FINITE_WIDTH = ("alpha_W finite-width", "E_W(P) on each measured network's realized kernel (a diagnosis, not "
                      "a prediction)", "finite-width check (a diagnosis, not a prediction): E_W(P) on each measured "
                      "network's realized kernel; measured: readout features")
    W_TRAINED = ("alpha_W trained", "E_W(P) against networks trained with optax, against width",
                 "theory E_W(P) on the NNGP")

    @property
    def quantity(self) -> str:
        return "alpha_D" if self.name.startswith("D_") else "alpha_W"


@dataclasses.dataclass(frozen=True)
class ComparisonRow:
    """Predicted against measured for one exponent.

    Attributes:
      kind: what the row checks (:class:`RowKind`: its label, legend and basis).
      predicted, measured: the two estimates (None when missing).
      note: what the basis adds for this row (why a readout row disagrees; how the trained networks were trained).

    Derived (also in the JSON): ``quantity`` (alpha_D or alpha_W), ``label``, ``basis`` (the kind's and the note),
    ``verdict`` and ``gap_sigma`` (:mod:`kernelscale.stats`: "agree" when the gap is at most 1.96 combined sigma).
    """

    kind: RowKind
    predicted: Estimate | None
    measured: Estimate | None
    note: str = ""

    JSON_DERIVED = ("quantity", "basis", "label", "verdict", "gap_sigma")

    @property
    def quantity(self) -> str:
        return self.kind.quantity

    @property
    def label(self) -> str:
        return self.kind.value

    @property
    def basis(self) -> str:
        return self.kind.basis + (f"; {self.note}" if self.note else "")

    @property
    def verdict(self) -> Verdict:
        return verdict(self.predicted, self.measured)

    @property
    def gap_sigma(self) -> float | None:
        return gap_sigma(self.predicted, self.measured)


@dataclasses.dataclass(frozen=True, repr=False)
class Comparison(JsonResult, Presentable):
    """``kernelscale compare``: predicted and measured exponents on the same sample.

    Attributes:
      rows: every predicted-against-measured row, with verdicts (kernel-only and task-aware estimates included).
      theory_errors: the predicted curve E_g(D) at the measured sizes, extrapolated to an infinite pool as the
        exponent is (for plots).
      width_theory_errors: E_W(P) at the readout feature counts (for plots), or None without width rows.
      prediction, measurement: the full results behind the rows.
      seconds_predict, seconds_measure: wall time of each side.
      finite_width: with ``finite_width=True``, E_W on each measured network's realized readout kernel
        (:mod:`kernelscale.finite_width`) as a curve against width (rows: widths, columns: the networks), else None.
      seconds_finite_width: what that diagnosis cost, or None.

    Derived (also in the JSON): ``arch, data, kernel, n, seed`` (the prediction's); ``alpha_D_predicted`` (the
    recommended row: the learning-curve theory's local exponent over the measured D-range, with the held-out pool
    correction, extrapolated to an infinite pool) and ``alpha_D_measured`` (kernel regression over ``d_range``);
    ``alpha_W_predicted`` / ``alpha_W_measured`` (the width theory E_W(P) on the NNGP at the readout feature
    counts P(width) of ``width_range``, against finite networks' readout features); ``alpha_W_rf_predicted`` /
    ``alpha_W_rf_measured`` (the same theory against the ``linear_rf`` curve, the model it is exact for);
    ``theory_sizes`` and ``width_theory_features`` (the x of the two theory curves).
    """

    rows: tuple[ComparisonRow, ...]
    theory_errors: tuple[float, ...]
    width_theory_errors: tuple[float, ...] | None
    prediction: Prediction
    measurement: Measurement
    seconds_predict: float
    seconds_measure: float
    finite_width: Curve | None = None
    seconds_finite_width: float | None = None

    JSON_DERIVED = ("arch", "data", "kernel", "n", "seed", "alpha_D_predicted", "alpha_D_measured",
                    "alpha_W_predicted", "alpha_W_measured", "alpha_W_rf_predicted", "alpha_W_rf_measured",
                    "d_range", "width_range", "theory_sizes", "width_theory_features")
    REPR_FIELDS = ("arch", "data", "n", "kernel", "alpha_D_predicted", "alpha_D_measured", "alpha_W_predicted",
                   "alpha_W_measured", "verdicts")
    PLOT = "plot_comparison"

    @property
    def verdicts(self) -> dict[str, str]:
        """Each row's verdict, by label."""
        return {row.label: row.verdict.value for row in self.rows}

    def frame_records(self) -> list[dict[str, Any]]:
        """One row per comparison row: ``label``, ``quantity``, ``predicted`` and ``measured`` with their
        intervals, ``verdict``, ``gap_sigma``, ``basis``."""
        return [{"label": row.label, "quantity": row.quantity, **estimate_columns("predicted", row.predicted),
                 **estimate_columns("measured", row.measured), "verdict": row.verdict.value,
                 "gap_sigma": row.gap_sigma, "basis": row.basis} for row in self.rows]

    def row(self, kind: RowKind) -> ComparisonRow | None:
        """The row of ``kind``, or None when it was not compared."""
        return next((row for row in self.rows if row.kind == kind), None)

    def _side(self, kind: RowKind, side: str) -> Estimate | None:
        row = self.row(kind)
        return None if row is None else getattr(row, side)

    arch = property(lambda self: self.prediction.arch)
    data = property(lambda self: self.prediction.data)
    kernel = property(lambda self: self.prediction.kernel)
    n = property(lambda self: self.prediction.n)
    seed = property(lambda self: self.prediction.seed)

    @property
    def alpha_D_predicted(self) -> Estimate | None:
        return self._side(RowKind.D_THEORY, "predicted")

    @property
    def alpha_D_measured(self) -> Estimate | None:
        return self._side(RowKind.D_THEORY, "measured")

    @property
    def alpha_W_predicted(self) -> Estimate | None:
        return self._side(RowKind.W_READOUT, "predicted")

    @property
    def alpha_W_measured(self) -> Estimate | None:
        return self._side(RowKind.W_READOUT, "measured")

    @property
    def alpha_W_rf_predicted(self) -> Estimate | None:
        return self._side(RowKind.W_LINEAR_RF, "predicted")

    @property
    def alpha_W_rf_measured(self) -> Estimate | None:
        return self._side(RowKind.W_LINEAR_RF, "measured")

    @property
    def d_range(self) -> tuple[int, int]:
        x = self.measurement.curves["data"].x
        return x[0], x[-1]

    @property
    def width_range(self) -> tuple[int, int] | None:
        curve = self.measurement.curves.get("width")
        return None if curve is None else (curve.x[0], curve.x[-1])

    @property
    def theory_sizes(self) -> tuple[int, ...]:
        return self.measurement.curves["data"].x

    @property
    def width_theory_features(self) -> tuple[int, ...] | None:
        curve = self.measurement.curves.get("width")
        return None if curve is None else curve.features


# ---------------------------------------------------------------------------------------------------- compare --pool


@dataclasses.dataclass(frozen=True)
class PoolRow:
    """Predicted against measured at one size D past the sample.

    Attributes:
      size: D.
      predicted_loss, measured_loss: the loss with its 95% interval (measured: a bootstrap over repeats and test
        points).
      predicted_exponent, measured_exponent: the local exponent between neighbouring sizes.

    Derived (also in the JSON): ``loss_verdict`` and ``loss_gap_sigma`` (on log losses), ``exponent_verdict`` and
    ``exponent_gap_sigma``.
    """

    size: int
    predicted_loss: Estimate
    measured_loss: Estimate
    predicted_exponent: Estimate
    measured_exponent: Estimate

    JSON_DERIVED = ("loss_verdict", "loss_gap_sigma", "exponent_verdict", "exponent_gap_sigma")

    @property
    def loss_verdict(self) -> Verdict:
        return verdict(log_estimate(self.predicted_loss), log_estimate(self.measured_loss))

    @property
    def loss_gap_sigma(self) -> float | None:
        return gap_sigma(log_estimate(self.predicted_loss), log_estimate(self.measured_loss))

    @property
    def exponent_verdict(self) -> Verdict:
        return verdict(self.predicted_exponent, self.measured_exponent)

    @property
    def exponent_gap_sigma(self) -> float | None:
        return gap_sigma(self.predicted_exponent, self.measured_exponent)


@dataclasses.dataclass(frozen=True, repr=False)
class PoolComparison(JsonResult, Presentable):
    """``kernelscale compare --pool``: the learning curve predicted from n points against kernel regression measured
    on a pool of M points that contains them, on held-out points neither saw.

    Attributes:
      rows: one :class:`PoolRow` per measured size.
      prediction: the sample's :class:`Prediction` (its ``learning_curve`` evaluated at the measured sizes).
      measured: the measured :class:`Curve` (regime ``"pool"``): losses (sizes, repeats) on the test points; its
        settings hold the pool size and the number of test points.
      seconds_predict, seconds_measure: wall time of each side (the pool's kernel counts as measuring).

    Derived (also in the JSON): ``arch, data, kernel, n, seed`` (the prediction's), ``pool`` (M) and
    ``test_points``.
    """

    rows: tuple[PoolRow, ...]
    prediction: Prediction
    measured: Curve
    seconds_predict: float
    seconds_measure: float

    JSON_DERIVED = ("arch", "data", "kernel", "n", "seed", "pool", "test_points")
    REPR_FIELDS = ("arch", "data", "n", "kernel", "pool", "test_points", "loss_verdicts")
    PLOT = "plot_pool_comparison"

    @property
    def loss_verdicts(self) -> dict[int, str]:
        """Each size's loss verdict."""
        return {row.size: row.loss_verdict.value for row in self.rows}

    def frame_records(self) -> list[dict[str, Any]]:
        """One row per size: predicted and measured loss and local exponent with intervals, and the verdicts."""
        return [{"size": row.size, **estimate_columns("predicted_loss", row.predicted_loss),
                 **estimate_columns("measured_loss", row.measured_loss), "loss_verdict": row.loss_verdict.value,
                 **estimate_columns("predicted_exponent", row.predicted_exponent),
                 **estimate_columns("measured_exponent", row.measured_exponent),
                 "exponent_verdict": row.exponent_verdict.value} for row in self.rows]

    arch = property(lambda self: self.prediction.arch)
    data = property(lambda self: self.prediction.data)
    kernel = property(lambda self: self.prediction.kernel)
    n = property(lambda self: self.prediction.n)
    seed = property(lambda self: self.prediction.seed)
    pool = property(lambda self: self.measured.settings["pool"])
    test_points = property(lambda self: self.measured.settings["test_points"])


# ---------------------------------------------------------------------------------------------------- sweep


@dataclasses.dataclass(frozen=True)
class SweepPoint:
    """One variant of a sweep: the value of the varied option, and its results (``arch`` and ``data``, the specs
    it ran, are the prediction's)."""

    value: str
    prediction: Prediction
    comparison: Comparison | None = None

    JSON_DERIVED = ("arch", "data")

    arch = property(lambda self: self.prediction.arch)
    data = property(lambda self: self.prediction.data)


@dataclasses.dataclass(frozen=True, repr=False)
class Sweep(JsonResult, Presentable):
    """``kernelscale sweep``: predictions (and optionally comparisons) over the values of one spec option.

    Attributes:
      parameter: the varied option; applies_to: ``"arch"`` or ``"data"``.
      points: one :class:`SweepPoint` per value, in the order given.
      seconds: wall time of the whole sweep.

    Derived (also in the JSON): ``n, kernel, seed``, shared by every point.
    """

    parameter: str
    applies_to: str
    points: tuple[SweepPoint, ...]
    seconds: float

    JSON_DERIVED = ("n", "kernel", "seed")
    REPR_FIELDS = ("parameter", "applies_to", "n", "kernel", "alpha_D")
    PLOT = "plot_sweep"

    @property
    def alpha_D(self) -> dict[str, Estimate | None]:
        """The recommended alpha_D of each value."""
        return {point.value: point.prediction.alpha_D for point in self.points}

    def frame_records(self) -> list[dict[str, Any]]:
        """One row per value: alpha_K, target decay a, recommended alpha_D (read at ``alpha_D_at``) with intervals,
        status; with comparisons, alpha_D's theory and measurement over the measured D-range and the verdict."""
        records = []
        for point in self.points:
            p, c = point.prediction, point.comparison
            record = {self.parameter: point.value, **estimate_columns("alpha_K", p.alpha_K),
                      **estimate_columns("target_decay", p.target_decay), **estimate_columns("alpha_D", p.alpha_D),
                      "alpha_D_at": p.alpha_D_at, "status": p.status.value}
            if c is not None:
                record |= {**estimate_columns("alpha_D_theory", c.alpha_D_predicted),
                           **estimate_columns("alpha_D_measured", c.alpha_D_measured),
                           "verdict": c.row(RowKind.D_THEORY).verdict.value}
            records.append(record)
        return records

    n = property(lambda self: self.points[0].prediction.n)
    kernel = property(lambda self: self.points[0].prediction.kernel)
    seed = property(lambda self: self.points[0].prediction.seed)


# ---------------------------------------------------------------------------------------------------- allocate

COST_SCHEMAS = {"6nd": {}, "nd": {}, "power": {"k": 6.0, "p": 1.0, "q": 1.0}}
_COST_PRESETS = {"6nd": (6.0, 1.0, 1.0), "nd": (1.0, 1.0, 1.0)}


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
        return cls(*_COST_PRESETS[name]) if name in _COST_PRESETS else cls(options["k"], options["p"], options["q"])

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


@dataclasses.dataclass(frozen=True, repr=False)
class Allocation(JsonResult, Presentable):
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

    REPR_FIELDS = ("compute", "n_opt", "d_opt", "loss_opt", "a", "b", "tokens_per_parameter")
    PLOT = "plot_allocation"

    def frame_records(self) -> list[dict[str, Any]]:
        """One row: the optimum, its exponents and their intervals (when fitted)."""
        record = {"compute": self.compute, "loss_opt": self.loss_opt, "tokens_per_parameter": self.tokens_per_parameter}
        for name in ("n_opt", "d_opt", "a", "b"):
            record |= estimate_columns(name, Estimate(getattr(self, name), self.ci.get(name)))
        return [record]


# ---------------------------------------------------------------------------------------------------- allocate
# from a spectrum


@dataclasses.dataclass(frozen=True)
class FrontierCheck(JsonResult):
    """``allocate --check``: random-feature models trained by one-pass SGD on a grid of model sizes and samples, and
    the compute-optimal frontier measured on it.

    Attributes:
      widths, features: (p,) the networks' widths and their readout feature counts N.
      samples: (m,) the samples s at which the test loss was recorded.
      losses: (p, m, repeats) test losses (None past the samples each width was trained for).
      frontier: the frontier of the mean loss, budgets with the optimum inside the grid only.
      budgets: (low, high), the compute range both the measured and the predicted exponents are read over.
      frontier_predicted: the predicted frontier over ``budgets`` (central decays).
      n_exponent_predicted, loss_exponent_predicted: the prediction's local exponents over ``budgets`` (intervals
        from the tail fits' intervals), the measured ones' counterparts.
      n_exponent_measured, loss_exponent_measured: the measured frontier's exponents over ``budgets``, with 95%
        intervals from a bootstrap over the repeats.
      pool, test_points: points available for training (one pass each) and held out for the test loss.
      fresh: whether the data can be drawn anew (then every sample is a new point).
      reuse: the most times any training point was used (1.0: one pass; more leaves the one-pass theory).
      diverged: the runs where SGD diverged at this step (their width's losses stop there), in words.
      seconds: wall time of the check.
    """

    widths: tuple[int, ...]
    features: tuple[int, ...]
    samples: tuple[float, ...]
    losses: tuple[tuple[tuple[float | None, ...], ...], ...]
    frontier: Frontier
    budgets: tuple[float, float]
    frontier_predicted: Frontier
    n_exponent_predicted: Estimate
    loss_exponent_predicted: Estimate
    n_exponent_measured: Estimate | None
    loss_exponent_measured: Estimate | None
    pool: int
    test_points: int
    fresh: bool
    reuse: float
    seconds: float
    diverged: tuple[str, ...] = ()

    JSON_DERIVED = ("n_exponent_verdict", "n_exponent_gap_sigma", "loss_exponent_verdict", "loss_exponent_gap_sigma")

    @property
    def n_exponent_verdict(self) -> Verdict:
        return verdict(self.n_exponent_predicted, self.n_exponent_measured)

    @property
    def n_exponent_gap_sigma(self) -> float | None:
        return gap_sigma(self.n_exponent_predicted, self.n_exponent_measured)

    @property
    def loss_exponent_verdict(self) -> Verdict:
        return verdict(self.loss_exponent_predicted, self.loss_exponent_measured)

    @property
    def loss_exponent_gap_sigma(self) -> float | None:
        return gap_sigma(self.loss_exponent_predicted, self.loss_exponent_measured)

    def mean_losses(self) -> np.ndarray:
        """(p, m) the mean test loss over repeats (NaN where a width was not trained that far)."""
        return mean_over_repeats(self.losses)

    @property
    def decades_of_features(self) -> float:
        """How many decades of N* the measured frontier spans (the N* exponent is unreliable below about 1)."""
        return math.log10(max(self.frontier.features) / min(self.frontier.features)) if self.frontier.features else 0.0


@dataclasses.dataclass(frozen=True, repr=False)
class SpectralAllocation(JsonResult, Presentable):
    """``allocate --arch --data --compute``: the compute-optimal split of a budget between N linear random features
    of ``kernel`` and the samples they are trained on, predicted from a sample's spectrum without training
    (:mod:`kernelscale.compute_optimal`).

    Attributes:
      arch, data, kernel, n, seed: the prediction's architecture, data, kernel, sample size and seed.
      regime: ``"one-pass-sgd"`` (every step a fresh batch; samples = steps x batch) or ``"fixed-data"`` (ridge
        regression trained to convergence on D samples, the ridge tuned per point).
      compute: the budget C = N s (s: samples drawn).
      learning_rate, batch: one-pass SGD's step in kernel units (``gamma = learning_rate / E k(x, x)``) and batch
        (None for fixed data).
      n_opt, samples_opt, loss_opt: N*, s* and L* at C, with intervals from the tail fits' intervals.
      n_exponent, loss_exponent: the local exponents ``N* ~ C^xi``, ``L* ~ C^-eta`` over ``exponent_budgets``.
      n_exponent_asymptote, loss_exponent_asymptote: the phase's closed form on the fitted (a, b), their intervals
        over the corners of the fits' intervals.
      phase: one-pass SGD's ``"Ia"``, ``"II"`` or ``"III"`` (:func:`kernelscale.spectral_allocation.phase`), or a
        fixed data set's ``"hard"``, ``"intermediate"`` or ``"easy"`` (:func:`~kernelscale.spectral_allocation
        .fixed_data_phase`), on the fitted (a, b).
      kernel_decay, target_decay: b = 1 + alpha_K and a, with their intervals.
      frontier: the predicted frontier over C / 10 .. 10 C (budgets with the optimum inside the grid).
      iso_features, iso_samples, iso_loss: the predicted loss surface at a few N around the frontier's (p,), on a
        grid of samples (m,): (p, m) losses (for the plot's iso-N curves; None where SGD diverges).
      exponent_budgets: the budgets the local exponents are read over.
      trivial_loss: the loss of predicting 0 (the losses' scale).
      notes: what the numbers depend on (learning rate, batch) and what they leave out.
      caveat: the lazy baseline's limit, printed with every result.
      check: the measurement (``--check``), or None.
      seconds: wall time of the prediction (the check's is its own).
      processes, devices: the processes of the JAX job that ran it (1 without a job) and the devices of the
        prediction's kernel (in a job, all of the job's; 0 when it was read from the cache).
    """

    arch: str
    data: str
    kernel: str
    n: int
    seed: int
    regime: str
    compute: float
    learning_rate: float | None
    batch: int | None
    n_opt: Estimate
    samples_opt: Estimate
    loss_opt: Estimate
    n_exponent: Estimate
    loss_exponent: Estimate
    n_exponent_asymptote: Estimate
    loss_exponent_asymptote: Estimate
    phase: str
    kernel_decay: Estimate
    target_decay: Estimate
    frontier: Frontier
    exponent_budgets: tuple[float, float]
    iso_features: tuple[int, ...]
    iso_samples: tuple[float, ...]
    iso_loss: tuple[tuple[float | None, ...], ...]
    trivial_loss: float
    notes: tuple[str, ...]
    caveat: str
    seconds: float
    check: FrontierCheck | None = None
    processes: int = 1
    devices: int = 1

    JSON_DERIVED = ("basis", "steps_opt", "n_exponent_measured", "loss_exponent_measured")
    REPR_FIELDS = ("arch", "data", "kernel", "regime", "compute", "n_opt", "samples_opt", "loss_opt", "n_exponent",
                   "loss_exponent", "phase")
    PLOT = "plot_spectral_allocation"

    @property
    def basis(self) -> str:
        """``"spectrum"``: predicted from the kernel's spectrum, nothing trained (the other routes fit a loss model)."""
        return "spectrum"

    @property
    def steps_opt(self) -> float | None:
        """t* = s* / batch, the optimal number of SGD steps (None for fixed data)."""
        return None if self.batch is None else self.samples_opt.value / self.batch

    @property
    def n_exponent_measured(self) -> Estimate | None:
        return None if self.check is None else self.check.n_exponent_measured

    @property
    def loss_exponent_measured(self) -> Estimate | None:
        return None if self.check is None else self.check.loss_exponent_measured

    def frame_records(self) -> list[dict[str, Any]]:
        """One row per budget of the predicted frontier: ``compute``, ``n_opt``, ``samples_opt``, ``loss_opt``."""
        return [{"compute": c, "n_opt": n, "samples_opt": s, "loss_opt": loss}
                for c, n, s, loss in zip(self.frontier.compute, self.frontier.features, self.frontier.samples,
                                         self.frontier.loss)]
