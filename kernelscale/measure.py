"""``measure``: the same sample -> measured curves (:mod:`kernelscale.regimes`) -> Measurement; and
``measure_loss_surface``: random-feature losses on a width x data grid -> a fitted loss model for ``allocate``."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ._compat import precise_function
from .allocation import fit_loss_model
from .architectures import Architecture, as_architecture
from .data import Dataset, load_sample
from .distributed import job_devices, process_count
from .kernels import select_devices
from .errors import DataError
from .measurements import check_measured_sizes, grid_losses, powers_of_two_widths
from .options import REGIMES as REGIME_NAMES
from .options import validated
from .progress import Progress, no_progress
from .regimes import FINITE_NETWORK_REGIMES, REGIMES, Setup
from .results import LossModelFit, Measurement
from .targets import gp_target
from .training import TrainingSettings


@validated
@precise_function
def measure(arch: str | Architecture | tuple, data: str | Dataset, *, n_samples: int | None = None,
            kernel: str = "ntk", seed: int = 0, regimes: tuple[str, ...] = ("data", "width"), sizes=None,
            widths=None, repeats: int = 5, ridge: float = 0.0, noise: float = 0.0, variance_width: int = 8,
            variance_sizes=None, variance_size: int = 16, variance_widths=None, trained_widths=None,
            trained_width: int = 64, trained_sizes=None, training: TrainingSettings | None = None,
            target: np.ndarray | None = None, device: str | None = None, use_cache: bool = True,
            progress: Progress = no_progress) -> Measurement:
    """Measure scaling curves and their exponents on ``n_samples`` points of ``data`` (the pool).

    Regimes (:mod:`kernelscale.regimes`; Bahri et al., :mod:`kernelscale.measurements`): ``"data"`` kernel
    regression with ``kernel`` against D (``sizes``, default n/64..n/4), tested on the rest of the pool, with
    ``ridge`` and label ``noise`` (variance per output column); ``"width"`` readout random features of finite
    networks against width (``widths``, default powers of two with P <= n/4), fitted and scored on the whole pool;
    ``"linear_rf"`` linear random features of the NNGP kernel's eigenfeatures at the readout's feature counts (at
    least 16 repeats), the model the width theory is exact for; ``"data_variance"`` a network of ``variance_width``
    trained on ``variance_sizes`` points (default 64P..1024P, at least 32 repeats, the median over repeats);
    ``"width_variance"`` networks of ``variance_widths`` (default P from 8 to 128 times D) trained on
    ``variance_size`` points, against NNGP kernel regression on the same split; ``"trained_width"`` networks trained
    with optax (``training``, :mod:`kernelscale.training`) at ``trained_widths`` (default 8..128 on a CPU, 8..1024 on
    a GPU) on all training points; ``"trained_data"`` networks of ``trained_width`` on ``trained_sizes`` points
    (default 6 from n/64 to n/4). Trained curves use min(repeats, 3) repeats.

    ``target`` replaces the dataset's labels (e.g. the GP target a :class:`Prediction` drew, ``p.spectrum.target``).
    Each curve's exponent comes with a 95% bootstrap interval over ``repeats`` independent draws.
    """
    start = time.perf_counter()
    arch = as_architecture(arch)
    if arch.body is None and FINITE_NETWORK_REGIMES & set(regimes):
        kernel_only = tuple(name for name in regimes if name not in FINITE_NETWORK_REGIMES) or ("data",)
        raise DataError(f"{arch.spec!r} is a user's stax triple, whose width cannot be changed; the regimes "
                        f"{', '.join(sorted(FINITE_NETWORK_REGIMES & set(regimes)))} need finite networks of a "
                        f"kernelscale spec (fc, cnn, cnn-gap, resnet). Pass regimes={kernel_only!r} to measure what "
                        "the kernel alone gives.")
    select_devices(device)  # a missing GPU fails before anything is loaded
    dataset = load_sample(data, n_samples=n_samples, seed=seed, input_kind=arch.input_kind)
    setup = Setup(arch, dataset.x, None, kernel, seed, device, use_cache, repeats, ridge, noise, sizes=sizes,
                  widths=widths, variance_width=variance_width, variance_sizes=variance_sizes,
                  variance_size=variance_size, variance_widths=variance_widths, trained_widths=trained_widths,
                  trained_width=trained_width, trained_sizes=trained_sizes, training=training or TrainingSettings(),
                  progress=progress)
    setup.y = _target(setup, dataset, target)
    curves = {name: REGIMES[name](setup) for name in REGIME_NAMES if name in regimes}
    return Measurement(arch=arch.spec, data=dataset.name, kernel=kernel, n=dataset.n, seed=seed, curves=curves,
                       seconds=time.perf_counter() - start, notes=tuple(dataset.metadata.get("notes", ())),
                       processes=process_count(), devices=len(job_devices(device)))


def _target(setup: Setup, dataset: Dataset, target) -> np.ndarray:
    """The labels to measure against, (n, c): ``target`` when given, the dataset's, or a GP target drawn from the
    setup's kernel (:mod:`kernelscale.targets`, the draw predict makes)."""
    y = target if target is not None else dataset.y
    if y is None and dataset.metadata.get("target") == "gp":
        y = gp_target(setup.matrix(setup.kernel), seed=setup.seed)
    if y is None:
        raise DataError(f"the data {dataset.name!r} has no target; measuring a loss needs labels (use target=gp for "
                        "sphere data, or a dataset with y).")
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 0 or len(y) != dataset.n or not np.all(np.isfinite(y)):
        raise DataError(f"target must have {dataset.n} finite rows; got shape {y.shape}.")
    return y.reshape(dataset.n, -1)


