"""Targets drawn from the architecture's own kernel (``target=gp`` data): one draw for every path.

``gp_target(K, seed)`` draws ``y = L z``, ``L`` the Cholesky factor of ``K + jitter I`` and ``z`` standard normal from
the ``"gp_target"`` stream, so ``y ~ N(0, K)`` up to the jitter. The Cholesky factor of a positive-definite matrix is
unique, so the target depends on the matrix and the seed only: predict, measure, compare and the pool check draw the
same labels for the same sample and seed, whichever device computed the kernel or eigendecomposes it (a draw through
eigenvectors would depend on the solver's signs and on its basis inside near-degenerate eigenspaces).

The jitter, ``GP_JITTER`` times the mean diagonal, keeps the factorisation defined where round-off leaves tiny
negative eigenvalues; it adds white noise of that variance per point, far below the eigenvalue noise floor of a
float64 kernel of a few thousand points.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from .errors import KernelError
from .random import generator

GP_JITTER = 1e-10


def gp_target(matrix: np.ndarray, *, seed: int) -> np.ndarray:
    """A draw ``y ~ N(0, K)`` for the (n, n) kernel Gram matrix K; returns shape (n, 1)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    n = matrix.shape[0]
    jittered = matrix.copy()
    jittered[np.diag_indices(n)] += GP_JITTER * float(np.mean(np.diag(matrix)))
    try:
        factor = linalg.cholesky(jittered, lower=True, overwrite_a=True, check_finite=True)
    except (linalg.LinAlgError, ValueError):
        raise KernelError("drawing a GP target needs a positive-definite kernel matrix, and this one is not (even "
                          f"with a jitter of {GP_JITTER:g} times its mean diagonal): it has NaN, infinite or "
                          "negative directions. Check the inputs for duplicates at a large scale, or use labelled "
                          "data.") from None
    return factor @ generator(seed, "gp_target").standard_normal((n, 1))
