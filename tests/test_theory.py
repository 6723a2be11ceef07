import math

import numpy as np
import pytest

from helpers import EXPONENT_ATOL
from kernelscale import compute_kernel, load_dataset, spectrum
from kernelscale.architectures import parse_architecture
from kernelscale.fit import richardson_tail
from kernelscale._compat import precise_function
from kernelscale.theory import (funk_hecke_eigenvalues, sorted_operator_spectrum, sphere_alpha_K,
                                sphere_multiplicity, task_aware_exponent, task_aware_interval)

ARCH = "fc:depth=3,act=relu,w_std=1.41,b_std=0.05"


def test_multiplicities_of_spherical_harmonics():
    assert [sphere_multiplicity(3, k) for k in range(5)] == [1, 3, 5, 7, 9]  # 2k + 1 on S^2
    assert [sphere_multiplicity(4, k) for k in range(4)] == [1, 4, 9, 16]  # (k + 1)^2 on S^3
    assert sphere_multiplicity(2, 3) == 2  # cos and sin on the circle


@pytest.mark.parametrize("dim", [3, 5, 8])
def test_funk_hecke_on_polynomial_profiles(dim):
    # k(x, x') = x.x' has the degree-1 eigenvalue 1/d (trace 1 over d directions) and nothing else.
    mu = funk_hecke_eigenvalues(lambda t: t, dim, 4, nodes=64)
    np.testing.assert_allclose(mu, [0, 1 / dim, 0, 0, 0], atol=1e-12)
    # trace identity: sum_k N(d, k) mu_k = k(x, x) = profile(1)
    mu = funk_hecke_eigenvalues(lambda t: np.exp(t), dim, 30, nodes=200)
    total = sum(sphere_multiplicity(dim, k) * m for k, m in enumerate(mu))
    assert total == pytest.approx(math.e, rel=1e-10)


def test_task_aware_exponent_is_min_of_target_and_twice_b():
    assert task_aware_exponent(0.5, 0.3) == 0.3
    assert task_aware_exponent(0.5, 4.0) == pytest.approx(3.0)  # 2 b = 2 (1 + 0.5)
    assert task_aware_interval((0.4, 0.6), (0.2, 5.0)) == (0.2, pytest.approx(3.2))


def _relu_profile(dim, kind):
    """The architecture's kernel as a function of x.x' for inputs normalized as kernelscale does (|x|^2 = d)."""
    arch = parse_architecture(ARCH)

    @precise_function
    def profile(t):
        x1 = np.zeros((1, dim)); x1[0, 0] = math.sqrt(dim)
        x2 = np.zeros((len(t), dim)); x2[:, 0] = math.sqrt(dim) * t; x2[:, 1] = math.sqrt(dim) * np.sqrt(1 - t**2)
        return np.asarray(arch.kernel_fn(x1, x2, kind))[0]

    return profile


def test_sample_spectrum_and_funk_hecke_operator_agree_on_the_sphere():
    """Two forms of the same spectrum: eigenvalues of K/n on a sphere sample against the exact operator."""
    dim, n = 3, 1500
    data = load_dataset(f"sphere:dim={dim}", n_samples=n, seed=0)
    matrix = compute_kernel(ARCH, data.x, kind="ntk").matrix
    spec = spectrum(matrix, n_halves=2, seed=0)
    mu = funk_hecke_eigenvalues(_relu_profile(dim, "ntk"), dim, 60)
    operator = sorted_operator_spectrum(mu, dim)
    # the trace is exact for a dot-product kernel on the sphere
    profile_at_one = _relu_profile(dim, "ntk")(np.array([1.0]))[0]
    # arccos near t = 1 turns float64 rounding of x.x'/d into ~1e-8 relative differences: loose on purpose
    assert spec.trace == pytest.approx(profile_at_one, rel=1e-7)
    # top block (degree 0 and 1: 4 eigenvalues) within sampling error ~ 1/sqrt(n)
    np.testing.assert_allclose(spec.eigenvalues[:4].sum(), operator[:4].sum(), rtol=0.03)
    # corrected tail against the operator's tail up to n/6 (loose: sampling error of the sample)
    corrected, raw, _ = richardson_tail(spec.eigenvalues, spec.half_eigenvalues)
    operator_tail = profile_at_one - np.cumsum(operator)
    upto = n // 6
    assert np.max(np.abs(corrected[10:upto] / operator_tail[10:upto] - 1)) < 0.03
    assert np.max(np.abs(raw[10:upto] / operator_tail[10:upto] - 1)) > 0.03


