import numpy as np
import kernelscale as ks
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import EXPONENT_ATOL, tol
from kernelscale.fit import (DRIFT_FACTOR, convergence_factor, fit_curve, fit_power_law, fit_tail_exponent,
                             richardson_tail, tail_sums)
from kernelscale.spectrum import noise_floor, spectrum


@given(exponent=st.floats(0.2, 3.0), prefactor=st.floats(0.1, 10.0))
@settings(max_examples=25, deadline=None)
def test_fit_power_law_recovers_exact_power_law(exponent, prefactor):
    x = np.geomspace(1, 1000, 30)
    fit = fit_power_law(x, prefactor * x**-exponent)
    assert fit.exponent == pytest.approx(exponent, rel=1e-9)
    assert fit.prefactor == pytest.approx(prefactor, rel=1e-9)
    assert fit.r2 == pytest.approx(1.0, abs=1e-9)


def test_tail_sums_are_sums_beyond_each_index():
    values = np.array([4.0, 3.0, 2.0, 1.0])
    np.testing.assert_allclose(tail_sums(values), [6.0, 3.0, 1.0, 0.0], **tol())


def test_richardson_tail_is_twice_the_full_tail_minus_the_mean_half_tail(rng):
    values = np.sort(rng.random(20))[::-1]
    halves = np.sort(rng.random((3, 10)), axis=1)[:, ::-1]
    corrected, raw, each = richardson_tail(values, halves)
    expected_halves = np.array([h.sum() - np.cumsum(h) for h in halves])
    np.testing.assert_allclose(raw, (values.sum() - np.cumsum(values))[:10], **tol())
    np.testing.assert_allclose(corrected, 2 * raw - expected_halves.mean(0), **tol())
    np.testing.assert_allclose(each, 2 * raw - expected_halves, **tol())


@pytest.mark.parametrize("b", [1.5, 2.0, 2.5])
def test_corrected_tail_matches_the_operator_tail(b, rng):
    """Gram matrix of a known operator (eigenvalues j^-b on M Gaussian features): the corrected sample tail
    agrees with the operator's exact tail, and the fitted window slope with the operator's own slope there."""
    n, features = 1200, 6000
    operator = np.arange(1, features + 1, dtype=float) ** -b
    phi = rng.standard_normal((n, features))
    spec = spectrum((phi * operator) @ phi.T, n_halves=2, seed=1)
    operator_tail = operator.sum() - np.cumsum(operator)
    fit = fit_tail_exponent(spec.eigenvalues, spec.half_eigenvalues, noise_floor=spec.noise_floor)
    assert fit.ok
    first, last = fit.window
    corrected, raw, _ = richardson_tail(spec.eigenvalues, spec.half_eigenvalues)
    window = slice(first - 1, last)
    # sampling error of a random Gram matrix: a few percent; the uncorrected tail is off by more
    relative = np.abs(corrected[window] / operator_tail[window] - 1)
    assert relative.max() < 0.05
    assert np.abs(raw[window] / operator_tail[window] - 1).max() > relative.max()
    grid = np.unique(np.geomspace(first, last, 9).astype(int))
    operator_slope = fit_power_law(grid, operator_tail[grid - 1]).exponent
    assert fit.exponent.low - EXPONENT_ATOL <= operator_slope <= fit.exponent.high + EXPONENT_ATOL


def test_exponential_spectrum_is_reported_as_not_a_power_law(rng):
    n, features = 1000, 600
    phi = rng.standard_normal((n, features))
    spec = spectrum((phi * np.exp(-np.arange(features) / 25.0)) @ phi.T, n_halves=2)
    fit = fit_tail_exponent(spec.eigenvalues, spec.half_eigenvalues, noise_floor=spec.noise_floor)
    assert fit.status == "not_power_law", fit.message
    assert fit.exponent is None
    assert "not a power law" in fit.message


