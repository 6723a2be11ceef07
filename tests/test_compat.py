import subprocess
import sys

import jax
import numpy as np
import pytest

from helpers import MONTE_CARLO_RTOL, tol
import kernelscale as ks
from kernelscale._compat import nt, precise_function, stax


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


@precise_function
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
@precise_function
def test_analytic_kernels_match_monte_carlo_finite_networks(act, kind, key, rng):
    # NNGP: a wide readout averages over its 256 outputs (trace_axes) as well as over networks.
    # NTK: one output; its fluctuations already shrink with the hidden width.
    init_fn, apply_fn, kernel_fn = _network(act, 256 if kind == "nngp" else 1)
    x = rng.standard_normal((4, 6))
    mc = nt.monte_carlo_kernel_fn(init_fn, apply_fn, key, n_samples=32, trace_axes=(-1,))
    estimate, exact = np.asarray(mc(x, None, kind)), np.asarray(kernel_fn(x, None, kind))
    # loose on purpose: Monte Carlo error of 32 networks of width 512, relative to the kernel's scale
    assert np.max(np.abs(estimate - exact)) <= MONTE_CARLO_RTOL * np.max(np.abs(exact))


@precise_function
def test_batched_kernel_equals_unbatched(rng):
    _, _, kernel_fn = stax.serial(stax.Dense(1, W_std=1.4, b_std=0.1), stax.Relu(), stax.Dense(1))
    x = rng.standard_normal((8, 3))
    batched = nt.batch(kernel_fn, batch_size=4)(x, None, "ntk")
    np.testing.assert_allclose(np.asarray(batched), np.asarray(kernel_fn(x, None, "ntk")), rtol=1e-6)
    assert jax.config.jax_enable_x64


USER_PROCESS = """
import jax, jax.numpy as jnp, numpy as np
def state():
    x = jnp.ones((4, 4), dtype=jnp.float32)
    return (str((x @ x).dtype), str(jnp.ones(3).dtype), jax.config.jax_enable_x64,
            jax.config.jax_default_matmul_precision, jax.config.values.get("jax_cpu_enable_async_dispatch"))
before = state()
import kernelscale as ks
after_import = state()
p = ks.predict("fc:depth=2", "digits", n_samples=512, intrinsic=False, use_cache=False)
after_predict = state()
with ks._compat.precise():
    inside = state()
print(before == after_import == after_predict, inside[:4], p.spectrum.eigenvalues.dtype, sep="|")
"""


def test_import_and_predict_leave_the_users_jax_settings_alone():
    """A user's process (a fresh one): importing kernelscale and running a predict change neither the dtype of a
    float32 matmul, nor the default dtype, x64, the default matmul precision or asynchronous CPU dispatch; inside
    ``precise()`` kernelscale's own work is float64 at the highest precision."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", USER_PROCESS], capture_output=True, text=True, check=True)
    unchanged, inside, dtype = result.stdout.strip().splitlines()[-1].split("|")
    assert unchanged == "True", result.stdout
    assert inside == "('float32', 'float64', True, 'highest')" and dtype == "float64"


@precise_function
def test_kernels_are_float64_inside_precise():
    assert jax.config.jax_enable_x64 and jax.config.jax_default_matmul_precision == "highest"
    data = ks.load_dataset("digits", n_samples=600)
    assert ks.compute_kernel("fc:depth=2", data.x, use_cache=False).matrix.dtype == np.float64


def test_the_suite_runs_at_jax_defaults_so_a_missing_scope_shows():
    assert not jax.config.jax_enable_x64  # tests/conftest.py: every kernelscale computation must scope its own
