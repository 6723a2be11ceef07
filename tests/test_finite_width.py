"""The finite-width diagnosis (docs/theory.md, "Width"): the split below the last hidden layer reproduces the measured networks,
the realized readout kernel is the mean of the readout features' Gram matrix over the last layer, and at depth 1
the check is the NNGP theory."""

import numpy as np
import pytest
from helpers import MONTE_CARLO_RTOL

import jax
import kernelscale as ks
from kernelscale import measurements, theory
from kernelscale.architectures import split_below_last_hidden_layer
from kernelscale.finite_width import finite_width_errors, lower_layer_outputs
from kernelscale._compat import precise_function


@precise_function
def test_split_reproduces_the_measured_network():
    """Lower layers, then the top's layers with the body's remaining parameters: the same readout features as
    network_features with the same seed."""
    arch = ks.parse_architecture("fc:depth=3,act=erf,width=32")
    x = ks.load_dataset("sphere:dim=5", n_samples=600, seed=0).x[:40]
    split = split_below_last_hidden_layer(arch)
    assert split.lower_count == 4
    _, params = arch.body[0](jax.random.PRNGKey(7), (-1, 5))
    h = lower_layer_outputs(arch, x, seed=7)
    np.testing.assert_allclose(h, np.asarray(split.lower_apply(params[:4], x)), rtol=1e-12)
    top_hidden = np.asarray(arch.body[1](params, x))
    features = measurements.network_features(arch, x, seed=7)
    w_std, b_std = arch.readout_std
    np.testing.assert_allclose(features[:, :-1], w_std * top_hidden / np.sqrt(32), rtol=1e-12)


@precise_function
def test_realized_kernel_is_the_mean_of_the_readout_gram_over_the_last_layer():
    """Fixed lower layers (width 64), last hidden layer redrawn: the mean Gram matrix of the readout features is
    K_c = w_std^2 T_phi(w_std^2 K_hat + b_std^2) + b_std^2, which differs from the NNGP at this width."""
    arch = ks.parse_architecture("fc:depth=2,act=relu,width=64")
    x = ks.load_dataset("sphere:dim=5", n_samples=600, seed=0).x[:8]
    split = split_below_last_hidden_layer(arch)
    h = lower_layer_outputs(arch, x, seed=3)
    realized = np.asarray(split.top.kernel_fn(h, None, "nngp"))
    _, params = arch.body[0](jax.random.PRNGKey(3), (-1, 5))
    w_std, b_std = arch.readout_std
    grams = []
    for draw in range(400):
        _, top_params = split.top.init_fn(jax.random.PRNGKey(10_000 + draw), h.shape)
        hidden = np.asarray(jax.nn.relu(h @ top_params[0][0] * w_std / np.sqrt(64) + b_std * top_params[0][1]))
        features = np.hstack([w_std * hidden / np.sqrt(64), np.full((len(x), 1), b_std)])
        grams.append(features @ features.T)
    # 400 draws x 64 units: Monte Carlo error well below MONTE_CARLO_RTOL of the diagonal
    np.testing.assert_allclose(np.mean(grams, axis=0), realized, rtol=MONTE_CARLO_RTOL,
                               atol=0.01 * realized.diagonal().max())
    nngp = np.asarray(arch.kernel_fn(x, None, "nngp"))
    # quenched lower layers matter: at width 64 the realized kernel is 30% of the diagonal away from the NNGP
    assert np.max(np.abs(realized - nngp)) > 0.1 * nngp.diagonal().max()


def test_depth_one_check_is_the_nngp_width_theory():
    data = ks.load_dataset("digits", n_samples=600, seed=0)
    arch = ks.parse_architecture("fc:depth=1,act=relu")
    errors, counts, seconds = finite_width_errors(arch, data.x, data.y, (4, 8, 16), repeats=2)
    nngp = ks.compute_kernel(arch, data.x, kind="nngp").matrix
    values, powers, _ = ks.eigenvalues_and_powers(nngp, data.y)
    expected = theory.width_curve(values, powers, counts).errors
    assert counts == (5, 9, 17) and seconds >= 0
    np.testing.assert_allclose(errors, np.repeat(np.array(expected)[:, None], 2, axis=1), rtol=1e-12)


def test_unsupported_architectures_are_refused_before_measuring():
    with pytest.raises(ks.SpecError, match="finite-width check supports"):
        ks.compare("resnet:depth=1,k=1", "digits", n_samples=600, finite_width=True)
    with pytest.raises(ks.DataError, match="needs width=True"):
        ks.compare("fc:depth=2", "digits", n_samples=600, finite_width=True, width=False)
