import subprocess
import sys

import jax
import numpy as np
import pytest

from helpers import MONTE_CARLO_RTOL, tol
from kernelscale._compat import nt, stax


def test_importing_kernelscale_does_not_import_tensorflow_or_matplotlib():
    code = ("import sys, kernelscale; "
            "bad = [m for m in ('tensorflow', 'tf2jax', 'matplotlib') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _arccos_relu(x1, x2, w_std, b_std):
    """Closed-form NNGP and NTK of Dense(W_std, b_std) -> ReLU -> Dense(W_std, b_std) (Cho & Saul; Jacot et al.)."""
    d = x1.shape[1]
    s11 = w_std**2 * np.sum(x1 * x1, 1) / d + b_std**2
    s22 = w_std**2 * np.sum(x2 * x2, 1) / d + b_std**2
    s12 = w_std**2 * x1 @ x2.T / d + b_std**2
    norm = np.sqrt(np.outer(s11, s22))
    cos = np.clip(s12 / norm, -1, 1)
    theta = np.arccos(cos)
    relu = norm * (np.sin(theta) + (np.pi - theta) * cos) / (2 * np.pi)  # E[relu(u) relu(v)]
    relu_dot = (np.pi - theta) / (2 * np.pi)  # E[relu'(u) relu'(v)]
    nngp = w_std**2 * relu + b_std**2
    ntk = nngp + s12 * w_std**2 * relu_dot
    return nngp, ntk


def test_analytic_relu_kernel_matches_arc_cosine_closed_form(rng):
    w_std, b_std = 1.5, 0.3
    x1, x2 = rng.standard_normal((7, 5)), rng.standard_normal((4, 5))
    _, _, kernel_fn = stax.serial(stax.Dense(1, W_std=w_std, b_std=b_std), stax.Relu(),
                                  stax.Dense(1, W_std=w_std, b_std=b_std))
    kernels = kernel_fn(x1, x2, ("nngp", "ntk"))
    nngp, ntk = _arccos_relu(x1, x2, w_std, b_std)
    np.testing.assert_allclose(np.asarray(kernels.nngp), nngp, **tol())
    np.testing.assert_allclose(np.asarray(kernels.ntk), ntk, **tol())


def _network(act, readout):
    return stax.serial(stax.Dense(512, W_std=1.4, b_std=0.1), act(), stax.Dense(512, W_std=1.4, b_std=0.1), act(),
                       stax.Dense(readout, W_std=1.4, b_std=0.1))


@pytest.mark.parametrize("act", [stax.Relu, stax.Erf])
@pytest.mark.parametrize("kind", ["nngp", "ntk"])
def test_analytic_kernels_match_monte_carlo_finite_networks(act, kind, key, rng):
    # NNGP: a wide readout averages over its 256 outputs (trace_axes) as well as over networks.
    # NTK: one output; its fluctuations already shrink with the hidden width.
    init_fn, apply_fn, kernel_fn = _network(act, 256 if kind == "nngp" else 1)
    x = rng.standard_normal((4, 6))
    mc = nt.monte_carlo_kernel_fn(init_fn, apply_fn, key, n_samples=32, trace_axes=(-1,))
    estimate, exact = np.asarray(mc(x, None, kind)), np.asarray(kernel_fn(x, None, kind))
    # loose on purpose: Monte Carlo error of 32 networks of width 512, relative to the kernel's scale
    assert np.max(np.abs(estimate - exact)) <= MONTE_CARLO_RTOL * np.max(np.abs(exact))


def test_batched_kernel_equals_unbatched(rng):
    _, _, kernel_fn = stax.serial(stax.Dense(1, W_std=1.4, b_std=0.1), stax.Relu(), stax.Dense(1))
    x = rng.standard_normal((8, 3))
    batched = nt.batch(kernel_fn, batch_size=4)(x, None, "ntk")
    np.testing.assert_allclose(np.asarray(batched), np.asarray(kernel_fn(x, None, "ntk")), rtol=1e-6)
    assert jax.config.jax_enable_x64


def test_x64_is_on():
    assert jax.config.jax_enable_x64


def test_cpu_dispatch_is_synchronous():
    """kernelscale turns JAX's asynchronous CPU dispatch off (kernelscale/_compat.py: intermittent XLA segfaults)."""
    if "jax_cpu_enable_async_dispatch" in jax.config.values:
        assert jax.config.values["jax_cpu_enable_async_dispatch"] is False
