"""Random-feature theory (docs/theory.md, "Width"): a direct simulation of linear random features, the two published forms of
the finite-(P, D) deterministic equivalent, its two limits, the duality and where it fails."""

import math

import numpy as np
import pytest

from kernelscale import theory
from kernelscale.curves import predict_curve
from kernelscale.spectrum import spectrum

# Two root-finders (brentq on log k for Atanasov et al.'s equation, brentq on log nu2 with nu1 in closed form for
# Defilippis et al.'s) of algebraically equal systems: agreement to 1e-9 relative is the rounding of the roots.
FORMS_RTOL = 1e-9
# Simulation against the deterministic equivalent: the mean over draws within SIGMAS standard errors plus
# MODEL_RTOL. The equivalent has O(1/P) relative corrections; at P >= 20 they measured 1-4% here.
SIGMAS, MODEL_RTOL = 4.0, 0.06


def power_law(n_modes, b, a, seed=0):
    """Eigenvalues i^-b and target powers i^-a (normalized to sum 1), and signed target coefficients."""
    index = np.arange(1, n_modes + 1, dtype=np.float64)
    eta, v2 = index**-b, index**-a
    eta, v2 = eta / eta.sum(), v2 / v2.sum()
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], n_modes)
    return eta, v2, np.sqrt(v2) * signs


def simulate(eta, theta, features, size, *, ridge=0.0, noise=0.0, draws=30, seed=0):
    """Test errors against the clean target of ridge regression on linear random features, one per draw.

    Eigen-coordinates psi ~ N(0, I_N) (the kernel's eigenfunctions, Gaussian), target y = theta . psi, features
    Phi = psi diag(sqrt(eta)) G / sqrt(P) with Gaussian G (N, P). size = inf: the population least-squares
    projection (exact, no samples). The test error of coefficients c is ||theta - diag(sqrt(eta)) G c / sqrt(P)||^2.
    """
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(draws):
        mix = np.sqrt(eta)[:, None] * rng.standard_normal((len(eta), features)) / math.sqrt(features)
        if math.isinf(size):
            coefficients = np.linalg.lstsq(mix, theta, rcond=None)[0]
        else:
            psi = rng.standard_normal((size, len(eta)))
            phi = psi @ mix
            y = psi @ theta + math.sqrt(noise) * rng.standard_normal(size)
            if ridge > 0:
                coefficients = np.linalg.solve(phi.T @ phi + ridge * np.eye(features), phi.T @ y)
            else:
                coefficients = np.linalg.lstsq(phi, y, rcond=None)[0]
        errors.append(float(np.sum((theta - mix @ coefficients) ** 2)))
    return np.array(errors)


def assert_matches_simulation(predicted, errors):
    mean, standard_error = errors.mean(), errors.std(ddof=1) / math.sqrt(len(errors))
    assert abs(predicted - mean) <= SIGMAS * standard_error + MODEL_RTOL * mean, (predicted, mean, standard_error)


@pytest.mark.parametrize("features", [20, 60, 150])
def test_width_curve_matches_a_direct_simulation_of_linear_random_features(features):
    eta, v2, theta = power_law(1000, 1.5, 1.3)
    predicted = theory.width_curve(eta, v2, [features]).errors[0]
    assert_matches_simulation(predicted, simulate(eta, theta, features, math.inf, seed=features))


@pytest.mark.parametrize(("features", "size", "ridge", "noise"), [
    (60, 30, 0.0, 0.0),      # under-sampled: the data limit
    (60, 120, 0.0, 0.0),     # the other side of the interpolation peak
    (40, 640, 0.0, 0.0),     # D >> P: near E_W(P) / (1 - P/D)
    (120, 60, 0.05, 0.01),   # ridge and label noise
    (50, 150, 0.02, 0.05),
])
def test_finite_p_and_d_formula_matches_a_direct_simulation(features, size, ridge, noise):
    eta, v2, theta = power_law(800, 1.4, 1.3)
    predicted = theory.random_feature_curve(eta, v2, features=features, sizes=size, ridge=ridge, noise=noise)[0]
    errors = simulate(eta, theta, features, size, ridge=ridge, noise=noise, seed=features + size)
    assert_matches_simulation(predicted, errors)


@pytest.mark.parametrize("ridge", [0.0, 1e-3, 0.3])
@pytest.mark.parametrize("noise", [0.0, 0.2])
def test_atanasov_and_defilippis_forms_agree(ridge, noise):
    eta, v2, _ = power_law(3000, 1.3, 1.6)
    features = [10, 100, 400, 2000, 300, math.inf, 50]
    sizes = [5, 300, 400 if ridge > 0 else 500, 100, math.inf, 250, 2500]
    atanasov = theory.random_feature_curve(eta, v2, features=features, sizes=sizes, ridge=ridge, noise=noise)
    defilippis = theory.random_feature_bias_variance(eta, v2, features=features, sizes=sizes, ridge=ridge,
                                                     noise=noise)
    np.testing.assert_allclose(atanasov, defilippis, rtol=FORMS_RTOL)


@pytest.mark.parametrize(("ridge", "noise"), [(0.0, 0.0), (0.1, 0.3)])
def test_infinite_features_is_kernel_regression(ridge, noise):
    eta, v2, _ = power_law(2000, 1.5, 1.7)
    sizes = [3, 30, 300, 1200]
    expected = theory.learning_curve(eta, v2, sizes, ridge=ridge, noise=noise).errors
    got = theory.random_feature_curve(eta, v2, features=math.inf, sizes=sizes, ridge=ridge, noise=noise)
    np.testing.assert_allclose(got, expected, rtol=FORMS_RTOL)


