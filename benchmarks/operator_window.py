"""Is the sphere's closed-form alpha_K reachable at n = 4000?  The operator's own local tail exponent over the
window the accuracy benchmark fitted (issue: predict, item 10).

The exact operator spectrum of the same kernel (Funk-Hecke, :func:`kernelscale.theory.funk_hecke_eigenvalues`, sorted
with multiplicities) has no finite-n error. Its tail slope over the fitted window is what a perfect estimator would
report from that window; its distance to the asymptote 1/(d-1) or 3/(d-1) is the pre-asymptotic part of the error.
The spectrum is computed to degree ``MAX_DEGREE``; the mass of the higher degrees (a constant added to every tail in
the window) is extrapolated from a power-law fit of the per-degree mass N(d, k) mu_k over the top half of the degrees,
and printed beside the window's tail. Only cases where that remainder is small are listed (fast-decaying spectra).

    uv run python benchmarks/operator_window.py
"""

import numpy as np
from _machine import describe

import kernelscale as ks
from kernelscale import theory

ARCH = "fc:depth=3,act=relu,w_std=1.41,b_std=0.05"
MAX_DEGREE = 20
CASES = [  # (kernel, d, window the accuracy benchmark fitted at n = 4000, seed 0; its alpha_K)
    ("nngp", 6, (272, 1089), 0.642),
    ("nngp", 7, (274, 1095), 0.464),
    ("nngp", 8, (276, 1106), 0.522),
]


def profile(arch, kind: str, dim: int):
    """k(t) for two points of norm sqrt(dim) (the sphere data's scale) at cosine t."""
    radius = np.sqrt(dim)

    def k(t):
        t = np.asarray(t)
        a = np.zeros((len(t), dim))
        b = np.zeros((len(t), dim))
        a[:, 0] = radius
        b[:, 0], b[:, 1] = radius * t, radius * np.sqrt(np.clip(1 - t * t, 0, None))
        return np.concatenate([np.diag(np.asarray(arch.kernel_fn(a[i:i + 500], b[i:i + 500], kind)))
                               for i in range(0, len(t), 500)])

    return k


def main() -> None:
    arch = ks.parse_architecture(ARCH)
    print(describe())
    print(f"arch {ARCH}; operator spectrum to degree {MAX_DEGREE}\n")
    print("| kernel | d | window | alpha_K (n = 4000, seed 0) | operator slope over the window | truth | "
          "degrees > MAX_DEGREE (extrapolated) / window-end tail |")
    print("|---|---|---|---|---|---|---|")
    for kind, dim, (first, last), estimate in CASES:
        mu = theory.funk_hecke_eigenvalues(profile(arch, kind, dim), dim, MAX_DEGREE, nodes=2000)
        values = theory.sorted_operator_spectrum(mu, dim)
        degrees = np.arange(MAX_DEGREE // 2, MAX_DEGREE + 1)
        mass = np.array([theory.sphere_multiplicity(dim, int(k)) * mu[k] for k in degrees])
        power, log_c = np.polyfit(np.log(degrees), np.log(mass), 1)
        higher = np.arange(MAX_DEGREE + 1, 10**6, dtype=float)
        remainder = float(np.sum(np.exp(log_c) * higher**power))
        tails = np.cumsum(values[::-1])[::-1][1:] + remainder  # tails[i - 1] = sum_{j > i} lambda_j
        index = np.arange(first, last + 1)
        slope = -np.polyfit(np.log(index), np.log(tails[first - 1:last]), 1)[0]
        print(f"| {kind} | {dim} | {first}..{last} | {estimate:.3f} | {slope:.3f} | "
              f"{theory.sphere_alpha_K(dim, kind):.3f} | {remainder / tails[last - 1]:.1e} |")


if __name__ == "__main__":
    main()
