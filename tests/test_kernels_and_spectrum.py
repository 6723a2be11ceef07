"""Kernel computation, cache and memory plan; spectrum against numpy; shared checks for every architecture."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import tol
from kernelscale import (KernelError, MemoryPlanError, SpecError, compute_kernel, eigendecompose, from_stax,
                         load_dataset, parse_architecture, plan_memory, spectrum)
from kernelscale._compat import stax, precise_function
from kernelscale.kernels import select_device
from kernelscale.spectrum import eigendecompose_where, eigenvalues_and_powers, project_target

ARCHITECTURES = [
    ("fc:depth=2,act=relu", "flat"),
    ("fc:depth=3,act=erf", "flat"),
    ("fc:depth=2,act=gelu", "flat"),
    ("cnn:depth=1", "image"),
    ("cnn-gap:depth=1", "image"),
    ("resnet:depth=1,k=1", "image"),
]


@pytest.mark.parametrize("spec, input_kind", ARCHITECTURES)
@pytest.mark.parametrize("kind", ["ntk", "nngp"])
def test_every_architecture_gives_a_symmetric_psd_kernel_and_sorted_spectrum(spec, input_kind, kind):
    data = load_dataset("digits", n_samples=24, seed=0, input_kind=input_kind)
    k = compute_kernel(spec, data.x, kind=kind, batch_size=10, use_cache=False)
    assert k.matrix.shape == (24, 24)
    np.testing.assert_allclose(k.matrix, k.matrix.T, **tol())
    values, _ = eigendecompose(k.matrix)
    assert np.all(np.diff(values) <= 0)
    assert values[-1] > -1e-10 * values[0]
    again = compute_kernel(spec, data.x, kind=kind, use_cache=False)  # other batching, same matrix
    np.testing.assert_allclose(k.matrix, again.matrix, rtol=1e-7, atol=1e-12)  # arccos near 1: see below


@precise_function
def test_blocked_kernel_equals_direct_neural_tangents_call():
    arch = parse_architecture("fc:depth=3,act=relu")
    x = load_dataset("sphere:dim=4", n_samples=37, seed=1).x
    blocked = compute_kernel(arch, x, kind="ntk", batch_size=8, use_cache=False).matrix
    direct = np.asarray(arch.kernel_fn(x, None, "ntk"))
    # arccos near cos = 1 (the diagonal) amplifies float64 rounding to ~1e-8 relative: loose on purpose
    np.testing.assert_allclose(blocked, direct, rtol=1e-7, atol=1e-12)


def test_second_identical_call_reads_the_cache():
    x = load_dataset("sphere:dim=3", n_samples=40, seed=0).x
    first = compute_kernel("fc:depth=2", x, kind="ntk")
    second = compute_kernel("fc:depth=2", x, kind="ntk")
    assert not first.from_cache and second.from_cache
    np.testing.assert_array_equal(first.matrix, second.matrix)
    other = compute_kernel("fc:depth=2", x, kind="nngp")  # a different kernel is a different key
    assert not other.from_cache


@precise_function
def test_user_stax_triple_through_the_api():
    triple = stax.serial(stax.Dense(1, W_std=1.5, b_std=0.1), stax.Relu(), stax.Dense(1))
    arch = from_stax(triple, name="two-layer")
    x = load_dataset("sphere:dim=3", n_samples=10).x
    k = compute_kernel(arch, x, kind="nngp")
    np.testing.assert_allclose(k.matrix, np.asarray(triple[2](x, None, "nngp")), rtol=1e-9)
    with pytest.raises(SpecError, match="triple"):
        from_stax((1, 2))


def test_memory_plan_refuses_before_allocating_and_says_how_large_n_can_be():
    arch = parse_architecture("fc:depth=2")
    x = np.zeros((100_000, 3))  # a 100k x 100k float64 kernel: 80 GB, plus its eigendecomposition
    with pytest.raises(MemoryPlanError, match=r"Use n <= \d+"):
        plan_memory(arch, x, device=select_device("cpu"), host_available=24 * 2**30)
    plan = plan_memory(arch, x[:1000], device=select_device("cpu"), host_available=24 * 2**30)
    assert plan.matrix_bytes == 8 * 1000**2 and plan.max_n() > 1000


def test_missing_gpu_is_a_clear_error():
    import jax

    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is present")
    with pytest.raises(KernelError, match="no GPU"):
        select_device("gpu")


def test_spectrum_matches_numpy_eigh_and_exact_sums(rng):
    a = rng.standard_normal((60, 80))
    matrix = a @ a.T
    y = rng.standard_normal((60, 2))
    spec = spectrum(matrix, y, n_halves=2, seed=0)
    np.testing.assert_allclose(spec.eigenvalues, np.sort(np.linalg.eigvalsh(matrix / 60))[::-1], **tol())
    assert spec.eigenvalues.sum() == pytest.approx(np.trace(matrix) / 60, rel=1e-12)
    assert spec.target_powers.sum() == pytest.approx(np.sum(y**2) / 60, rel=1e-12)
    assert spec.half_eigenvalues.shape == (2, 30) and spec.half_target_powers.shape == (2, 30)
    # target powers in eigenvalue order, from a descending view of the eigenvectors and from a plain copy
    values, vectors = eigendecompose(matrix)
    expected = np.sum((np.ascontiguousarray(vectors).T @ y) ** 2, axis=1) / 60
    np.testing.assert_allclose(spec.target_powers, expected, **tol())


@pytest.mark.parametrize("bad, match", [
    (np.array([[1.0, 2.0], [0.0, 1.0]]), "not symmetric"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), "NaN"),
    (np.diag([1.0, -0.5, 0.2]), "not positive semi-definite"),
    (np.ones((3, 2)), "square"),
])
def test_invalid_kernels_are_rejected(bad, match):
    with pytest.raises(KernelError, match=match):
        eigendecompose(bad)
    with pytest.raises(KernelError, match=match):  # spectrum() leaves the value checks to eigendecompose
        spectrum(bad)


@pytest.mark.parametrize("spec, match", [
    ("mlp:depth=3", "valid names: cnn, cnn-gap, fc, resnet"),
    ("fc:depth=3,heads=2", "valid options: act, b_std, depth, w_std, width"),
    ("fc:act=swish", "valid activations: abs, erf, gelu, leaky_relu, relu"),
    ("fc:depth=0", "depth must be >= 1"),
    ("fc:w_std=-1", "w_std must be >= 0"),
    ("", "non-empty"),
    ("fc:depth=2,depth=3", "given twice"),
])
def test_bad_architecture_specs(spec, match):
    with pytest.raises(SpecError, match=match):
        parse_architecture(spec)


@pytest.mark.parametrize("n, tile", [(5, 2), (37, 8), (64, 16), (100, 512)])
def test_tiled_symmetry_check_and_transposed_store_match_the_dense_expressions(n, tile):
    from kernelscale.kernels import _store_transposed
    from kernelscale.spectrum import max_asymmetry

    rng = np.random.default_rng(n)
    matrix = rng.standard_normal((n, n))
    assert max_asymmetry(matrix, tile=tile) == np.max(np.abs(matrix - matrix.T))
    target = np.zeros((n + 3, n + 3))
    block = matrix[: n - 2, 1:]  # rectangular, not a multiple of the tile
    _store_transposed(target, slice(2, n), slice(3, n + 2), block, tile=tile)
    np.testing.assert_array_equal(target[3 : n + 2, 2:n], block.T)
    assert np.count_nonzero(target) == block.size


def test_eigenvalues_only_match_the_full_decomposition():
    x = load_dataset("sphere:dim=4", n_samples=120, seed=2).x
    matrix = compute_kernel("fc:depth=2", x, use_cache=False).matrix
    values, vectors, where = eigendecompose_where(matrix, vectors=False)
    assert vectors is None and where == "cpu"
    np.testing.assert_allclose(values, eigendecompose(matrix)[0], rtol=1e-10, atol=1e-14 * values[0])


@pytest.mark.parametrize("n", [2, 3, 17, 130])
@pytest.mark.parametrize("columns", [None, 1, 10])
def test_target_powers_without_eigenvectors_match_the_full_decomposition(n, columns):
    """eigenvalues_and_powers (tridiagonal form, U never formed) against eigh + U^T y, on a matrix with distinct,
    well separated eigenvalues (so each power is unique); the exact sums hold."""
    rng = np.random.default_rng(n)
    basis, _ = np.linalg.qr(rng.standard_normal((n, n)))
    matrix = (basis * np.linspace(1.0, 2.0, n) ** 3) @ basis.T
    matrix = (matrix + matrix.T) / 2
    y = rng.standard_normal(n if columns is None else (n, columns))
    original = matrix.copy()
    values, powers, where = eigenvalues_and_powers(matrix, y)
    np.testing.assert_array_equal(matrix, original)
    full_values, vectors = eigendecompose(matrix)
    assert where == "cpu" and values.shape == powers.shape == (n,)
    np.testing.assert_allclose(values, full_values, **tol())
    np.testing.assert_allclose(powers, project_target(vectors, y), rtol=1e-9, atol=1e-12)
    assert powers.sum() == pytest.approx(np.sum(y**2) / n, rel=1e-12)
    no_target = eigenvalues_and_powers(matrix, None)
    assert no_target[1] is None
    np.testing.assert_allclose(no_target[0], full_values, **tol())


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 40), columns=st.integers(1, 4), distinct=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_target_powers_are_basis_free_within_repeated_eigenvalues(n, columns, distinct, seed):
    """With repeated eigenvalues each power depends on the solver's basis, but its sum over each eigenspace does
    not: those sums (the projection of y onto each eigenspace) match eigh + U^T y."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((n, n)))
    levels = rng.choice(np.geomspace(1e-3, 10.0, 6)[:distinct], size=n)  # a few levels, each repeated
    matrix = (basis * levels) @ basis.T
    matrix = (matrix + matrix.T) / 2
    y = rng.standard_normal((n, columns))
    values, powers, _ = eigenvalues_and_powers(matrix, y)
    _, vectors = eigendecompose(matrix)
    reference = project_target(vectors, y)
    scale = np.sum(y**2) / n
    for level in np.unique(levels):
        members = np.abs(values - level / n) < 1e-8 * values[0]
        assert members.sum() == np.sum(levels == level)
        assert powers[members].sum() == pytest.approx(reference[members].sum(), abs=1e-10 * scale)


