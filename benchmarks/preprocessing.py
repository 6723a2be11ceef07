"""Does scaling each point to |x|^2 = F change the problem? (issue: your own data, item 1.)

For 2-D and 3-D inputs and for digits and mnist5k (n = 1000, FC depth 3 NTK, centred), the recommended alpha_D
(L(D)'s local exponent at 10 n) with each point scaled to |x|^2 = F against all points scaled by one factor to a
mean |x|^2 = F (each keeping its radius), beside the spread of the norms. The rule of ``normalize=auto`` in
kernelscale.data comes from this table (docs/quickstart.md).

    uv run python benchmarks/preprocessing.py
"""

import numpy as np
from _machine import describe

import kernelscale as ks


def moons(n, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return x + 0.1 * rng.standard_normal((n, 2)), upper.astype(int)


def gaussian(n, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, 3))
    return x, np.tanh(x @ np.array([1.0, -0.5, 0.3]))


def swiss_roll(n, seed=0):
    rng = np.random.default_rng(seed)
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    return np.c_[t * np.cos(t), 21 * rng.random(n), t * np.sin(t)], np.sin(t)


def main() -> None:
    print(describe(), "\n")
    digits = ks.load_dataset("digits:normalize=false,center=false", n_samples=1000, seed=0)
    mnist = ks.load_dataset("mnist5k:normalize=false,center=false", n_samples=1000, seed=0)
    cases = {"two moons (2-D, noise 0.1)": moons(1000), "Gaussian (3-D), target tanh(w.x)": gaussian(1000),
             "swiss roll (3-D), target sin(t)": swiss_roll(1000), "digits": (digits.x, digits.y.argmax(axis=1)),
             "mnist5k": (mnist.x, mnist.y.argmax(axis=1))}
    print("| data | F | spread of the norms (std / mean) | alpha_D, each point scaled | alpha_D, one factor |")
    print("|---|---|---|---|---|")
    for name, (x, y) in cases.items():
        centred = ks.dataset_from_arrays(x, y, normalize=False).x.reshape(len(x), -1)
        norms = np.linalg.norm(centred, axis=1)
        each = ks.predict("fc:depth=3", ks.dataset_from_arrays(x, y, normalize=True), intrinsic=False)
        one = ks.predict("fc:depth=3", ks.dataset_from_arrays(x, y, normalize="auto" if centred.shape[1] < 16 else
                                                              False), intrinsic=False)
        if centred.shape[1] >= 16:  # auto would scale each point here: scale by one factor by hand
            scaled = ks.dataset_from_arrays(centred * np.sqrt(centred.shape[1] / np.mean(norms**2)), y, center=False,
                                            normalize=False)
            one = ks.predict("fc:depth=3", scaled, intrinsic=False)
        print(f"| {name} | {centred.shape[1]} | {norms.std() / norms.mean():.2f} | {each.alpha_D.value:.3f} | "
              f"{one.alpha_D.value:.3f} |", flush=True)


if __name__ == "__main__":
    main()
