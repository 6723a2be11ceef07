"""Intrinsic dimension of a data sample, and the manifold estimate of the exponent, alpha ~ 4/d.

Two estimators on the preprocessed, flattened sample, written here on one exact k-nearest-neighbour search
(importing scikit-dimension and numba for two formulas took several seconds; the tests check both against
scikit-dimension, ``skdim``, to 1e-10):

* TwoNN (Facco, d'Errico, Rodriguez, Laio, Sci. Rep. 7, 12140 (2017)): the ratio mu = r2/r1 of each point's second to
  first neighbour distance is Pareto with index d. Keep the 90% smallest ratios (the paper's heuristic), with
  F_i = i/N their empirical distribution; d is the slope, through the origin, of -log(1 - F) on log mu.
* MLE (Levina & Bickel, NIPS 2004; MacKay & Ghahramani's averaging of the inverse): with R_1 <= ... <= R_k a point's
  distances to its k nearest neighbours, its estimate is m = (k - 1) / sum_j log(R_k / R_j), and
  d = 1 / mean(1 / m).

The manifold picture of Bahri et al. / Sharma & Kaplan (arXiv 2004.10802): a model that interpolates a smooth target on
a d-dimensional manifold reaches alpha ~ 4/d. This is a different estimate from alpha_K (a kernel's spectrum),
reported beside it and never in its place.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .errors import DataError
from ._json import JsonResult
from .progress import Progress, no_progress
from .random import generator

MLE_NEIGHBORS = 20
MIN_POINTS = 3 * MLE_NEIGHBORS
# the exact neighbour search costs n^2 F: 2 million sphere points took over 300 s. Larger samples are estimated on a
# random subsample of this many points (about 2 s for 784 features on 2 cores), which the result states.
MAX_POINTS = 10_000


@dataclasses.dataclass(frozen=True)
class IntrinsicDimension(JsonResult):
    """Intrinsic-dimension estimates of one sample.

    Attributes:
      twonn, mle: the two estimates of d (MLE with ``neighbors`` nearest neighbours).
      alpha_manifold_twonn, alpha_manifold_mle: the manifold exponent estimate 4/d for each.
      n, neighbors: points used and the MLE's k.
      note: what the numbers are (and are not).
      subsampled_from: the distinct points of the sample when ``n`` of them, drawn at random, were used (samples
        over ``MAX_POINTS``), else None.
    """

    twonn: float
    mle: float
    alpha_manifold_twonn: float
    alpha_manifold_mle: float
    n: int
    neighbors: int
    note: str = ("intrinsic dimension of the inputs; 4/d is the manifold (interpolation) estimate of alpha, "
                 "a different estimate from alpha_K, not a check of it")
    subsampled_from: int | None = None


def intrinsic_dimension(x: np.ndarray, *, neighbors: int = MLE_NEIGHBORS, max_points: int = MAX_POINTS,
                        seed: int = 0, progress: Progress = no_progress) -> IntrinsicDimension:
    """TwoNN and Levina-Bickel MLE estimates of the intrinsic dimension of ``x`` (n, ...), flattened to (n, F).

    Duplicate points are dropped first (a zero nearest-neighbour distance has no ratio). Of more than ``max_points``
    distinct points, ``max_points`` drawn at random (stream ``"intrinsic_subsample"``) are used, and
    ``subsampled_from`` says so. ``progress("intrinsic dimension", rows_done, rows)``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2:
        raise DataError(f"x must have shape (n, features) or (n, H, W, C); got shape {x.shape}.")
    x = np.unique(x.reshape(len(x), -1), axis=0)
    if not np.all(np.isfinite(x)):
        raise DataError("x contains NaN or infinite values; clean or drop those points.")
    if len(x) < max(MIN_POINTS, 3 * neighbors):
        raise DataError(f"the intrinsic dimension needs at least {max(MIN_POINTS, 3 * neighbors)} distinct points; "
                        f"got {len(x)}.")
    distinct = len(x)
    if distinct > max_points:
        x = x[np.sort(generator(seed, "intrinsic_subsample").choice(distinct, max_points, replace=False))]
    distances = nearest_neighbor_distances(x, neighbors, progress=progress)
    twonn = twonn_dimension(distances[:, 0], distances[:, 1])
    mle = mle_dimension(distances)
    for name, value in (("TwoNN", twonn), ("MLE", mle)):
        if not (np.isfinite(value) and value > 0):
            raise DataError(f"the {name} intrinsic-dimension estimate failed on this sample (got {value}); the "
                            "points may lie on a lattice or have many near-duplicates.")
    return IntrinsicDimension(twonn=twonn, mle=mle, alpha_manifold_twonn=4.0 / twonn, alpha_manifold_mle=4.0 / mle,
                              n=len(x), neighbors=neighbors,
                              subsampled_from=distinct if distinct > max_points else None)