def test_spectrum_from_a_kernel_agrees_with_and_without_eigenvectors():
    """On a real kernel (digits, 10 one-hot columns): spectrum() from the tridiagonal route equals spectrum() given
    eigendecompose's vectors, halves included, to rounding."""
    data = load_dataset("digits", n_samples=200, seed=0)
    matrix = compute_kernel("fc:depth=3", data.x, use_cache=False).matrix
    direct = spectrum(matrix, data.y, seed=3)
    given = spectrum(matrix, data.y, seed=3, decomposition=eigendecompose(matrix))
    total = np.sum(np.asarray(data.y, dtype=np.float64) ** 2) / len(matrix)
    np.testing.assert_allclose(direct.eigenvalues, given.eigenvalues, **tol())
    np.testing.assert_allclose(direct.target_powers, given.target_powers, rtol=0, atol=1e-10 * total)
    assert direct.half_target_powers.shape == (2, 100)
    np.testing.assert_allclose(direct.half_target_powers.sum(axis=1),
                               [np.sum(np.asarray(data.y, dtype=np.float64)[i] ** 2) / 100
                                for i in _half_indices(200, seed=3)], rtol=1e-12)
    with pytest.raises(ValueError, match="needs target_powers"):
        spectrum(matrix, data.y, decomposition=(direct.eigenvalues, None))


