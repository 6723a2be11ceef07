"""``compare``: predict and measure on the same sample, and say whether they agree.

alpha_D rows (against the measured kernel-regression curve over its D-range):
  * kernel-only: alpha_K by duality (Bahri et al.); task-aware: min(a - 1, 2b) (both asymptotic);
  * theory (recommended): the local exponent of the learning-curve theory E_g(D) (kappa, gamma; Canatar et al.) over
    the measured D-range, from the pool's spectrum and target powers, with the held-out pool correction
    (:func:`kernelscale.theory.learning_curve`), extrapolated to an infinite pool with the half-sample pools
    (:func:`kernelscale.curves.data_theory_exponent`): the reliable part of predict's learning curve L(D), so one
    method gives both commands' recommended alpha_D. Measured curves at these sizes are pre-asymptotic, and so is
    this.
alpha_W rows (THEORY.md 1b): the width theory E_W(P) (P random features of the NNGP kernel at infinite data) on
the NNGP spectrum of the pool, scored on the pool's own measure (no held-out correction), against
  * ``linear_rf``: Bahri et al.'s linear random-feature model, Gaussian projections of the kernel's eigenfeatures,
    for which the theory is exact (its own check), over the same feature counts P;
  * ``width``: the readout features of randomly initialised finite networks (the realistic case), against width.
    At depth >= 2 these are random features of the realized finite-width kernel of the lower layers, not of the
    NNGP; ``finite_width=True`` adds the diagnosis: E_W on those realized kernels (:mod:`kernelscale.finite_width`).
Trained-network rows (``trained=True``): the same theory exponents against curves measured on networks trained with
optax (:mod:`kernelscale.training`): alpha_D over the trained D-range, alpha_W over the trained widths. A trained
network can leave the kernel regime (its features move), so these rows measure how far the kernel's prediction
carries.

Uncertainty of a theory exponent: alpha_D, the extrapolation's (its correction in quadrature with the halves'
sampling spread); alpha_W, the largest difference from the same exponent on a half-sample's spectrum (conservative:
a half-sample is a smaller pool, with its own finite-pool effects).
"""

from __future__ import annotations

import math
import time

from ._compat import precise_function
from .api import _load, measure, predict
from .architectures import Architecture, as_architecture, split_below_last_hidden_layer
from .curves import data_theory_exponent
from .errors import DataError, SpecError
from .finite_width import finite_width_errors
from .fit import fit_curve
from .kernels import KINDS, compute_kernel
from .measurements import feature_count
from .results import Comparison, ComparisonRow, Curve
from .spectrum import Spectrum, spectrum
from .theory import width_theory_exponent


Z95 = 1.959963984540054  # a 95% interval's half-width in standard deviations


def gap_sigma(predicted: float | None, predicted_ci, measured: float | None, measured_ci) -> float | None:
    """``|p - m| / sigma`` with ``sigma = sqrt(hp^2 + hm^2) / 1.96``, hp and hm the half-widths of the two 95%
    intervals on the sides that face each other; None when either side is missing (inf for two exact values)."""
    if predicted is None or measured is None or predicted_ci is None or measured_ci is None:
        return None
    if predicted >= measured:
        spread = math.hypot(predicted - predicted_ci[0], measured_ci[1] - measured)
    else:
        spread = math.hypot(predicted_ci[1] - predicted, measured - measured_ci[0])
    gap = abs(predicted - measured)
    return gap / (spread / Z95) if spread > 0 else (0.0 if gap == 0 else math.inf)


def verdict(predicted: float | None, predicted_ci, measured: float | None, measured_ci) -> str:
    """``"agree"`` when ``|p - m| <= sqrt(hp^2 + hm^2)`` (the gap is at most 1.96 combined sigma, see
    :func:`gap_sigma`), ``"disagree"`` otherwise, ``"n/a"`` when either side is missing."""
    sigma = gap_sigma(predicted, predicted_ci, measured, measured_ci)
    if sigma is None:
        return "n/a"
    return "agree" if sigma <= Z95 * (1 + 1e-12) else "disagree"


def make_row(quantity: str, basis: str, predicted, predicted_ci, measured, measured_ci, *,
             label: str = "") -> ComparisonRow:
    """A :class:`ComparisonRow` with its verdict, its gap in combined sigma and a short ``label`` for tables."""
    return ComparisonRow(quantity, basis, predicted, predicted_ci, measured, measured_ci,
                         verdict(predicted, predicted_ci, measured, measured_ci),
                         gap_sigma(predicted, predicted_ci, measured, measured_ci), label or quantity)


def _has_lower_layers(arch: Architecture) -> bool:
    try:
        return split_below_last_hidden_layer(arch).lower_count > 0
    except SpecError:  # residual networks: lower layers, but no single last hidden layer
        return True


