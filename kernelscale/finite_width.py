"""The finite-width diagnosis of the width exponent (docs/theory.md, "Width"; ``compare --finite-width``).

A finite network's readout features are not random features of the NNGP kernel. Given its realized lower layers
(every layer below the last hidden one, at the network's finite width), the N units of the last hidden layer are
i.i.d. random features of the kernel

    K_c = w_std^2 T_phi(w_std^2 K_hat + b_std^2) + b_std^2,

with K_hat the kernel of the lower layers' outputs and T_phi the activation's dual; the NNGP is only K_c's mean over
the lower layers. This module rebuilds, for each network of the ``width`` regime (the same seeds, so the same
lower layers), K_c on the pool and evaluates the width theory ``E_W(P)`` on its spectrum. It needs one kernel and
one eigendecomposition per network, so it is a diagnosis of why the readout curve departs from the NNGP theory,
not a prediction made before training anything.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from ._compat import precise_function
from .architectures import Architecture, split_below_last_hidden_layer
from .kernels import compute_kernel
from .measurements import FEATURE_BATCH, feature_count
from .options import validated
from .random import jax_seed
from .spectrum import eigenvalues_and_powers
from .theory import width_curve


@precise_function
def lower_layer_outputs(arch: Architecture, x: np.ndarray, *, seed: int) -> np.ndarray:
    """Outputs of the layers below the last hidden layer of the network that
    :func:`kernelscale.measurements.network_features` builds with the same ``seed``: shape (n, ...) (x itself at
    depth 1)."""
    split = split_below_last_hidden_layer(arch)
    if split.lower_count == 0:
        return np.asarray(x, dtype=np.float64)
    _, params = arch.body[0](jax.random.PRNGKey(seed), (-1, *x.shape[1:]))
    lower = jax.jit(lambda batch: split.lower_apply(params[:split.lower_count], batch))
    return np.vstack([np.asarray(lower(jnp.asarray(x[start:start + FEATURE_BATCH], dtype=jnp.float64)))
                      for start in range(0, len(x), FEATURE_BATCH)])


@validated
@precise_function
def finite_width_errors(arch: Architecture, x: np.ndarray, y: np.ndarray, widths, *, repeats: int = 3,
                        seed: int = 0, device: str | None = None) -> tuple[np.ndarray, tuple[int, ...], float]:
    """``E_W(P)`` on the spectrum of each realized readout kernel K_c, for the networks of the ``width`` regime.

    Returns errors (len(widths), repeats) (network r at each width is the one the width regime measured as repeat
    r), the feature counts P per width, and the seconds it took.
    """
    start = time.perf_counter()
    split = split_below_last_hidden_layer(arch)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    counts = tuple(feature_count(arch.with_width(w), x, "readout") for w in widths)
    errors = np.empty((len(widths), repeats))
    if split.lower_count == 0:  # depth 1: K_c is the NNGP for every network
        matrix = compute_kernel(arch, x, kind="nngp", device=device).matrix
        values, powers, _ = eigenvalues_and_powers(matrix, y, device=device)
        errors[:] = np.array(width_curve(values, powers, counts).errors)[:, None]
        return errors, counts, time.perf_counter() - start
    for i, width in enumerate(widths):
        network = arch.with_width(width)
        top = split_below_last_hidden_layer(network).top
        for r in range(repeats):
            h = lower_layer_outputs(network, x, seed=jax_seed(seed, r))
            matrix = compute_kernel(top, h, kind="nngp", device=device, use_cache=False).matrix
            values, powers, _ = eigenvalues_and_powers(matrix, y, device=device)
            errors[i, r] = width_curve(values, powers, [counts[i]]).errors[0]
    return errors, counts, time.perf_counter() - start
