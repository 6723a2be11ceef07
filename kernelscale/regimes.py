"""``measure``'s regimes: one function per measured curve, each taking the :class:`Setup` and returning a
:class:`~kernelscale.results.Curve`, in the registry :data:`REGIMES` (Bahri et al.'s four regimes, the theory's own
model ``linear_rf``, and trained networks; :mod:`kernelscale.measurements` and :mod:`kernelscale.training` hold the
loss computations). A regime reads only the setup, so adding one is adding a function and a registry entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .architectures import Architecture
from .fit import fit_curve
from .kernels import compute_kernel, select_device
from .measurements import (DATA_VARIANCE_REPEATS, DATA_VARIANCE_START, LINEAR_RF_REPEATS, TRAINED_REPEATS,
                           TRAINED_WIDTHS, VARIANCE_RATIO, WIDTH_REPEATS, WIDTH_VARIANCE_REPEATS, check_measured_sizes,
                           data_variance_losses, default_measured_sizes, feature_count, kernel_regression_losses,
                           linear_rf_feature_counts, linear_rf_losses, powers_of_two_widths, readout_widths,
                           width_losses, width_variance_losses)
from .progress import Progress, no_progress, renamed
from .results import Curve
from .spectrum import eigenvalues_and_projections
from .training import TrainingSettings, default_holdout, trained_losses

READOUT_SETTINGS = {"features": "readout", "limit_kernel": "nngp"}
# regimes that build finite networks of a changed width, which a user's stax triple cannot give
FINITE_NETWORK_REGIMES = frozenset({"width", "data_variance", "width_variance", "trained_width", "trained_data"})


@dataclasses.dataclass
class Setup:
    """What every regime reads: the sample (x, y; n points), the kernel and its options, each regime's grid (None:
    its default), and the kernel matrices computed so far (each kind once, on first use)."""

    arch: Architecture
    x: np.ndarray
    y: np.ndarray | None
    kernel: str
    seed: int
    device: str | None
    use_cache: bool
    repeats: int
    ridge: float
    noise: float
    sizes: tuple[int, ...] | None = None
    widths: tuple[int, ...] | None = None
    variance_width: int = 8
    variance_sizes: tuple[int, ...] | None = None
    variance_size: int = 16
    variance_widths: tuple[int, ...] | None = None
    trained_widths: tuple[int, ...] | None = None
    trained_width: int = 64
    trained_sizes: tuple[int, ...] | None = None
    training: TrainingSettings = dataclasses.field(default_factory=TrainingSettings)
    progress: Progress = no_progress
    matrices: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.x)

    def matrix(self, kind: str) -> np.ndarray:
        """The (n, n) ``kind`` kernel of the sample, computed once (progress under ``"<kind> kernel"``)."""
        if kind not in self.matrices:
            self.matrices[kind] = compute_kernel(self.arch, self.x, kind=kind, device=self.device,
                                                 use_cache=self.use_cache,
                                                 progress=renamed(self.progress, f"{kind} kernel")).matrix
        return self.matrices[kind]


def _rows(losses: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in losses)


def data_regime(setup: Setup) -> Curve:
    """Kernel regression with the setup's kernel against D (default n/64..n/4), tested on the rest of the pool."""
    sizes = check_measured_sizes(setup.sizes or default_measured_sizes(setup.n), setup.n // 2, "sizes")
    setup.progress("data curve", 0, len(sizes))
    losses = kernel_regression_losses(setup.matrix(setup.kernel), setup.y, sizes, repeats=setup.repeats,
                                      ridge=setup.ridge, noise=setup.noise, seed=setup.seed,
                                      progress=renamed(setup.progress, "data curve"))
    return Curve("data", "D", sizes, None, _rows(losses), None, fit_curve(sizes, losses, seed=setup.seed), None,
                 {"kernel": setup.kernel, "ridge": setup.ridge, "noise": setup.noise})


def width_regime(setup: Setup) -> Curve:
    """Readout features of finite networks against width (P <= n/4), fitted and scored on the whole pool."""
    widths = readout_widths(setup.arch, setup.x, setup.widths)
    setup.progress("width curve", 0, len(widths))
    losses, counts = width_losses(setup.arch, setup.x, setup.y, widths, repeats=min(setup.repeats, WIDTH_REPEATS),
                                  seed=setup.seed, progress=renamed(setup.progress, "width curve"))
    return Curve("width", "width", widths, counts, _rows(losses), None, fit_curve(widths, losses, seed=setup.seed),
                 None, READOUT_SETTINGS)


def linear_rf_regime(setup: Setup) -> Curve:
    """Linear random features of the NNGP kernel's eigenfeatures against P (the readout's feature counts)."""
    counts = linear_rf_feature_counts(setup.arch, setup.x, setup.widths)
    values, projections, _ = eigenvalues_and_projections(setup.matrix("nngp"), setup.y, device=setup.device)
    setup.progress("linear random-feature curve", 0, len(counts))
    losses = linear_rf_losses(values, projections, counts, repeats=max(setup.repeats, LINEAR_RF_REPEATS),
                              seed=setup.seed, progress=renamed(setup.progress, "linear random-feature curve"))
    return Curve("linear_rf", "P", counts, counts, _rows(losses), None, fit_curve(counts, losses, seed=setup.seed),
                 None, {"features": "linear random projections of the kernel's eigenfeatures", "limit_kernel": "nngp"})


def data_variance_regime(setup: Setup) -> Curve:
    """A network of ``variance_width`` trained on D = 64P..1024P points; the median gap to D = infinity."""
    count = feature_count(setup.arch.with_width(setup.variance_width), setup.x, "readout")
    sizes = check_measured_sizes(setup.variance_sizes or tuple(DATA_VARIANCE_START * count * 2**k for k in range(5)),
                                 64 * setup.n, "variance sizes")
    setup.progress("data-variance curve", 0, 1)  # one network per repeat, all sizes: one step
    losses, limits, count = data_variance_losses(setup.arch, setup.x, setup.y, sizes, width=setup.variance_width,
                                                 repeats=max(setup.repeats, DATA_VARIANCE_REPEATS), seed=setup.seed)
    setup.progress("data-variance curve", 1, 1)
    return Curve("data_variance", "D", sizes, (count,) * len(sizes), _rows(losses), tuple(limits),
                 fit_curve(sizes, losses, limits, seed=setup.seed, statistic="median"), 1.0,
                 {**READOUT_SETTINGS, "width": setup.variance_width})


def width_variance_regime(setup: Setup) -> Curve:
    """Networks of growing width (P from 8 D) trained on ``variance_size`` points, against NNGP kernel
    regression on the same split."""
    widths = setup.variance_widths or powers_of_two_widths(
        setup.arch, setup.x, lambda p: p >= VARIANCE_RATIO * setup.variance_size, first=True)
    widths = check_measured_sizes(widths, 2**16, "variance widths", lower=1)
    setup.progress("width-variance curve", 0, 1)
    losses, limits, counts = width_variance_losses(setup.arch, setup.x, setup.y, setup.matrix("nngp"), widths,
                                                   size=setup.variance_size,
                                                   repeats=max(setup.repeats, WIDTH_VARIANCE_REPEATS), seed=setup.seed)
    setup.progress("width-variance curve", 1, 1)
    return Curve("width_variance", "width", widths, counts, _rows(losses), tuple(limits),
                 fit_curve(widths, losses, limits, seed=setup.seed), 1.0,
                 {**READOUT_SETTINGS, "D": setup.variance_size})


def trained_width_regime(setup: Setup) -> Curve:
    """Networks trained with optax at each width (default 8..128 on a CPU, 8..1024 on a GPU) on all training points."""
    platform = select_device(setup.device).platform
    widths = check_measured_sizes(setup.trained_widths or TRAINED_WIDTHS.get(platform, TRAINED_WIDTHS["gpu"]), 2**16,
                                  "trained widths", lower=1)
    return _trained_curve(setup, "trained_width", widths, (setup.n - 2 * default_holdout(setup.n),))


def trained_data_regime(setup: Setup) -> Curve:
    """Networks of ``trained_width`` trained on D points (default 6 log-spaced from n/64 to n/4)."""
    sizes = check_measured_sizes(setup.trained_sizes or default_measured_sizes(setup.n, count=6),
                                 setup.n - 2 * default_holdout(setup.n),
                                 "trained sizes (D <= n - test - validation points)")
    return _trained_curve(setup, "trained_data", (setup.trained_width,), sizes)


def _trained_curve(setup: Setup, regime: str, widths: tuple[int, ...], sizes: tuple[int, ...]) -> Curve:
    """Test loss of trained networks against width (one D) or against D (one width), with each network's training
    loss and early-stopping step in the settings."""
    holdout = default_holdout(setup.n)
    result = trained_losses(setup.arch, setup.x, setup.y, widths, sizes, settings=setup.training,
                            repeats=min(setup.repeats, TRAINED_REPEATS), n_test=holdout, n_val=holdout,
                            seed=setup.seed, device=setup.device, progress=setup.progress)
    by_width = regime == "trained_width"
    losses, xs = (result.test[:, 0, :], widths) if by_width else (result.test[0], sizes)
    counts = result.parameters() if by_width else result.parameters() * len(sizes)
    networks = [[net for net in result.networks if net.width == w and net.size == s] for w in widths for s in sizes]
    settings = {**dataclasses.asdict(setup.training), "n_test": holdout, "n_val": holdout, "readout_init": "zero",
                "early_stopping": "validation", ("D" if by_width else "width"): sizes[0] if by_width else widths[0],
                "train_losses": [[round(net.train_loss, 6) for net in cell] for cell in networks],
                "best_steps": [[net.best_step for net in cell] for cell in networks]}
    return Curve(regime, "width" if by_width else "D", tuple(xs), tuple(counts), _rows(losses), None,
                 fit_curve(xs, losses, seed=setup.seed), None, settings)


REGIMES: dict[str, Callable[[Setup], Curve]] = {
    "data": data_regime,
    "width": width_regime,
    "linear_rf": linear_rf_regime,
    "data_variance": data_variance_regime,
    "width_variance": width_variance_regime,
    "trained_width": trained_width_regime,
    "trained_data": trained_data_regime,
}