def test_infinite_data_is_the_width_curve_and_held_out_data_rescales_it():
    eta, v2, _ = power_law(2000, 1.5, 1.7)
    features = [4, 40, 400]
    width = np.array(theory.width_curve(eta, v2, features).errors)
    np.testing.assert_allclose(theory.random_feature_curve(eta, v2, features=features, sizes=math.inf), width,
                               rtol=FORMS_RTOL)
    # ridgeless, noiseless, D > P: E_W(P) / (1 - P/D) (docs/theory.md, "Width")
    sizes = np.array([10, 200, 4000])
    np.testing.assert_allclose(theory.random_feature_curve(eta, v2, features=features, sizes=sizes),
                               width / (1 - np.array(features) / sizes), rtol=FORMS_RTOL)
    assert math.isinf(theory.random_feature_curve(eta, v2, features=40, sizes=40)[0])  # the interpolation peak


def test_duality_is_exact_when_target_powers_follow_the_eigenvalues():
    """v_r^2 = c eta_r: E_W(P) = E_g(D = P) for every P (Bahri et al.'s linear random-feature teacher)."""
    eta, _, _ = power_law(3000, 1.3, 1.3)
    features = [5, 50, 500, 1500]
    width = theory.width_curve(eta, 0.7 * eta, features).errors
    data = theory.learning_curve(eta, 0.7 * eta, features).errors
    np.testing.assert_allclose(width, data, rtol=FORMS_RTOL)


def test_duality_fails_off_that_case():
    eta, v2, _ = power_law(3000, 1.3, 2.2)
    width = np.array(theory.width_curve(eta, v2, [50, 500]).errors)
    data = np.array(theory.learning_curve(eta, v2, [50, 500]).errors)
    assert np.all(width > 1.5 * data)  # smooth target: more data beats more features


@pytest.mark.parametrize(("b", "a"), [(1.5, 1.5), (1.25, 3.0), (1.4, 2.0)])
def test_asymptotic_exponents_are_min_a_minus_1_b_in_width_and_min_a_minus_1_2b_in_data(b, a):
    """Exact power laws (2e6 modes, so the truncation moves the local exponent by < 0.02 at P, D <= 4000)."""
    index = np.arange(1, 2_000_001, dtype=np.float64)
    eta, v2 = index**-b, index**-a
    grid = np.geomspace(1000, 4000, 4).astype(int)
    width = theory.width_curve(eta, v2, grid).local_exponent()
    data = theory.learning_curve(eta, v2, grid).local_exponent()
    assert theory.width_exponent(b - 1, a - 1) == pytest.approx(min(a - 1, b))
    assert width == pytest.approx(min(a - 1, b), abs=0.05)
    assert data == pytest.approx(min(a - 1, 2 * b), abs=0.05)


def test_bad_inputs_are_reported():
    eta, v2, _ = power_law(100, 1.5, 1.5)
    with pytest.raises(ValueError, match="more positive eigenvalues"):
        theory.width_curve(eta, v2, [100])
    with pytest.raises(ValueError, match="must be >= 1"):
        theory.random_feature_curve(eta, v2, features=0, sizes=10)
    with pytest.raises(ValueError, match="at least one of P"):
        theory.random_feature_curve(eta, v2, features=math.inf, sizes=math.inf)
    with pytest.raises(ValueError, match="broadcast"):
        theory.random_feature_curve(eta, v2, features=[10, 20], sizes=[10, 20, 30])
    with pytest.raises(ValueError, match="ridge and noise must be >= 0"):
        theory.random_feature_curve(eta, v2, features=10, sizes=20, ridge=-1.0)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("b", "a"), [(1.5, 1.5), (1.3, 1.8), (2.0, 1.4)])
def test_width_curve_from_a_pool_is_extrapolated_to_the_population(seed, b, a):
    """Gaussian features z ~ N(0, diag(eta)) on a pool of 1200 points: within the reliable range P <= n/8, E_W on
    the pool's spectrum runs up to 0.15 above the population's in local exponent (measured here); L(P), extrapolated
    with the half-samples, comes within 0.05 and closer than the pool alone, and its loss band covers the
    population's E_W."""
    rng = np.random.default_rng(seed)
    index = np.arange(1, 6001, dtype=np.float64)
    eta, v2 = index**-b, index**-a
    z = rng.standard_normal((1200, len(index))) * np.sqrt(eta)
    y = z @ (np.sqrt(v2 / eta) * rng.choice([-1.0, 1.0], len(index)))
    spec = spectrum(z @ z.T, y[:, None], seed=seed)
    features = (20, 40, 75, 150)
    curve = predict_curve(spec, features, kind="P")
    assert curve.reliable_up_to == 150
    for size, loss, estimate in zip(features, curve.loss, curve.local_exponent):
        octave = np.geomspace(size / 2**0.5, size * 2**0.5, 5)
        population = theory.width_curve(eta, v2, octave).local_exponent()
        pool = theory.width_curve(spec.eigenvalues, spec.target_powers, octave).local_exponent()
        truth = theory.width_curve(eta, v2, [size]).errors[0]
        assert abs(estimate.value - population) < min(0.05, abs(pool - population)), (size, estimate, population)
        assert loss.contains(truth), (size, loss, truth)