def _readout_row(arch: Architecture, estimate, interval, curve) -> ComparisonRow:
    """Theory E_W against the readout curve; a disagreement says where the theory's assumption fails."""
    result = verdict(estimate, interval, curve.fit.exponent, curve.fit.ci)
    basis = "theory E_W(P) on the NNGP; measured: readout features of finite networks"
    if result == "disagree":
        basis += ("; the readout features are random features of the realized finite-width kernel of the lower "
                  "layers, not of the NNGP (THEORY.md 1b; --finite-width checks it)" if _has_lower_layers(arch) else
                  "; at depth 1 there are no lower layers: the gap is the non-Gaussian readout features or the "
                  "theory's finite-P error")
    return make_row("alpha_W", basis, estimate, interval, curve.fit.exponent, curve.fit.ci, label="alpha_W readout")


def _width_rows(arch: Architecture, dataset, spec: Spectrum, measurement, *, kernel: str, seed: int, device,
                use_cache: bool, finite_width: bool, trained: bool, progress) -> tuple[list[ComparisonRow], dict]:
    """The alpha_W rows of :func:`compare` (see the module docstring) and the Comparison fields they fill."""
    readout, linear = measurement.curves["width"], measurement.curves["linear_rf"]
    if kernel == "nngp":
        nngp_spec = spec
    else:
        nngp = compute_kernel(arch, dataset.x, kind="nngp", device=device, use_cache=use_cache).matrix
        nngp_spec = spectrum(nngp, spec.target, seed=seed, device=device)
    rf_theory, rf_theory_ci, _ = width_theory_exponent(nngp_spec, linear.x)
    rows = [make_row("alpha_W", "theory E_W(P) on the NNGP; measured: its linear random features (the theory's own "
                     "model)", rf_theory, rf_theory_ci, linear.fit.exponent, linear.fit.ci, label="alpha_W linear RF")]
    w_theory, w_theory_ci, w_errors = width_theory_exponent(nngp_spec, readout.features, readout.x)
    rows.append(_readout_row(arch, w_theory, w_theory_ci, readout))
    fields = {"alpha_W_predicted": w_theory, "alpha_W_predicted_ci": w_theory_ci,
              "alpha_W_measured": readout.fit.exponent, "alpha_W_measured_ci": readout.fit.ci,
              "alpha_W_rf_predicted": rf_theory, "alpha_W_rf_predicted_ci": rf_theory_ci,
              "alpha_W_rf_measured": linear.fit.exponent, "alpha_W_rf_measured_ci": linear.fit.ci,
              "width_range": (readout.x[0], readout.x[-1]), "width_theory_features": readout.features,
              "width_theory_errors": w_errors}
    if finite_width:
        if progress:
            progress("finite-width check", 0, 1)
        errors, counts, seconds = finite_width_errors(arch, dataset.x, spec.target, readout.x,
                                                      repeats=len(readout.losses[0]), seed=seed, device=device)
        curve = Curve("finite_width", "width", readout.x, counts, tuple(tuple(float(e) for e in row) for row in errors),
                      None, fit_curve(readout.x, errors, seed=seed), None,
                      {"theory": "E_W on the realized readout kernel of each measured network"})
        rows.append(make_row(
            "alpha_W", f"finite-width check, {seconds:.1f} s (a diagnosis, not a prediction): E_W(P) on each "
            "measured network's realized kernel; measured: readout features", curve.fit.exponent, curve.fit.ci,
            readout.fit.exponent, readout.fit.ci, label="alpha_W finite-width"))
        fields.update(finite_width=curve, seconds_finite_width=seconds)
    if trained:
        curve = measurement.curves["trained_width"]
        counts = tuple(feature_count(arch.with_width(w), dataset.x, "readout") for w in curve.x)
        rows.append(_trained_row("alpha_W", curve, width_theory_exponent(nngp_spec, counts, curve.x)[:2],
                                 "theory E_W(P) on the NNGP"))
    return rows, fields


def _trained_row(quantity: str, curve, predicted, basis: str) -> ComparisonRow:
    """A row measured on trained networks (:mod:`kernelscale.training`); the basis says so, and when it flattens."""
    estimate, interval = predicted
    fixed = f"width {curve.settings['width']}" if curve.x_name == "D" else f"D = {curve.settings['D']}"
    note = f"; measured: trained networks ({curve.settings['optimizer']}, {fixed})"
    if curve.fit.status != "ok":
        note += f", curve {curve.fit.status}"
    return make_row(quantity, basis + note, estimate, interval, curve.fit.exponent, curve.fit.ci,
                    label=f"{quantity} trained")


