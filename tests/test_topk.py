"""The top-k eigensolver (randomized Nystrom over kernel blocks computed on the fly) against the full
eigendecomposition, the automatic switch when the matrix will not fit, and its errors."""

import importlib
import json

import jax
import numpy as np
import pytest
from typer.testing import CliRunner

import kernelscale as ks
from kernelscale.cli import app
from kernelscale.errors import DataError, KernelError, MemoryPlanError
from kernelscale.kernels import kernel_operator
from kernelscale.spectrum import randomized_eigh, topk_spectrum

from helpers import tol

runner = CliRunner()


def _power_law_matrix(n, exponent, seed=0):
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((n, n)))[0]
    values = np.arange(1, n + 1, dtype=float) ** -exponent
    return (basis * values) @ basis.T, values, basis


def test_randomized_eigh_on_a_known_power_law_spectrum():
    matrix, values, basis = _power_law_matrix(600, 1.5)
    estimate, vectors = randomized_eigh(lambda v: matrix @ v, 600, 200)
    relative = np.abs(estimate - values[:200]) / values[:200]
    # Nystrom eigenvalues are lower bounds; with 2 power iterations the error grows with the index towards k
    # (measured on this slow decay: 4e-5 over the leading third, percent level near k)
    assert np.all(estimate <= values[:200] * (1 + 1e-10))
    assert relative[:10].max() < 1e-10 and relative[:66].max() < 1e-4
    assert relative[:100].max() < 1e-2
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(200), atol=1e-10)
    overlap = np.abs(np.sum(vectors[:, :20] * basis[:, :20], axis=0))  # |<u_i, true u_i>| for the top 20
    assert overlap.min() > 1 - 1e-6


def test_randomized_eigh_refuses_an_indefinite_operator_and_bad_k():
    matrix = np.diag(np.r_[np.ones(5), -np.ones(5)])
    with pytest.raises(KernelError, match="not positive semi-definite"):
        randomized_eigh(lambda v: matrix @ v, 10, 3, oversample=7)
    with pytest.raises(KernelError, match="n_eigs"):
        randomized_eigh(lambda v: v, 10, 10)