def _half_indices(n, seed):
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x4A1F]))
    permutation = rng.permutation(n)
    return [np.sort(permutation[: n // 2]), np.sort(permutation[n // 2 :])]


@pytest.mark.parametrize("bad, match", [
    (np.array([[1.0, 2.0], [0.0, 1.0]]), "not symmetric"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), "NaN"),
    (np.diag([1.0, -0.5, 0.2]), "not positive semi-definite"),
])
def test_target_powers_route_rejects_invalid_kernels(bad, match):
    with pytest.raises(KernelError, match=match):
        eigenvalues_and_powers(bad, np.ones(len(bad)))
    with pytest.raises(KernelError, match="y has 5 rows"):
        eigenvalues_and_powers(np.eye(3), np.ones(5))


def test_target_powers_on_the_device_path_match_the_host(monkeypatch):
    """The device branch (JAX's eigh, run here on the CPU device as on a GPU) projects its eigenvectors there;
    spectrum's halves take the same branch."""
    import importlib

    spectrum_module = importlib.import_module("kernelscale.spectrum")
    real = spectrum_module._device_eigh
    calls = []

    def on_cpu_device(matrix, device, vectors=True, *, target=None):
        calls.append(target is not None)
        return real(matrix, "cpu", vectors, target=target)

    monkeypatch.setattr(spectrum_module, "_device_eigh", on_cpu_device)
    data = load_dataset("sphere:dim=4", n_samples=150, seed=1)
    matrix = compute_kernel("fc:depth=2", data.x, use_cache=False).matrix
    y = np.random.default_rng(0).standard_normal((150, 3))
    on_device = eigenvalues_and_powers(matrix, y, device="gpu")
    on_host = eigenvalues_and_powers(matrix, y, device="cpu")
    assert on_device[2] == "cpu" and on_host[2] == "cpu" and calls == [True]  # U^T y computed on the device
    np.testing.assert_allclose(on_device[0], on_host[0], rtol=1e-9, atol=1e-12 * on_host[0][0])
    top = slice(0, 20)  # distinct leading eigenvalues: their powers do not depend on the solver's basis
    np.testing.assert_allclose(on_device[1][top], on_host[1][top], rtol=1e-6, atol=1e-12)
    assert on_device[1].sum() == pytest.approx(np.sum(y**2) / 150, rel=1e-10)
    spec = spectrum(matrix, y, device="gpu", decomposition=(on_device[0], None), target_powers=on_device[1])
    host_spec = spectrum(matrix, y, device="cpu")
    assert calls == [True, True, True]
    np.testing.assert_allclose(spec.half_target_powers[:, top], host_spec.half_target_powers[:, top], rtol=1e-6,
                               atol=1e-12)