def test_closed_form_sphere_exponents():
    assert sphere_alpha_K(3, "ntk") == 0.5 and sphere_alpha_K(5, "nngp") == 0.75
    with pytest.raises(ValueError):
        sphere_alpha_K(2, "ntk")


@pytest.mark.parametrize("kind", ["ntk", "nngp"])
def test_predicted_alpha_K_matches_the_sphere_closed_form(kind):
    """d = 3, n = 3000: the fitted exponent is within EXPONENT_ATOL of 1/(d-1) (NTK) or 3/(d-1) (NNGP) and its
    interval covers the truth."""
    from kernelscale import predict

    truth = sphere_alpha_K(3, kind)
    p = predict(ARCH, "sphere:dim=3", n_samples=3000, kernel=kind, seed=0)
    assert p.alpha_K.value == pytest.approx(truth, abs=EXPONENT_ATOL)
    assert p.alpha_K.contains(truth)
    assert p.alpha_D_basis == "kernel-only"


def test_gp_teacher_target_decays_like_the_kernel():
    """Labels from a GP with the architecture's own kernel: v_i^2 ~ lambda_i, so a - 1 = alpha_K."""
    from kernelscale import predict

    p = predict(ARCH, "sphere:dim=3,target=gp", n_samples=2000, kernel="ntk", seed=1)
    assert p.target_fit.ok
    # loose: one GP draw makes the target powers chi-squared around lambda_i
    assert p.target_decay.value - 1 == pytest.approx(p.alpha_K.value, abs=0.1)
    # the recommendation is the learning curve's local exponent at 10 n; the asymptotes' basis is task-aware
    assert p.alpha_D_basis == "learning-curve" and p.asymptote_basis == "task-aware"
    assert p.alpha_D_at == 20000 and p.learning_curve.sizes[-1] == 20000


def test_predicted_alpha_W_is_the_width_curve_s_local_exponent_beside_the_random_feature_asymptote():
    """#24 item 3: alpha_W is read from L(P) at alpha_W_at (the largest feature count up to 10 n), as alpha_D is
    from L(D); the asymptote min(a - 1, b) on the task-aware basis (docs/theory.md, "Width") is beside it. On digits
    with an erf network the target's a - 1 is below b = 1 + alpha_K, so the asymptote is a - 1; the curve's local
    exponent at the reliable edge P = n/8 is below it and, past the edge, climbs toward it."""
    from kernelscale import predict
    from kernelscale.theory import width_exponent

    p = predict("fc:depth=1,act=erf", "digits", n_samples=1797, kernel="nngp", seed=0, intrinsic=False)
    assert p.width_kernel == "nngp" and p.width_kernel_fit is None  # the sample's kernel serves both sides
    assert p.asymptote_basis == "task-aware"
    assert p.alpha_W_asymptote.value == pytest.approx(width_exponent(p.alpha_K.value, p.target_decay.value - 1))
    # the a - 1 branch of the min; (a - 1) + 1 - 1 may differ from a - 1 in the last bit, hence approx
    assert p.target_decay.value - 1 < 1 + p.alpha_K.value
    assert p.alpha_W_asymptote.value == pytest.approx(p.target_decay.value - 1, rel=1e-12)
    curve = p.width_curve
    assert p.alpha_W_at == curve.sizes[-1] == 17970 and p.alpha_W == curve.exponent_at(17970)
    assert p.alpha_W_basis == "learning-curve" and curve.reliable_up_to == 1797 // 8
    past = [e.value for size, e in zip(curve.sizes, curve.local_exponent) if size > curve.reliable_up_to]
    assert curve.continuation_exponent.value < past[0] and past == sorted(past)
    assert past[-1] < p.alpha_W_asymptote.value and curve.asymptote == p.alpha_W_asymptote
    assert p.warnings == ()
    deep = predict("fc:depth=3,act=erf", "digits", n_samples=600, kernel="nngp", seed=0, intrinsic=False)
    assert len(deep.warnings) == 1 and "realized lower layers" in deep.warnings[0]