def test_operator_matches_the_matrix():
    x = ks.load_dataset("sphere:dim=5", n_samples=300, seed=1).x
    # the same uneven blocks both ways: entries near the diagonal depend on the block shape at the 1e-9 level
    # (arccos of a cosine near 1 amplifies the rounding of x.x'), so the assembly is compared block for block
    matrix = ks.compute_kernel("fc:depth=2", x, kind="ntk", batch_size=70, use_cache=False).matrix
    operator = kernel_operator("fc:depth=2", x, kind="ntk", batch_size=70)
    vectors = np.random.default_rng(0).standard_normal((300, 7))
    np.testing.assert_allclose(operator.matvec(vectors), matrix @ vectors, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(operator.diagonal(), np.diag(matrix), **tol())  # same blocks: same rounding


def test_topk_spectrum_against_the_full_one():
    data = ks.load_dataset("digits", n_samples=1000, seed=0)
    matrix = ks.compute_kernel("fc:depth=3", data.x, use_cache=False).matrix
    full = ks.spectrum(matrix, data.y, seed=0)
    top = topk_spectrum(kernel_operator("fc:depth=3", data.x), data.y, n_eigs=300, seed=0)
    assert top.solver == "topk" and top.eigenvalues.shape == (300,) and top.half_eigenvalues.shape == (2, 150)
    assert top.trace == pytest.approx(full.trace, rel=1e-9)  # diagonal entries computed in different block shapes
    assert top.target_norm == pytest.approx(full.target_norm, rel=tol()["rtol"])
    relative = np.abs(top.eigenvalues[:150] - full.eigenvalues[:150]) / full.eigenvalues[:150]
    assert relative[:100].max() < 1e-2 and relative.max() < 5e-2  # measured: 5.1e-3 up to index 100, 2e-2 at 150
    # target powers of the top 20 directions: measured 3.6e-7 of the total target power
    assert np.abs(top.target_powers[:20] - full.target_powers[:20]).max() < 1e-4 * full.target_norm
    # the tail sums the fit uses, total minus partial sums, up to index k/2 = 150: measured 0.22%
    tail_full = full.trace - np.cumsum(full.eigenvalues[:150])
    tail_top = top.trace - np.cumsum(top.eigenvalues[:150])
    assert np.max(np.abs(tail_top - tail_full) / tail_full) < 0.01


def test_predict_with_topk_agrees_with_full():
    full = ks.predict("fc:depth=3", "digits", n_samples=1797, eigensolver="full", intrinsic=False)
    top = ks.predict("fc:depth=3", "digits", n_samples=1797, eigensolver="topk", n_eigs=600, intrinsic=False)
    assert top.eigensolver == "topk" and top.n_eigs == 600 and top.fit_window[1] <= 300
    # measured: 0.217, [0.211, 0.226] (full) and [0.212, 0.225] (top-k); the window differs (124..495 against 75..300)
    assert top.alpha_K.value == pytest.approx(full.alpha_K.value, abs=0.02)
    assert top.alpha_K.contains(full.alpha_K.value)
    assert top.target_decay.value == pytest.approx(full.target_decay.value, abs=0.05)
    assert ks.Prediction.from_json(top.to_json()) == top


def test_auto_switches_to_topk_when_the_matrix_does_not_fit(monkeypatch):
    spectrum_module = importlib.import_module("kernelscale.spectrum")  # the module; kernelscale.spectrum: the function
    n = 1200
    monkeypatch.setattr(spectrum_module, "available_host_memory", lambda: 3 * n * n * 8)  # less than full's 4 n^2
    choice = spectrum_module.choose_eigensolver(n, "auto", None)
    assert (choice.name, choice.n_eigs) == ("topk", 472)  # the largest k whose workspace fits
    assert choice.reason.startswith("auto:") and "GiB available, too little" in choice.reason
    p = ks.predict("fc:depth=2", "digits", n_samples=n, n_eigs=400, intrinsic=False)
    assert p.eigensolver == "topk" and p.alpha_K is not None
    monkeypatch.setattr(spectrum_module, "available_host_memory", lambda: 10 * n * 8)
    with pytest.raises(MemoryPlanError, match="n_eigs <="):
        spectrum_module.choose_eigensolver(n, "auto", 400)


def test_topk_errors():
    with pytest.raises(DataError, match="target=gp"):
        ks.predict("fc", "sphere:dim=3,target=gp", n_samples=600, eigensolver="topk", n_eigs=100)
    with pytest.raises(DataError, match="n_eigs must be"):
        ks.predict("fc", "digits", n_samples=600, eigensolver="topk", n_eigs=300)
    with pytest.raises(DataError, match="eigensolver must be"):
        ks.predict("fc", "digits", n_samples=600, eigensolver="lanczos")


def test_cli_topk_json():
    result = runner.invoke(app, ["predict", "--arch", "fc:depth=2", "--data", "digits", "--n", "800",
                                 "--eigensolver", "topk", "--n-eigs", "200", "--no-intrinsic-dim", "--json", "-"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["eigensolver"] == "topk" and data["n_eigs"] == 200 and data["devices"] >= 1


def test_device_eigh_path_and_its_fallbacks(monkeypatch):
    """The JAX eigh path (run on the CPU device here, as it runs on a GPU) agrees with host LAPACK; a matrix over
    the device limit and a device failure fall back to the host and say why."""
    import importlib

    from kernelscale.spectrum import _device_eigh, eigendecompose_where

    spectrum_module = importlib.import_module("kernelscale.spectrum")  # the name ks.spectrum is the function

    x = ks.load_dataset("sphere:dim=4", n_samples=300, seed=0).x
    matrix = ks.compute_kernel("fc:depth=2", x, use_cache=False).matrix
    host_values, host_vectors, where = eigendecompose_where(matrix, device="cpu")
    assert where == "cpu"
    accelerator = jax.devices()[0].platform != "cpu"
    assert eigendecompose_where(matrix, device=None)[2] == jax.devices()[0].platform  # no accelerator: host LAPACK
    original = matrix.copy()
    values, vectors, where = _device_eigh(matrix, "cpu")  # the JAX path, explicitly on the CPU device
    assert where == "cpu"
    np.testing.assert_array_equal(matrix, original)  # the device buffer is donated, never the caller's array
    for bad, message in ((matrix + np.triu(np.ones_like(matrix), 1), "not symmetric"),
                         (np.where(np.eye(len(matrix), k=5, dtype=bool), np.nan, matrix), "NaN or infinite")):
        with pytest.raises(KernelError, match=message):  # checked on the device: an error, not a fallback
            _device_eigh(bad, "cpu")
    values, vectors = values[::-1], vectors[:, ::-1]
    np.testing.assert_allclose(values, host_values, rtol=1e-9, atol=1e-12 * host_values[0])
    overlap = np.abs(np.sum(vectors[:, :10] * host_vectors[:, :10], axis=0))  # eigenvectors up to sign
    np.testing.assert_allclose(overlap, 1.0, atol=1e-8)

    monkeypatch.setattr(spectrum_module, "GPU_EIGH_MAX_BYTES", 1000)
    assert "over the 0.0 GiB device eigh limit" in _device_eigh(matrix, "cpu")[2]
    monkeypatch.setenv("KERNELSCALE_GPU_EIGH_MAX_BYTES", "1e9")  # the environment overrides the default
    assert _device_eigh(matrix, "cpu")[2] == "cpu"
    monkeypatch.setenv("KERNELSCALE_GPU_EIGH_MAX_BYTES", "lots")
    with pytest.raises(KernelError, match="must be a number of bytes"):
        _device_eigh(matrix, "cpu")
    monkeypatch.delenv("KERNELSCALE_GPU_EIGH_MAX_BYTES")
    monkeypatch.setattr(spectrum_module, "GPU_EIGH_MAX_BYTES", None)
    values_only = _device_eigh(matrix, "cpu", vectors=False)
    assert values_only[1] is None
    np.testing.assert_allclose(values_only[0][::-1], host_values, rtol=1e-9, atol=1e-12 * host_values[0])

    def failing(*_):
        raise RuntimeError("cusolver failed")

    monkeypatch.setattr(spectrum_module, "_jitted_device_eigh", lambda: failing)
    assert _device_eigh(matrix, "cpu")[:2] == (None, None)
    assert "fallback: RuntimeError" in _device_eigh(matrix, "cpu")[2]
    if not accelerator:
        with pytest.raises(KernelError, match="JAX sees no GPU"):
            eigendecompose_where(matrix, device="gpu")
