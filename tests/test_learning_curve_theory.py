"""The learning-curve theory: its two published forms agree, the held-out correction, asymptotic exponents, the
infinite-pool extrapolation."""

import math

import numpy as np
import pytest
from helpers import EXPONENT_ATOL, tol
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kernelscale import theory
from kernelscale.measurements import default_measured_sizes
from kernelscale.spectrum import spectrum

TIGHT = {"rel": tol()["rtol"], "abs": tol()["atol"]}

# Two root-finders (brentq on log kappa, bisection on k) of algebraically equal equations: agreement to 1e-9
# relative is rounding of the roots, not of the formulas (a wrong prefactor or sum shows up at order 1).
FORMS_RTOL = 1e-9


def power_spectrum(n, b, a, seed=0):
    rng = np.random.default_rng(seed)
    index = np.arange(1, n + 1, dtype=np.float64)
    return index**-b, index**-a * rng.chisquare(1, n)


@pytest.mark.parametrize("ridge", [0.0, 1e-4, 0.1])
@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_canatar_and_eigenlearning_forms_agree(ridge, noise):
    eta, v2 = power_spectrum(3000, 1.4, 1.7)
    sizes = [3, 30, 300, 1500]
    canatar = theory.learning_curve(eta, v2, sizes, ridge=ridge, noise=noise)
    simon = theory.eigenlearning_curve(eta, v2, sizes, ridge=ridge, noise=noise)
    np.testing.assert_allclose(canatar.errors, simon, rtol=FORMS_RTOL)


def test_small_training_set_error_is_the_target_power_and_curve_decreases():
    eta, v2 = power_spectrum(2000, 1.5, 1.5)
    curve = theory.learning_curve(eta, v2, [1, 10, 100, 1000])
    assert np.all(np.diff(curve.errors) < 0)
    # one training point cannot learn much: E_g(1) is within a factor 2 of E_g(0) = sum v^2
    assert 0.5 * v2.sum() < curve.errors[0] <= v2.sum()


def test_held_out_correction_is_the_pool_rescaling_without_ridge_or_noise():
    eta, v2 = power_spectrum(1000, 1.5, 1.5)
    sizes = [50, 200, 500]
    plain = np.array(theory.learning_curve(eta, v2, sizes).errors)
    corrected = np.array(theory.learning_curve(eta, v2, sizes, pool_size=1000).errors)
    np.testing.assert_allclose(corrected, plain * 1000 / (1000 - np.array(sizes)), rtol=1e-12)


def test_held_out_correction_vanishes_for_a_huge_pool():
    eta, v2 = power_spectrum(1000, 1.5, 1.5)
    plain = np.array(theory.learning_curve(eta, v2, [20], ridge=0.01, noise=0.1).errors)
    corrected = np.array(theory.learning_curve(eta, v2, [20], ridge=0.01, noise=0.1, pool_size=10**9).errors)
    np.testing.assert_allclose(corrected, plain, rtol=1e-6)


@pytest.mark.parametrize(("b", "a", "expected"), [(1.5, 1.5, 0.5), (1.4, 2.0, 1.0), (1.25, 1.6, 0.6)])
def test_asymptotic_local_exponent_is_min_of_a_minus_1_and_2b(b, a, expected):
    """Noiseless ridgeless curve of exact power laws: -d log E / d log D -> min(a - 1, 2b) (docs/theory.md, "Spectrum")."""
    index = np.arange(1, 200_001, dtype=np.float64)
    curve = theory.learning_curve(index**-b, index**-a, np.geomspace(1000, 4000, 5).astype(int))
    assert theory.task_aware_exponent(b - 1, a - 1) == pytest.approx(expected)
    assert curve.local_exponent() == pytest.approx(expected, abs=EXPONENT_ATOL)


def test_bad_inputs_are_reported():
    eta, v2 = power_spectrum(100, 1.5, 1.5)
    with pytest.raises(ValueError, match="ridge and noise must be >= 0"):
        theory.learning_curve(eta, v2, [10], ridge=-1.0)
    with pytest.raises(ValueError, match="more positive eigenvalues"):
        theory.learning_curve(eta, v2, [200])
    with pytest.raises(ValueError, match="below the pool size"):
        theory.learning_curve(eta, v2, [100], pool_size=100)
    with pytest.raises(ValueError, match="same 1-d shape"):
        theory.learning_curve(eta, v2[:50], [10])