@precise_function
def compare(
    arch,
    data,
    *,
    n_samples: int | None = None,
    kernel: str = "ntk",
    seed: int = 0,
    sizes=None,
    widths=None,
    repeats: int = 5,
    ridge: float = 0.0,
    noise: float = 0.0,
    width: bool = True,
    finite_width: bool = False,
    trained: bool = False,
    trained_widths=None,
    trained_width: int = 64,
    training=None,
    device: str | None = None,
    use_cache: bool = True,
    progress=None,
) -> Comparison:
    """Predict (spectrum, fits, learning-curve and width theory) and measure (kernel regression against D; when
    ``width``, linear random features against P and finite networks' readout features against width) on the same
    ``n_samples`` points of ``data``; see the module docstring.

    ``finite_width`` (with ``width``) adds the finite-width diagnosis: the width theory on the realized readout
    kernels of the measured networks (:mod:`kernelscale.finite_width`), with its cost in ``seconds_finite_width``.

    ``trained`` adds rows measured on networks trained with optax (:mod:`kernelscale.training`, settings
    ``training``): test loss against D at ``trained_width``, and against ``trained_widths`` on all training points.
    The theory is the kernel's, so these rows show how far a trained network is from its kernel."""
    arch = as_architecture(arch)
    if kernel not in KINDS:
        raise DataError(f"kernel must be one of {', '.join(KINDS)}; got {kernel!r}.")
    if finite_width and not width:
        raise DataError("finite_width explains the readout width curve; it needs width=True.")
    if finite_width:
        split_below_last_hidden_layer(arch)  # unsupported architectures fail here, before any computation
    dataset = _load(arch, data, n_samples, seed)
    start = time.perf_counter()
    prediction = predict(arch, dataset, kernel=kernel, seed=seed, device=device, use_cache=use_cache,
                         progress=progress)
    spec = prediction.spectrum
    if spec.target is None:
        raise DataError(f"the data {dataset.name!r} has no target; a comparison needs labels.")
    outputs = spec.target.shape[1]
    seconds_predict = time.perf_counter() - start

    regimes = ("data", "width", "linear_rf") if width else ("data",)
    if trained:
        regimes += ("trained_data", "trained_width") if width else ("trained_data",)
    measurement = measure(arch, dataset, kernel=kernel, seed=seed, regimes=regimes, sizes=sizes, widths=widths,
                          repeats=repeats, ridge=ridge, noise=noise, trained_widths=trained_widths,
                          trained_width=trained_width, training=training, target=spec.target, device=device,
                          use_cache=use_cache, progress=progress)
    seconds_measure = measurement.seconds

    start = time.perf_counter()
    data_curve = measurement.curves["data"]
    d_theory, d_theory_ci, d_errors = data_theory_exponent(spec, data_curve.x, ridge=ridge, noise=noise * outputs)
    measured_d, measured_d_ci = data_curve.fit.exponent, data_curve.fit.ci
    rows = [
        make_row("alpha_D", "theory E_g(D) local, infinite-pool extrapolation (recommended)", d_theory, d_theory_ci,
                 measured_d, measured_d_ci, label="alpha_D theory (rec.)"),
        make_row("alpha_D", "task-aware min(a-1, 2b), b = 1 + alpha_K, asymptotic", prediction.alpha_D_task_aware,
                 prediction.alpha_D_task_aware_ci, measured_d, measured_d_ci, label="alpha_D task-aware"),
        make_row("alpha_D", "kernel-only alpha_K, asymptotic", prediction.alpha_D_kernel_only,
                 prediction.alpha_D_kernel_only_ci, measured_d, measured_d_ci, label="alpha_D kernel-only"),
    ]
    if trained:
        rows.append(_trained_row("alpha_D", measurement.curves["trained_data"],
                                 data_theory_exponent(spec, measurement.curves["trained_data"].x)[:2],
                                 "theory E_g(D) local"))
    width_fields = dict.fromkeys(("alpha_W_predicted", "alpha_W_predicted_ci", "alpha_W_measured",
                                  "alpha_W_measured_ci", "width_range", "width_theory_features",
                                  "width_theory_errors"))
    if width:
        width_rows, fields = _width_rows(arch, dataset, spec, measurement, kernel=kernel, seed=seed, device=device,
                                         use_cache=use_cache, finite_width=finite_width, trained=trained,
                                         progress=progress)
        rows += width_rows
        width_fields.update(fields)
    seconds_predict += time.perf_counter() - start - (width_fields.get("seconds_finite_width") or 0.0)
    return Comparison(
        arch=arch.spec, data=dataset.name, kernel=kernel, n=dataset.n, seed=seed,
        alpha_D_predicted=d_theory, alpha_D_predicted_ci=d_theory_ci,
        alpha_D_measured=measured_d, alpha_D_measured_ci=measured_d_ci,
        d_range=(data_curve.x[0], data_curve.x[-1]), rows=tuple(rows),
        theory_sizes=data_curve.x, theory_errors=tuple(d_errors),
        prediction=prediction, measurement=measurement,
        seconds_predict=seconds_predict, seconds_measure=seconds_measure, **width_fields,
    )