@validated
@precise_function
def measure_loss_surface(arch: str | Architecture | tuple, data: str | Dataset, *, n_samples: int | None = None,
                         widths=None, sizes=None, repeats: int = 3, ridge: float = 0.1, n_test: int | None = None,
                         seed: int = 0, progress: Progress = no_progress) -> LossModelFit:
    """Measure random-feature test losses on a grid of (width, D) and fit ``L = E + A/P^alpha + B/D^beta``.

    N is the feature count P of each width (the readout's parameters). Defaults: ``n_test`` = min(500, n/4) held-out
    points; ``widths`` the (up to 6) powers of two with 8 <= P <= n/2; ``sizes`` 6 log-spaced D from 32 to
    n - n_test. ``ridge`` on the feature Gram matrix keeps the P ~ D interpolation peak out of the surface (see
    :func:`kernelscale.measurements.grid_losses`). Feed the result to :func:`kernelscale.allocate`.
    """
    arch = as_architecture(arch)
    if arch.body is None:
        raise DataError(f"{arch.spec!r} is a user's stax triple; a width grid needs a kernelscale spec whose width "
                        "can be changed (fc, cnn, cnn-gap, resnet).")
    dataset = load_sample(data, n_samples=n_samples, seed=seed, input_kind=arch.input_kind)
    if dataset.y is None:
        raise DataError(f"the data {dataset.name!r} has no labels; a loss surface needs a target.")
    n = dataset.n
    n_test = min(500, n // 4) if n_test is None else n_test
    widths = widths or powers_of_two_widths(arch, dataset.x, lambda p: 8 <= p <= n // 2, count=6)
    widths = check_measured_sizes(widths, 2**16, "widths", lower=1)
    sizes = sizes or tuple(int(round(s)) for s in np.geomspace(32, n - n_test, 6))
    sizes = check_measured_sizes(sizes, n - n_test, "sizes")
    progress("loss surface", 0, 1)
    losses, counts = grid_losses(arch, dataset.x, dataset.y, widths, sizes, repeats=repeats, ridge=ridge,
                                 n_test=n_test, seed=seed)
    progress("loss surface", 1, 1)
    fit = fit_loss_model(counts, sizes, losses, seed=seed)
    source = {"arch": arch.spec, "data": dataset.name, "n": n, "seed": seed, "widths": list(widths),
              "ridge": ridge, "n_test": n_test, "features": "readout", "N": "feature count P"}
    return dataclasses.replace(fit, source=source)