NEIGHBOR_BLOCK = 1024  # rows of the distance matrix held at once


def nearest_neighbor_distances(x: np.ndarray, k: int, *, progress: Progress = no_progress) -> np.ndarray:
    """Euclidean distances from each point of x (n, F) to its k nearest other points, sorted, shape (n, k).

    Candidates come from squared distances ``|a|^2 + |b|^2 - 2 a.b`` in blocks of NEIGHBOR_BLOCK rows; the chosen
    neighbours' distances are then recomputed as ``|a - b|`` directly (the expansion loses digits for close points).
    The candidate set keeps 2k + 2 per point, so rounding in the expansion cannot exclude a true neighbour unless
    distances agree to about 1e-8 of their scale.
    """
    n = len(x)
    if not 1 <= k < n:
        raise DataError(f"k nearest neighbours needs 1 <= k < n = {n}; got k = {k}.")
    norms = np.einsum("ij,ij->i", x, x)
    spare = min(n - 1, 2 * k + 2)
    # rows per block: the (rows, n) squared distances and the (rows, spare, F) differences stay near 64 MiB
    block = max(16, min(NEIGHBOR_BLOCK, 2**23 // max(n, spare * x.shape[1])))
    out = np.empty((n, k))
    for start in range(0, n, block):
        rows = slice(start, min(n, start + block))
        squared = norms[rows, None] + norms[None, :] - 2.0 * (x[rows] @ x.T)
        squared[np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop)] = np.inf  # not its own neighbour
        candidates = np.argpartition(squared, spare - 1, axis=1)[:, :spare]
        exact = np.sqrt(np.sum((x[rows, None, :] - x[candidates]) ** 2, axis=2))
        out[rows] = np.sort(exact, axis=1)[:, :k]
        progress("intrinsic dimension", rows.stop, n)
    return out


def twonn_dimension(r1: np.ndarray, r2: np.ndarray, *, discard_fraction: float = 0.1) -> float:
    """TwoNN from the first and second neighbour distances (n,): the slope through the origin of -log(1 - i/N) on
    log mu_(i) over the ``1 - discard_fraction`` smallest ratios mu = r2 / r1."""
    mu = np.sort(r2 / r1)
    keep = int(len(mu) * (1 - discard_fraction))
    if keep < 2:
        raise DataError(f"TwoNN needs at least 2 ratios after discarding {discard_fraction:.0%}; got {len(mu)}.")
    log_mu = np.log(mu[:keep])
    survival = -np.log(1 - np.arange(1, keep + 1) / len(mu))
    return float(np.dot(log_mu, survival) / np.dot(log_mu, log_mu))


def mle_dimension(distances: np.ndarray) -> float:
    """Levina-Bickel MLE from sorted neighbour distances (n, k): per point (k - 1) / sum_j log(R_k / R_j), combined
    as the inverse of the mean inverse (MacKay & Ghahramani)."""
    k = distances.shape[1]
    inverse = np.sum(np.log(distances[:, -1:] / distances), axis=1) / (k - 1)
    return float(1.0 / np.mean(inverse))
