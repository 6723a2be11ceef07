"""Intrinsic dimension of a data sample, and the manifold estimate of the exponent, alpha ~ 4/d.

Two estimators from scikit-dimension (``skdim``), both on the preprocessed, flattened sample:

* TwoNN (Facco, d'Errico, Rodriguez, Laio, Sci. Rep. 7, 12140 (2017)): the ratio mu = r2/r1 of each point's second to
  first neighbour distance is Pareto with index d; d from the linear fit of -log(1 - F(mu)) on log mu.
* MLE (Levina & Bickel, NIPS 2004; MacKay & Ghahramani's averaging of the inverse): from the log-ratios of the
  distances to the k nearest neighbours.

The manifold picture of Bahri et al. / Sharma & Kaplan (arXiv 2004.10802): a model that interpolates a smooth target on
a d-dimensional manifold reaches alpha ~ 4/d. This is a different estimate from alpha_K (a kernel's spectrum),
reported beside it and never in its place.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .errors import DataError
from ._json import JsonResult

MLE_NEIGHBORS = 20
MIN_POINTS = 3 * MLE_NEIGHBORS


@dataclasses.dataclass(frozen=True)
class IntrinsicDimension(JsonResult):
    """Intrinsic-dimension estimates of one sample.

    Attributes:
      twonn, mle: the two estimates of d (MLE with ``neighbors`` nearest neighbours).
      alpha_manifold_twonn, alpha_manifold_mle: the manifold exponent estimate 4/d for each.
      n, neighbors: points used and the MLE's k.
      note: what the numbers are (and are not).
    """

    twonn: float
    mle: float
    alpha_manifold_twonn: float
    alpha_manifold_mle: float
    n: int
    neighbors: int
    note: str = ("intrinsic dimension of the inputs; 4/d is the manifold (interpolation) estimate of alpha, "
                 "a different estimate from alpha_K, not a check of it")


def intrinsic_dimension(x: np.ndarray, *, neighbors: int = MLE_NEIGHBORS) -> IntrinsicDimension:
    """TwoNN and Levina-Bickel MLE estimates of the intrinsic dimension of ``x`` (n, ...), flattened to (n, F).

    Duplicate points are dropped first (a zero nearest-neighbour distance has no ratio).
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
    import skdim  # slow to import (numba); only when asked for

    from sklearn.neighbors import NearestNeighbors

    # one k-nearest-neighbour search for both estimators (TwoNN alone would sort full distance rows, n^2 log n)
    distances, indices = NearestNeighbors(n_neighbors=neighbors, n_jobs=-1).fit(x).kneighbors()
    twonn = float(skdim.id.TwoNN(dist=True).fit(distances[:, :2]).dimension_)
    mle = float(skdim.id.MLE().fit(x, precomputed_knn_arrays=(distances, indices)).dimension_)
    for name, value in (("TwoNN", twonn), ("MLE", mle)):
        if not (np.isfinite(value) and value > 0):
            raise DataError(f"the {name} intrinsic-dimension estimate failed on this sample (got {value}); the "
                            "points may lie on a lattice or have many near-duplicates.")
    return IntrinsicDimension(twonn=twonn, mle=mle, alpha_manifold_twonn=4.0 / twonn, alpha_manifold_mle=4.0 / mle,
                              n=len(x), neighbors=neighbors)