def test_too_few_eigenvalues_above_the_noise_floor():
    n = 400
    values = np.arange(1, n + 1, dtype=float) ** -8.0  # falls to the float64 floor within a few dozen indices
    halves = (np.arange(1, n // 2 + 1, dtype=float) ** -8.0)[None]
    fit = fit_tail_exponent(values, halves, noise_floor=noise_floor(values[0], n))
    assert fit.status == "too_few_eigenvalues"
    assert "round-off floor at index" in fit.message and "more points do not lift" in fit.message


def test_too_few_eigenvalues_where_the_halves_disagree_says_increase_n():
    i = np.arange(1, 201, dtype=float)
    fit = fit_tail_exponent(i**-2.0, (i[:100] ** -2.0)[None])  # a half whose tail is cut at 100: corrections grow
    assert fit.status == "too_few_eigenvalues"
    assert "finite-n correction of the tail at index 60 is +0.30" in fit.message and "increase n" in fit.message


def test_half_values_shape_is_checked():
    with pytest.raises(ValueError, match="half_values"):
        fit_tail_exponent(np.ones(10), np.ones((1, 3)))


def _noisy_curve(x, mean, repeats=5, spread=0.03, seed=0):
    rng = np.random.default_rng(seed)
    return mean[:, None] * np.exp(spread * rng.standard_normal((len(x), repeats)))


def test_a_curve_that_flattens_onto_a_floor_is_flagged_and_a_power_law_is_not():
    from kernelscale.fit import fit_curve

    x = np.array([8, 16, 32, 64, 128, 256])
    power_law = fit_curve(x, _noisy_curve(x, x**-0.7))
    assert power_law.status == "ok" and power_law.exponent.contains(0.7)
    # the pre-asymptotic steepening of a variance-limited curve is not a floor: no flag
    steepening = fit_curve(x, _noisy_curve(x, x**-1.0 + 0.5 * x**-0.5 * (x < 40)))
    assert steepening.status == "ok"
    floor = fit_curve(x, _noisy_curve(x, x**-1.0 + 0.03))
    assert floor.status == "flattens" and "local exponent" in floor.message
    # a floor hidden in noise larger than the bend is not claimed
    assert fit_curve(x, _noisy_curve(x, x**-1.0 + 0.0005, repeats=2, spread=1.0)).status != "flattens"


def test_convergence_factor_grows_with_the_manifold_dimension():
    assert convergence_factor(None) == DRIFT_FACTOR
    assert convergence_factor(2.0) == DRIFT_FACTOR  # 1 / (4^(1/2) - 1) = 1 < DRIFT_FACTOR
    assert convergence_factor(7.0) == pytest.approx(1 / (4 ** (1 / 7) - 1), rel=tol()["rtol"])
    assert convergence_factor(4.0) < convergence_factor(7.0) < convergence_factor(12.0)
    with pytest.raises(ValueError, match="manifold_dim"):
        convergence_factor(0.0)


def _weyl_tail_spectrum(limit, amplitude, dim, k=3000, total_index=10**6):
    """Eigenvalues whose tail has the local exponent ``limit + amplitude i^(-1/dim)`` exactly:
    log T(i) = -limit log i + amplitude dim i^(-1/dim). Returns the first k eigenvalues and the total."""
    index = np.arange(0, total_index + 1, dtype=float)
    log_tail = -limit * np.log(np.maximum(index, 1)) + amplitude * dim * np.maximum(index, 1) ** (-1 / dim)
    tail = np.exp(log_tail)
    values = tail[:-1] - tail[1:]  # lambda_i = T(i - 1) - T(i), i = 1..total_index
    return values[:k], float(tail[0])


def test_slow_weyl_convergence_is_inside_the_interval_only_with_the_dimension():
    """A local exponent that converges like i^(-1/7) (a 7-dimensional manifold) is still 0.15 above its limit at
    i ~ 1000. The default convergence bound (DRIFT_FACTOR) misses the limit; with manifold_dim = 7 the interval
    reaches it and the status says the fit has not converged."""
    limit = 0.5
    values, total = _weyl_tail_spectrum(limit, amplitude=0.5, dim=7)
    halves = values[None, : len(values) // 2]  # an exact spectrum: the half-samples' tails equal the full one
    common = {"n_samples": 4000, "total": total, "half_totals": [total]}
    plain = fit_tail_exponent(values, halves, **common)
    aware = fit_tail_exponent(values, halves, manifold_dim=7.0, **common)
    assert plain.exponent.low > limit + 0.05 and plain.status == "ok"
    assert aware.exponent.low <= limit + 0.01 and aware.exponent.low > limit - 0.05
    assert aware.status == "not_converged" and "intrinsic dimension 7.0" in aware.message
    assert aware.exponent.value == plain.exponent.value  # the point estimate is the same; only the interval and status change


def test_interval_of_a_tail_exponent_never_goes_below_zero():
    """A drift extrapolated over a very high intrinsic dimension can push the slow end below 0; a tail sum never
    grows, so the interval is clipped there."""
    values, total = _weyl_tail_spectrum(0.05, amplitude=0.5, dim=7)
    halves = values[None, : len(values) // 2]
    fit = fit_tail_exponent(values, halves, n_samples=4000, total=total, half_totals=[total], manifold_dim=50.0)
    assert fit.exponent.low == 0.0 and fit.exponent.high > fit.exponent.value and fit.status == "not_converged"


def test_a_repeat_that_dominates_the_mean_is_flagged():
    """Least squares at few points per feature has a heavy tail: one near-singular draw (300 times the others, as
    measured on digits at D = 8 P) sets the mean and bends the exponent; the fit says so. Ordinary scatter does not."""
    from kernelscale.fit import fit_curve

    x = np.array([72.0, 144, 288, 576, 1152])
    gaps = _noisy_curve(x, 5.0 / x, repeats=4, spread=0.3)
    assert fit_curve(x, gaps).status == "ok"
    gaps[0, 1] *= 300.0
    fit = fit_curve(x, gaps)
    assert fit.status == "outlier" and "x = 72" in fit.message and fit.exponent.value > 1.5


def _quoted(pattern, text):
    import re

    return [float(v.rstrip(".")) for v in re.findall(pattern, text)]


@pytest.mark.parametrize(("arch", "data", "kernel", "intrinsic"), [
    ("fc:depth=3", "digits:input_noise=1", "ntk", True),      # not converged: the interval widened down to 0
    ("fc:depth=1,act=erf", "digits", "nngp", False),          # the drift pushes the estimate below 0: clipped
    ("fc:depth=3", "digits", "ntk", True),
    ("fc:depth=2", "sphere:dim=3,target=gp", "ntk", True),
])
def test_every_number_a_message_quotes_is_the_field_it_explains(arch, data, kernel, intrinsic):
    import kernelscale as ks

    p = ks.predict(arch, data, n_samples=1000, kernel=kernel, intrinsic=intrinsic)
    fit = p.kernel_fit.exponent
    assert _quoted(r"tail exponent (-?[\d.]+)", p.kernel_fit.message) == [round(fit.value, 3)]
    assert fit.value >= 0 and fit.contains(fit.value)
    for end in _quoted(r"widened in the direction of the drift, to (-?[\d.]+)", p.kernel_fit.message):
        assert end in (round(fit.low, 3), round(fit.high, 3)), (end, fit.ci)
    for a_minus_1, alpha_K in zip(_quoted(r"a - 1 = (-?[\d.]+)", p.recommendation),
                                  _quoted(r"against alpha_K = (-?[\d.]+)", p.recommendation)):
        assert (a_minus_1, alpha_K) == (round(p.target_fit.exponent.value, 3), round(p.alpha_K.value, 3))
    for exponent in _quoted(r"local exponent (-?[\d.]+) over D", p.recommendation):
        assert exponent == round(p.learning_curve.continuation_exponent.value, 3)
    if not intrinsic:
        assert any("no intrinsic dimension" in note for note in p.notes)


def test_median_steps_over_a_nearly_singular_draw_and_still_names_it():
    """A variance-limited gap c / x over 16 repeats with one draw 1000 times the rest at one x: the mean follows
    that draw (status outlier), the median keeps the exponent 1 and its message names the draw."""
    rng = np.random.default_rng(0)
    x = np.array([64.0, 128, 256, 512, 1024])
    gaps = (1.0 / x)[:, None] * rng.gamma(4.0, 0.25, (5, 16))
    gaps[1, 3] *= 1000.0
    limits = np.full(16, 0.5)
    mean_fit = fit_curve(x, gaps + limits, limits)
    median_fit = fit_curve(x, gaps + limits, limits, statistic="median")
    assert mean_fit.status == "outlier" and abs(mean_fit.exponent.value - 1.0) > 0.3
    assert median_fit.ok and median_fit.statistic == "median" and abs(median_fit.exponent.value - 1.0) < 0.1
    assert median_fit.exponent.contains(1.0)
    assert "x = 128" in median_fit.message and "median" in median_fit.message
    with pytest.raises(ValueError, match="statistic"):
        fit_curve(x, gaps, None, statistic="mode")


def test_the_status_is_the_worst_fit_and_each_fit_gets_its_line():
    """#25 (item 6): on the README's own command the kernel fit is ok but the target fit, on which the task-aware
    asymptotes and alpha_W rest, has not converged: the status says not_converged, and each fit has its line."""
    import json

    from rich.console import Console

    import kernelscale as ks
    from kernelscale.report import print_prediction

    assert ks.FitStatus.worst(["ok", "not_converged", "ok"]) == "not_converged"
    assert ks.FitStatus.worst(["not_converged", "too_few_eigenvalues"]) == "too_few_eigenvalues"
    p = ks.predict("fc:depth=3,act=relu", "digits", n_samples=1000)
    assert (p.kernel_fit.status, p.target_fit.status) == ("ok", "not_converged")
    assert p.status == "not_converged" and json.loads(p.to_json())["status"] == "not_converged"
    assert p.message.startswith(p.kernel_fit.message) and p.target_fit.message in p.message
    console = Console(width=80, record=True)
    with console.capture() as captured:
        print_prediction(p, console)
    text = " ".join(captured.get().split())
    assert "status: not_converged (the worst of the fits below)." in text
    assert f"alpha_K fit: ok. {p.kernel_fit.message}" in text and "target fit: not_converged. target:" in text


def test_block_averaging_keeps_block_totals_and_ignores_the_split_inside_a_block():
    from kernelscale.fit import block_averaged, block_starts

    values = np.array([1.0, 0.33, 0.32, 0.30, 0.29, 0.08, 0.079, 0.078, 0.05, 0.049, 0.048])
    starts = block_starts(values)
    assert list(starts) == [1, 5, 8]  # blocks [0], [1..4], [5..7]; from 8 on, the continuum
    powers = np.array([0.2, 1.2, 3.1, 0.2, 0.0, 0.1, 0.3, 0.2, 0.05, 0.01, 0.02])
    swapped = powers.copy()
    swapped[[1, 4]] = swapped[[4, 1]]  # another split of the same block
    for split in (powers, swapped):
        averaged = block_averaged(split, starts)
        np.testing.assert_allclose(averaged[1:5], powers[1:5].mean())
        np.testing.assert_allclose(averaged[8:], powers[8:])  # the continuum is left alone
        np.testing.assert_allclose(np.cumsum(averaged)[starts - 1], np.cumsum(powers)[starts - 1])  # block totals


def test_a_gp_target_whose_first_block_is_split_unevenly_is_fitted():
    """#24 item 2, the reported case: on S^3 (sphere:dim=4), n = 1000, seed 3, the four degree-1 harmonics took
    target powers 1.18, 3.06, 0.17, 0.00 and the halves split them differently, so the Richardson correction inside
    that block (-0.57) ended the usable range at index 3: "too few eigenvalues". Averaged over the block, the tail is
    usable to index 268 and the fitted a covers b = 1 + alpha_K, as it must for a GP target."""
    p = ks.predict("fc:depth=2", "sphere:dim=4,target=gp", n_samples=1000, seed=3, intrinsic=False)
    assert p.target_fit.ok and p.target_fit.usable[1] > 200
    a, b = p.target_decay, 1 + p.alpha_K.value
    assert a.ci[0] <= b <= a.ci[1]
