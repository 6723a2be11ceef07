"""``compare``: predict and measure on the same sample, and say whether they agree (:mod:`kernelscale.stats`).

alpha_D rows (against the measured kernel-regression curve over its D-range):
  * kernel-only: alpha_K by duality (Bahri et al.); task-aware: min(a - 1, 2b) (both asymptotic);
  * theory (recommended): the local exponent of the learning-curve theory E_g(D) (kappa, gamma; Canatar et al.) over
    the measured D-range, from the pool's spectrum and target powers, with the held-out pool correction
    (:func:`kernelscale.theory.learning_curve`), extrapolated to an infinite pool with the half-sample pools
    (:func:`kernelscale.curves.data_theory_exponent`): the reliable part of predict's learning curve L(D), so one
    method gives both commands' recommended alpha_D. Measured curves at these sizes are pre-asymptotic, and so is
    this.
alpha_W rows (docs/theory.md, "Width"): the width theory E_W(P) (P random features of the NNGP kernel at infinite
data) on the NNGP spectrum of the pool, scored on the pool's own measure (no held-out correction), against
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

import time

from ._compat import precise_function
from .architectures import Architecture, as_architecture, split_below_last_hidden_layer
from .curves import data_theory_exponent, width_theory_exponent
from .data import load_sample
from .errors import DataError, SpecError
from .estimates import Verdict
from .finite_width import finite_width_errors
from .fit import fit_curve
from .measure import measure
from .measurements import feature_count
from .options import Flag, validated
from .predict import predict
from .progress import Progress, no_progress
from .results import Comparison, ComparisonRow, Curve, Measurement, RowKind
from .spectrum import Spectrum
from .training import TrainingSettings


@validated(width=Flag())
@precise_function
def compare(arch, data, *, n_samples: int | None = None, kernel: str = "ntk", seed: int = 0, sizes=None,
            widths=None, repeats: int = 5, ridge: float = 0.0, noise: float = 0.0, width: bool = True,
            finite_width: bool = False, trained: bool = False, trained_widths=None, trained_width: int = 64,
            training: TrainingSettings | None = None, device: str | None = None, use_cache: bool = True,
            width_kernel: str = "nngp", progress: Progress = no_progress) -> Comparison:
    """Predict (spectrum, fits, learning-curve and width theory) and measure (kernel regression against D; when
    ``width``, linear random features against P and finite networks' readout features against width) on the same
    ``n_samples`` points of ``data``; see the module docstring.

    ``finite_width`` (with ``width``) adds the finite-width diagnosis: the width theory on the realized readout
    kernels of the measured networks (:mod:`kernelscale.finite_width`), with its cost in ``seconds_finite_width``.

    ``trained`` adds rows measured on networks trained with optax (:mod:`kernelscale.training`, settings
    ``training``): test loss against D at ``trained_width``, and against ``trained_widths`` on all training points.
    The theory is the kernel's, so these rows show how far a trained network is from its kernel.

    ``width_kernel``: the kernel of the width theory, as in :func:`kernelscale.predict` (the NNGP, whose random
    features a network's readout features are); the alpha_W rows and the prediction's L(P) share its spectrum."""
    arch = as_architecture(arch)
    if finite_width and not width:
        raise DataError("finite_width explains the readout width curve; it needs width=True.")
    if width and arch.body is None:
        raise DataError(f"{arch.spec!r} is a user's stax triple, whose width cannot be changed, so the width rows "
                        "(readout features of finite networks against width) cannot be measured; pass width=False to "
                        "compare alpha_D only.")
    if finite_width:
        split_below_last_hidden_layer(arch)  # unsupported architectures fail here, before any computation
    dataset = load_sample(data, n_samples=n_samples, seed=seed, input_kind=arch.input_kind)
    start = time.perf_counter()
    prediction = predict(arch, dataset, kernel=kernel, seed=seed, device=device, use_cache=use_cache,
                         width_kernel=width_kernel if width else kernel, progress=progress)
    spec = prediction.spectrum
    if spec.target is None:
        raise DataError(f"the data {dataset.name!r} has no target; a comparison needs labels.")
    seconds_predict = time.perf_counter() - start
    regimes = ("data", "width", "linear_rf") if width else ("data",)
    if trained:
        regimes += ("trained_data", "trained_width") if width else ("trained_data",)
    measurement = measure(arch, dataset, kernel=kernel, seed=seed, regimes=regimes, sizes=sizes, widths=widths,
                          repeats=repeats, ridge=ridge, noise=noise, trained_widths=trained_widths,
                          trained_width=trained_width, training=training, target=spec.target, device=device,
                          use_cache=use_cache, progress=progress)
    start = time.perf_counter()
    rows, theory_errors = _data_rows(prediction, measurement, ridge=ridge, noise=noise, trained=trained)
    fields = {"width_theory_errors": None}
    if width:
        width_rows, fields = _width_rows(arch, dataset.x, prediction.width_spectrum, measurement, seed=seed,
                                         device=device, finite_width=finite_width, trained=trained, progress=progress)
        rows += width_rows
    seconds_predict += time.perf_counter() - start - (fields.get("seconds_finite_width") or 0.0)
    return Comparison(rows=tuple(rows), theory_errors=theory_errors, prediction=prediction, measurement=measurement,
                      seconds_predict=seconds_predict, seconds_measure=measurement.seconds, **fields)


def _data_rows(prediction, measurement: Measurement, *, ridge: float, noise: float, trained: bool
               ) -> tuple[list[ComparisonRow], tuple[float, ...]]:
    """The alpha_D rows (theory, task-aware, kernel-only; trained) and the theory's curve at the measured sizes."""
    spec = prediction.spectrum
    data_curve = measurement.curves["data"]
    theory, theory_errors = data_theory_exponent(spec, data_curve.x, ridge=ridge, noise=noise * spec.target.shape[1])
    measured = data_curve.fit.exponent
    rows = [ComparisonRow(RowKind.D_THEORY, theory, measured),
            ComparisonRow(RowKind.D_TASK_AWARE, prediction.alpha_D_task_aware, measured),
            ComparisonRow(RowKind.D_KERNEL_ONLY, prediction.alpha_D_kernel_only, measured)]
    if trained:
        curve = measurement.curves["trained_data"]
        rows.append(_trained_row(RowKind.D_TRAINED, curve, data_theory_exponent(spec, curve.x)[0]))
    return rows, theory_errors


def _width_rows(arch: Architecture, x, nngp_spec: Spectrum, measurement: Measurement, *, seed: int, device,
                finite_width: bool, trained: bool, progress: Progress) -> tuple[list[ComparisonRow], dict]:
    """The alpha_W rows of :func:`compare` (see the module docstring) on the width kernel's spectrum (the
    prediction's), and the Comparison fields they fill."""
    readout, linear = measurement.curves["width"], measurement.curves["linear_rf"]
    rows = [ComparisonRow(RowKind.W_LINEAR_RF, width_theory_exponent(nngp_spec, linear.x)[0], linear.fit.exponent)]
    theory, theory_errors = width_theory_exponent(nngp_spec, readout.features, readout.x)
    rows.append(_readout_row(arch, ComparisonRow(RowKind.W_READOUT, theory, readout.fit.exponent)))
    fields = {"width_theory_errors": theory_errors}
    if finite_width:
        progress("finite-width check", 0, 1)
        errors, counts, seconds = finite_width_errors(arch, x, nngp_spec.target, readout.x, repeats=len(readout.losses[0]),
                                                      seed=seed, device=device)
        curve = Curve("finite_width", "width", readout.x, counts, tuple(tuple(float(e) for e in row) for row in errors),
                      None, fit_curve(readout.x, errors, seed=seed), None,
                      {"theory": "E_W on the realized readout kernel of each measured network"})
        rows.append(ComparisonRow(RowKind.W_FINITE_WIDTH, curve.fit.exponent, readout.fit.exponent))
        fields.update(finite_width=curve, seconds_finite_width=seconds)
    if trained:
        curve = measurement.curves["trained_width"]
        counts = tuple(feature_count(arch.with_width(w), x, "readout") for w in curve.x)
        rows.append(_trained_row(RowKind.W_TRAINED, curve, width_theory_exponent(nngp_spec, counts, curve.x)[0]))
    return rows, fields


def _readout_row(arch: Architecture, row: ComparisonRow) -> ComparisonRow:
    """The readout row, with a note saying where the theory's assumption fails when it disagrees."""
    if row.verdict != Verdict.DISAGREE:
        return row
    note = ("the readout features are random features of the realized finite-width kernel of the lower layers, not "
            "of the NNGP (docs/theory.md, section Width; --finite-width checks it)" if _has_lower_layers(arch) else
            "at depth 1 there are no lower layers: the gap is the non-Gaussian readout features or the theory's "
            "finite-P error")
    return ComparisonRow(row.kind, row.predicted, row.measured, note)


def _has_lower_layers(arch: Architecture) -> bool:
    try:
        return split_below_last_hidden_layer(arch).lower_count > 0
    except SpecError:  # residual networks: lower layers, but no single last hidden layer
        return True


def _trained_row(kind: RowKind, curve: Curve, predicted) -> ComparisonRow:
    """A row measured on trained networks (:mod:`kernelscale.training`); its note says how they were trained, and
    when the curve does not follow one power law."""
    fixed = f"width {curve.settings['width']}" if curve.x_name == "D" else f"D = {curve.settings['D']}"
    note = f"measured: trained networks ({curve.settings['optimizer']}, {fixed})"
    if curve.fit.status != "ok":
        note += f", curve {curve.fit.status}"
    return ComparisonRow(kind, predicted, curve.fit.exponent, note)
