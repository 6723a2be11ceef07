"""Strict test set-up: float64 JAX (kernelscale._compat enables it), a seeded key, a private kernel cache."""

import jax
import numpy as np
import pytest

import kernelscale  # noqa: F401  (enables x64 and the neural-tangents shim before any test touches JAX)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNELSCALE_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def key():
    return jax.random.PRNGKey(0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
