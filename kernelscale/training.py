"""Trained finite networks: gradient descent with optax on the MSE, measured beside the kernel and random-feature
models (Bahri et al., arXiv 2102.06701, measure the resolution-limited regimes on trained networks too).

Splits: per repeat r the pool of n points is permuted once into ``n_test`` test points, ``n_val`` validation
points and the rest; training sets of size D are prefixes of the rest (nested, so the curve against D is smooth).

Network: the architecture's body at the given width and a dense readout with one unit per target column, in the
NTK parameterization of the kernels. The readout starts at zero, so the initial function is 0: with a random readout
the initial function's own output (variance about K(x, x) per column, whatever the width) stays in the test loss
wherever training has not removed it, and hides the width dependence (Lee et al. 2020, arXiv 2007.15801, centre
networks for the same reason).

Training: ``optimizer`` (``"adam"`` or ``"sgd"``) with a cosine-decayed step size over ``steps`` steps, on
``mean_i sum_c (f_c(x_i) - y_ic)^2``, full batch or minibatches of ``batch_size`` drawn with replacement, in float32.
Early stopping: the validation loss is evaluated every ``eval_every`` steps, and the reported test loss is the one at
the evaluation with the lowest validation loss (the test points choose nothing).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ._compat import precise_function
from .architectures import Architecture
from .errors import DataError, MemoryPlanError
from .kernels import select_device
from .memory import available_device_memory
from .options import validated
from .progress import Progress, no_progress
from .random import generator, jax_seed

OPTIMIZERS = ("adam", "sgd")  # optax's names; optax is imported when a network is trained (it takes 0.2 s to import)


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """How each network is trained (see the module docstring).

    Attributes:
      optimizer: ``"adam"`` or ``"sgd"``.
      learning_rate: peak step size; decays to 0 along a cosine over ``steps``.
      steps: optimizer steps; a multiple of ``eval_every``.
      eval_every: steps between validation evaluations (early-stopping resolution).
      batch_size: minibatch size, or None for full-batch gradient descent.
      dtype: ``"float32"`` or ``"float64"`` for parameters and data during training.
    """

    optimizer: str = "adam"
    learning_rate: float = 3e-3
    steps: int = 3000
    eval_every: int = 250
    batch_size: int | None = None
    dtype: str = "float32"

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise DataError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}.")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise DataError(f"learning_rate must be a finite number > 0; got {self.learning_rate}.")
        if not (isinstance(self.eval_every, int) and self.eval_every >= 1):
            raise DataError(f"eval_every must be an integer >= 1; got {self.eval_every!r}.")
        if not (isinstance(self.steps, int) and self.steps >= self.eval_every and self.steps % self.eval_every == 0):
            raise DataError(f"steps must be a positive multiple of eval_every={self.eval_every}; got {self.steps!r}.")
        if self.batch_size is not None and not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise DataError(f"batch_size must be None (full batch) or an integer >= 1; got {self.batch_size!r}.")
        if self.dtype not in ("float32", "float64"):
            raise DataError(f"dtype must be 'float32' or 'float64'; got {self.dtype!r}.")


@dataclasses.dataclass(frozen=True)
class TrainedNetwork:
    """One trained network.

    Attributes:
      width, size: the network's width and its number of training points D.
      parameters: number of trained parameters.
      best_step: the step with the lowest validation loss (early stopping).
      train_loss, val_loss, test_loss: MSE (summed over output columns) at ``best_step``.
      history: ((step, train, val, test), ...) at every evaluation.
    """

    width: int
    size: int
    parameters: int
    best_step: int
    train_loss: float
    val_loss: float
    test_loss: float
    history: tuple[tuple[int, float, float, float], ...]


def _mse(apply_fn: Callable, params, x, y, weights):
    """``sum_i w_i sum_c (f_c(x_i) - y_ic)^2 / sum_i w_i``: the MSE over the rows with weight 1 (0 marks padding)."""
    return jnp.sum(weights * jnp.sum((apply_fn(params, x) - y) ** 2, axis=1)) / jnp.sum(weights)


class Trainer:
    """Compiled training for one (architecture, width, settings) and training arrays of shapes ``x_shape``
    (capacity, ...) and ``y_shape`` (capacity, outputs): reused across repeats and training-set sizes up to the
    capacity (smaller sets are padded with rows of weight 0).

    Compiling ``eval_every`` optimizer steps (one ``lax.scan``) gives XLA's memory analysis, which is checked against
    the device's free memory before anything is trained.
    """

    @precise_function
    def __init__(self, arch: Architecture, width: int, x_shape: tuple[int, ...], y_shape: tuple[int, ...],
                 settings: TrainingSettings, device: str | None = None):
        self.arch, self.width, self.settings = arch, width, settings
        self.device = select_device(device)
        self.dtype = jnp.dtype(settings.dtype)
        import optax

        self.init_fn, apply_fn = arch.with_width(width).finite_network(y_shape[1])
        self.optimizer = getattr(optax, settings.optimizer)(optax.cosine_decay_schedule(settings.learning_rate,
                                                                                        settings.steps))
        with jax.default_device(self.device):
            params = self._init(0, x_shape)
            state = self.optimizer.init(params)
        self.capacity = capacity = x_shape[0]
        batch = settings.batch_size if settings.batch_size is not None and settings.batch_size < capacity else None
        optimizer = self.optimizer

        def chunk(params, state, key, x_train, y_train, weights, size):
            def step(carry, index):
                params, state = carry
                if batch is None:
                    x, y, w = x_train, y_train, weights
                else:
                    rows = jax.random.randint(jax.random.fold_in(key, index), (batch,), 0, size)
                    x, y, w = x_train[rows], y_train[rows], weights[rows]
                grads = jax.grad(lambda p: _mse(apply_fn, p, x, y, w))(params)
                updates, state = optimizer.update(grads, state, params)
                new = optax.apply_updates(params, updates)
                return (jax.tree_util.tree_map(lambda a, old: a.astype(old.dtype), new, params), state), None

            (params, state), _ = jax.lax.scan(step, (params, state), jnp.arange(settings.eval_every))
            return params, state

        weights = jax.ShapeDtypeStruct((capacity,), self.dtype)
        x_train, y_train = (jax.ShapeDtypeStruct(shape, self.dtype) for shape in (x_shape, y_shape))
        self.chunk = jax.jit(chunk).lower(params, state, jax.random.PRNGKey(0), x_train, y_train, weights,
                                          jnp.int32(capacity)).compile()
        self.losses = jax.jit(lambda p, *arrays: jnp.stack([_mse(apply_fn, p, *arrays[i:i + 3])
                                                            for i in range(0, len(arrays), 3)]))
        self.parameters = int(ravel_pytree(params)[0].size)
        self._check_memory()

    def _init(self, seed: int, x_shape):
        _, params = self.init_fn(jax.random.PRNGKey(seed), (-1, *x_shape[1:]))
        return jax.tree_util.tree_map(lambda a: a.astype(self.dtype), params)

    def _check_memory(self) -> None:
        stats = self.chunk.memory_analysis()
        if stats is None:
            return
        need = stats.temp_size_in_bytes + stats.argument_size_in_bytes + stats.output_size_in_bytes
        available = available_device_memory(self.device)
        if need > available:
            raise MemoryPlanError(f"training {self.arch.spec} at width {self.width} on D = {self.capacity} needs about "
                                  f"{need / 2**30:.2f} GiB on {self.device}, more than the {available / 2**30:.2f} GiB "
                                  "free; use smaller widths, fewer training points or a minibatch size (batch_size).")

    @precise_function
    def train(self, train, val, test, seed: int = 0) -> TrainedNetwork:
        """Train from the initialisation of ``seed``; early stopping on ``val``; score on ``test`` (x, y pairs)."""
        settings = self.settings
        size = len(train[0])
        if not 1 <= size <= self.capacity:
            raise DataError(f"this trainer takes 1 to {self.capacity} training points; got {size}.")
        padding = self.capacity - size
        x_train = np.concatenate([train[0], np.zeros((padding, *train[0].shape[1:]))])
        y_train = np.concatenate([train[1], np.zeros((padding, train[1].shape[1]))])
        weights = np.concatenate([np.ones(size), np.zeros(padding)])
        with jax.default_device(self.device):
            train_arrays = [jnp.asarray(a, dtype=self.dtype) for a in (x_train, y_train, weights)]
            arrays = list(train_arrays)
            for x, y in (val, test):
                arrays += [jnp.asarray(x, dtype=self.dtype), jnp.asarray(y, dtype=self.dtype),
                           jnp.ones(len(x), dtype=self.dtype)]
            params = self._init(seed, x_train.shape)
            state = self.optimizer.init(params)
            key = jax.random.PRNGKey(seed + 1)
            history = []
            for done in range(settings.eval_every, settings.steps + 1, settings.eval_every):
                params, state = self.chunk(params, state, jax.random.fold_in(key, done), *train_arrays,
                                           jnp.int32(size))
                history.append((done, *(float(v) for v in self.losses(params, *arrays))))
        if not all(math.isfinite(v) for row in history for v in row[1:]):
            raise DataError(f"training {self.arch.spec} at width {self.width} diverged (a loss became NaN or "
                            f"infinite); use a smaller learning_rate than {settings.learning_rate}.")
        best = min(history, key=lambda row: row[2])
        return TrainedNetwork(width=self.width, size=size, parameters=self.parameters, best_step=best[0],
                              train_loss=best[1], val_loss=best[2], test_loss=best[3], history=tuple(history))


@validated
@precise_function
def train_network(arch: Architecture, width: int, train: tuple[np.ndarray, np.ndarray],
                  val: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], *,
                  settings: TrainingSettings = TrainingSettings(), seed: int = 0,
                  device: str | None = None) -> TrainedNetwork:
    """Train ``arch`` at ``width`` on ``train = (x, y)`` with early stopping on ``val``; score on ``test``.

    x arrays have shape (m, ...) as the architecture takes them, y arrays (m, outputs).
    """
    return Trainer(arch, width, np.shape(train[0]), np.shape(train[1]), settings, device).train(train, val, test, seed)


@dataclasses.dataclass(frozen=True)
class TrainedLosses:
    """Test losses of trained networks on a grid of (width, D): ``test`` (len(widths), len(sizes), repeats), and the
    networks themselves (width-major, then D, then repeat) for their training losses, best steps and histories."""

    widths: tuple[int, ...]
    sizes: tuple[int, ...]
    test: np.ndarray
    networks: tuple[TrainedNetwork, ...]

    def parameters(self) -> tuple[int, ...]:
        """Trained parameters per width."""
        by_width = {net.width: net.parameters for net in self.networks}
        return tuple(by_width[w] for w in self.widths)


def default_holdout(n: int) -> int:
    """Test and validation points each: min(500, n / 5)."""
    return min(500, n // 5)


@validated
@precise_function
def trained_losses(arch: Architecture, x: np.ndarray, y: np.ndarray, widths, sizes, *,
                   settings: TrainingSettings = TrainingSettings(), repeats: int = 3, n_test: int | None = None,
                   n_val: int | None = None, seed: int = 0, device: str | None = None,
                   progress: Progress = no_progress) -> TrainedLosses:
    """Train one network per (width, D, repeat) (see the module docstring); test losses and the networks."""
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    n = len(x)
    n_test = default_holdout(n) if n_test is None else n_test
    n_val = default_holdout(n) if n_val is None else n_val
    if min(n_test, n_val) < 1 or max(sizes) > n - n_test - n_val:
        raise DataError(f"trained networks need n_test, n_val >= 1 and D <= n - n_test - n_val = "
                        f"{n - n_test - n_val}; got n_test={n_test}, n_val={n_val}, D up to {max(sizes)}.")
    splits = []
    for r in range(repeats):
        order = generator(seed, "training_split", r).permutation(n)
        splits.append((order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]))
    test = np.empty((len(widths), len(sizes), repeats))
    networks = []
    total, done = len(widths) * len(sizes) * repeats, 0
    for i, width in enumerate(widths):
        trainer = Trainer(arch, width, (max(sizes), *x.shape[1:]), (max(sizes), y.shape[1]), settings, device)
        for j, size in enumerate(sizes):
            for r, (test_rows, val_rows, pool) in enumerate(splits):
                rows = pool[:size]
                parts = ((x[rows], y[rows]), (x[val_rows], y[val_rows]), (x[test_rows], y[test_rows]))
                net = trainer.train(*parts, seed=jax_seed(seed, r))
                test[i, j, r] = net.test_loss
                networks.append(net)
                done += 1
                progress("trained networks", done, total)
    return TrainedLosses(tuple(widths), tuple(sizes), test, tuple(networks))