@settings(deadline=None, max_examples=50)
@given(limit=st.floats(0.05, 2.0), bias=st.floats(-50.0, 50.0), pool=st.integers(200, 20000),
       noise=st.floats(0.0, 0.05))
@example(limit=0.05078125, bias=-29.0, pool=2767, noise=0.0)  # e(N) was 1 ulp outside the interval (rounding)
def test_pool_extrapolation_removes_a_1_over_n_bias(limit, bias, pool, noise):
    """e(N) = e_inf + c/N exactly: the estimate is e_inf up to the halves' noise, and the interval holds e(N)."""
    full = limit + bias / pool
    halves = [limit + 2 * bias / pool + noise, limit + 2 * bias / pool - noise]
    result = theory.extrapolate_to_infinite_pool(full, halves)
    estimate = result.estimate
    assert estimate.value == pytest.approx(limit, **TIGHT)
    assert estimate.low <= min(full, estimate.value) and max(full, estimate.value) <= estimate.high
    half_width = estimate.high - estimate.value
    assert half_width == pytest.approx(np.hypot(bias / pool, np.sqrt(2.5 * 2 * noise**2)), **TIGHT)


def test_pool_extrapolation_with_one_half_takes_the_correction_as_its_spread():
    result = theory.extrapolate_to_infinite_pool(0.5, [0.52])
    assert result.estimate.value == pytest.approx(0.48, **TIGHT)
    assert result.estimate.high - result.estimate.value == pytest.approx(0.02 * np.sqrt(4.0), **TIGHT)
    with pytest.raises(ValueError, match="at least one half"):
        theory.extrapolate_to_infinite_pool(0.5, [])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pool_extrapolation_is_unbiased_where_the_pool_theory_is(seed):
    """Gaussian features z ~ N(0, diag(eta)), a linear target with powers v^2: the theory on the population spectrum
    is the truth. On a pool of N = 1200 points (kernel Z Z^T) the held-out pool theory has no systematic bias, and the
    extrapolation must not add one: within 0.035 of the population exponent, the interval covering it."""
    rng = np.random.default_rng(seed)
    index = np.arange(1, 5001, dtype=np.float64)
    eta, v2 = index**-1.5, index**-1.5
    features = rng.standard_normal((1200, len(index))) * np.sqrt(eta)
    y = features @ (np.sqrt(v2 / eta) * rng.choice([-1.0, 1.0], len(index)))
    spec = spectrum(features @ features.T, y[:, None], seed=seed)
    sizes = default_measured_sizes(1200)
    population = theory.learning_curve(eta, v2, sizes).local_exponent()
    pool = theory.learning_curve(spec.eigenvalues, spec.target_powers, sizes, pool_size=1200).local_exponent()
    halves = [theory.learning_curve(values, powers, sizes, pool_size=600).local_exponent()
              for values, powers in zip(spec.half_eigenvalues, spec.half_target_powers)]
    result = theory.extrapolate_to_infinite_pool(pool, halves)
    assert abs(result.estimate.value - population) < 0.035
    assert result.estimate.contains(population)


@settings(deadline=None, max_examples=200)
@given(root=st.floats(-30, 30), scale=st.floats(1e-3, 1e3), power=st.integers(1, 7), width=st.floats(0.1, 40),
       skew=st.floats(0.01, 0.99))
def test_find_root_agrees_with_scipy_brentq(root, scale, power, width, skew):
    """Brent's method as written in theory.py against scipy's on monotone functions with roots anywhere in the
    bracket, flat and steep: the same root to the tolerance both are asked for."""
    from scipy import optimize

    def f(x):
        return scale * math.copysign(abs(x - root) ** power, x - root) + 1e-3 * (x - root)

    low, high = root - skew * width, root + (1 - skew) * width
    ours = theory.find_root(f, low, high, xtol=1e-12, rtol=1e-12)
    reference = optimize.brentq(f, low, high, xtol=1e-12, rtol=1e-12)
    assert abs(ours - reference) <= 4e-12 * (1 + abs(root))
    with pytest.raises(ValueError, match="same sign"):
        theory.find_root(f, root + 1, root + 2)
