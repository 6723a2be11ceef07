"""The accelerator paths, on a machine with a GPU (skipped elsewhere, CI included): kernels, the full and half-sample
eigendecompositions and predict on the GPU agree with the host, and say where they ran."""

import jax
import numpy as np
import pytest

import kernelscale as ks
from kernelscale.spectrum import eigendecompose_where, spectrum


def _has_gpu() -> bool:
    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


pytestmark = pytest.mark.skipif(not _has_gpu(), reason="needs a GPU")


@pytest.fixture(scope="module")
def sample():
    data = ks.load_dataset("digits", n_samples=800, seed=0)
    gpu = ks.compute_kernel("fc:depth=3,act=relu", data.x, device="gpu", use_cache=False)
    cpu = ks.compute_kernel("fc:depth=3,act=relu", data.x, device="cpu", use_cache=False)
    return data, gpu, cpu


def test_gpu_kernel_matches_the_host(sample):
    _, gpu, cpu = sample
    assert gpu.device == "gpu" and cpu.device == "cpu"
    # arccos near cos = 1 (the diagonal) amplifies float64 rounding to ~1e-8 relative (test_kernels_and_spectrum)
    np.testing.assert_allclose(gpu.matrix, cpu.matrix, rtol=1e-7, atol=1e-12)


def test_gpu_eigh_and_half_samples_match_the_host(sample):
    data, gpu, _ = sample
    values, vectors, where = eigendecompose_where(gpu.matrix, device="gpu")
    assert where == "gpu"
    host_values, host_vectors, host_where = eigendecompose_where(gpu.matrix, device="cpu")
    assert host_where == "cpu"
    np.testing.assert_allclose(values, host_values, rtol=1e-8, atol=1e-13 * host_values[0])
    on_gpu = spectrum(gpu.matrix, data.y, device="gpu", decomposition=(values, vectors))
    on_host = spectrum(gpu.matrix, data.y, device="cpu", decomposition=(host_values, host_vectors))
    top = 100  # well separated eigenvalues: their target powers do not depend on the solver
    np.testing.assert_allclose(on_gpu.half_eigenvalues, on_host.half_eigenvalues, rtol=1e-8,
                               atol=1e-13 * host_values[0])
    np.testing.assert_allclose(on_gpu.target_powers[:top], on_host.target_powers[:top], rtol=1e-6, atol=1e-14)
    np.testing.assert_allclose(on_gpu.half_target_powers[:, :top], on_host.half_target_powers[:, :top], rtol=1e-6,
                               atol=1e-14)


def test_predict_on_gpu_matches_the_host(sample):
    data, _, _ = sample
    gpu = ks.predict("fc:depth=3,act=relu", data, device="gpu", use_cache=False)
    cpu = ks.predict("fc:depth=3,act=relu", data, device="cpu", use_cache=False)
    assert gpu.device == "gpu" and gpu.eigh_device == "gpu" and cpu.eigh_device == "cpu"
    assert gpu.fit_window == cpu.fit_window
    assert gpu.alpha_K.value == pytest.approx(cpu.alpha_K.value, abs=1e-6)
    assert gpu.alpha_D.value == pytest.approx(cpu.alpha_D.value, abs=1e-6)
