"""The GP target: one draw, y ~ N(0, K), the same labels for the same sample and seed on every path."""

import numpy as np
import pytest

import kernelscale as ks
from kernelscale.errors import KernelError
from kernelscale.targets import gp_target


def test_gp_target_has_the_kernel_as_its_covariance():
    x = ks.load_dataset("sphere:dim=3", n_samples=40, seed=0).x
    matrix = ks.compute_kernel("fc:depth=2", x, kind="nngp", use_cache=False).matrix
    draws = np.hstack([gp_target(matrix, seed=seed) for seed in range(4000)])
    covariance = draws @ draws.T / draws.shape[1]
    # each entry's Monte Carlo error: Var(y_i y_j) = K_ii K_jj + K_ij^2 over 4000 draws; the largest of the 820
    # distinct entries' z-scores stays below 5 (a Gaussian exceeds 5 sigma with probability 6e-7 per entry)
    sigma = np.sqrt((np.outer(np.diag(matrix), np.diag(matrix)) + matrix**2) / draws.shape[1])
    assert np.max(np.abs(covariance - matrix) / sigma) < 5.0


def test_predict_measure_and_the_pool_draw_the_same_target():
    data = "sphere:dim=3,target=gp"
    p = ks.predict("fc:depth=2", data, n_samples=600, seed=3, intrinsic=False)
    sample = ks.load_dataset(data, n_samples=600, seed=3)
    matrix = ks.compute_kernel("fc:depth=2", sample.x).matrix
    assert np.array_equal(p.spectrum.target, gp_target(matrix, seed=3))
    m = ks.measure("fc:depth=2", data, n_samples=600, seed=3, regimes=("data",), repeats=2)
    again = ks.measure("fc:depth=2", data, n_samples=600, seed=3, regimes=("data",), repeats=2,
                       target=p.spectrum.target)
    assert m.curves["data"].losses == again.curves["data"].losses


def test_a_matrix_that_is_not_positive_definite_is_a_kernel_error():
    with pytest.raises(KernelError, match="positive-definite"):
        gp_target(-np.eye(5), seed=0)
