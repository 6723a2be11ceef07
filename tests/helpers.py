"""One tolerance policy for the suite: per-dtype tolerances; every numeric assert names the one it uses."""

import numpy as np

# Relative / absolute tolerances for quantities that should agree to rounding.
TOLERANCES = {
    np.dtype(np.float64): {"rtol": 1e-10, "atol": 1e-12},
    np.dtype(np.float32): {"rtol": 1e-4, "atol": 1e-6},
}
# Analytic kernel against Monte Carlo over finite networks: sampling error ~ 1/sqrt(networks * width).
MONTE_CARLO_RTOL = 0.05
# Fitted exponents on synthetic spectra with a known exponent (finite-n estimation error, not rounding).
EXPONENT_ATOL = 0.05


def tol(dtype=np.float64) -> dict:
    return TOLERANCES[np.dtype(dtype)]


def moons(n: int, seed: int = 0):
    """Two noisy interleaving half circles in 2-D (scikit-learn's make_moons, written here): a user's own 2-D data,
    shared by the tests of tables and of preprocessing."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return x + 0.1 * rng.standard_normal((n, 2)), upper.astype(int)
