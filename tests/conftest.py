"""Strict test set-up: a seeded key, a private kernel cache, and JAX left at its defaults (float32, default matmul
precision), so that any kernelscale computation that forgets to scope float64 (``kernelscale._compat.precise``) shows
up as a failed precision check. Tests that call JAX or neural-tangents directly wrap those calls in ``precise()``.
Asynchronous CPU dispatch is turned off for this process: the suite ran faster without it (214 to 245 s against 280 to
320 s, jaxlib 0.10.2, this project's 2-core CPU)."""

import jax
import numpy as np
import pytest

import kernelscale  # noqa: F401  (the neural-tangents shim, before any test touches JAX)

if "jax_cpu_enable_async_dispatch" in jax.config.values:
    jax.config.update("jax_cpu_enable_async_dispatch", False)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNELSCALE_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def key():
    return jax.random.PRNGKey(0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
