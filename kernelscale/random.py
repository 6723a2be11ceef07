"""Named random streams: every random draw kernelscale makes comes from the user's ``seed`` through one stream
named here, so no two stages share a stream by accident and no module picks its own salt.

``generator(seed, "half_samples")`` is a NumPy ``Generator`` on ``SeedSequence(entropy)``, the entropy laid out as
the stream's entry in :data:`STREAMS` says: the seed, the stream's salt and, for streams drawn per size or repeat,
those indices (in the order that kept every stream's numbers when they were gathered here). ``jax_seed`` gives the
integer seeds of JAX ``PRNGKey`` s (finite networks' initialisations).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# name -> entropy of its SeedSequence, from (seed, *indices)
STREAMS: dict[str, Callable[..., list[int] | int]] = {
    # data: the sample of a data file, synthetic points, input noise, a Dataset subsampled
    "sample": lambda seed: seed,
    "input_noise": lambda seed: [seed, 0x6E6F6973],
    "subsample": lambda seed: [seed, 0xD5],
    "fresh_points": lambda seed, repeat: [seed, repeat, 0xF2E5],
    # targets drawn from the kernel, and the probe points that fingerprint a user's network
    "gp_target": lambda seed: [seed, 0x6770, 1],
    "network_probe": lambda seed: [seed, 0x9E7],
    "intrinsic_subsample": lambda seed: [seed, 0x1D],
    # spectra: disjoint random halves, and the top-k solver's starting basis
    "half_samples": lambda seed: [seed, 0x4A1F],
    "topk_basis": lambda seed: [seed, 0x70B4],
    # measured curves, per size (or feature count) and repeat
    "kernel_regression": lambda seed, size, repeat: [seed, size, repeat],
    "data_variance": lambda seed, size, repeat: [seed, size, repeat, 1],
    "width_variance": lambda seed, size, repeat: [seed, size, repeat, 2],
    "loss_surface": lambda seed, repeat: [seed, repeat, 3],
    "linear_rf": lambda seed, count, repeat: [seed, count, repeat, 4],
    "training_split": lambda seed, repeat: [seed, repeat, 4],
    # bootstrap intervals of fitted curves and loss models
    "curve_bootstrap": lambda seed: seed,
    "loss_model_bootstrap": lambda seed: seed,
    # the out-of-sample pool check
    "pool_split": lambda seed: [seed, 0x9001],
    "pool_sample": lambda seed: [seed, 0x5A3],
    "pool_training_sets": lambda seed, size, repeat: [seed, size, repeat, 0xB0],
    "pool_bootstrap": lambda seed: [seed, 0xB1],
    # the compute-optimal frontier measured by one-pass SGD: the order a finite data set is passed in, per repeat
    "sgd_order": lambda seed, repeat: [seed, repeat, 0x5CD],
    # plots: error bars of a median over repeats
    "median_error_bars": lambda seed: seed,
}


def generator(seed: int, stream: str, *indices: int) -> np.random.Generator:
    """The NumPy generator of ``stream`` for ``seed`` (and the stream's indices, e.g. size and repeat)."""
    if stream not in STREAMS:
        raise KeyError(f"no random stream named {stream!r}; streams: {', '.join(STREAMS)}.")
    return np.random.default_rng(np.random.SeedSequence(STREAMS[stream](int(seed), *(int(i) for i in indices))))


def jax_seed(seed: int, repeat: int) -> int:
    """The ``PRNGKey`` seed of the finite network of repeat ``repeat`` (the width regimes, the finite-width check and
    trained networks use the same networks for the same seed and repeat)."""
    return int(seed) * 1000 + int(repeat)
