"""Predict past the sample, checked out of sample (issue: predict past the sample, item 5).

For each case: a pool of M points (digits: all 1797; mnist5k: all 5000; synthetic: 10 n), its kernel (FC depth 3
ReLU NTK) and target; M/5 held-out test points (200..2000) that no training set and no sample contains. Kernel
regression is measured once per case on training sets of D points drawn from the rest, at 4 sizes from 2 n to
min(8 n, what the pool holds), 6 repeats. Then for 3 seeds a sample of n points of the pool predicts the loss at
those sizes, by kernelscale's method (:mod:`kernelscale.curves`) and by the methods that lost, beside the baselines
a user would otherwise fit to kernel regression measured on the sample itself (D <= n/4, tested on the rest of the
sample): a power law over all those sizes, and a broken power law (the upper half only).

Prints, per case and seed, the loss ratio predicted / measured at each size and the local exponent over the sizes
against the measured one; for kernelscale also whether its 95% bands agree (the same verdict rule as compare).
Writes benchmarks/results/extrapolate.md and docs/extrapolate.png.

    uv run python benchmarks/extrapolate.py [--quick]
"""

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _machine import describe

import kernelscale as ks
from kernelscale.plots import readable_log_ticks
from kernelscale import theory
from kernelscale.curves import default_convergence_rate, default_curve_sizes, predict_curve
from kernelscale.predict import manifold_dimension
from kernelscale.fit import fit_tail_exponent
from kernelscale.measurements import default_measured_sizes, kernel_regression_losses
from kernelscale.pool import make_pool, measure_pool_curve, pool_rows, pool_sample, test_points

ARCH = "fc:depth=3,act=relu"
CASES = [  # (data, n, pool size M)
    ("digits", 512, 1797),
    ("mnist5k", 600, 5000),
    ("mnist5k", 1000, 5000),
    ("sphere:dim=3,target=gp", 1000, 10000),
    ("sphere:dim=4,target=gp", 1000, 10000),
    ("teacher:dim=3", 1000, 10000),
]
# --far (issue 24): samples of n = 600 from pools of 14,000, measured at 2 n, 5 n, 10 n and 20 n
FAR_CASES = [("sphere:dim=3,target=gp", 600, 14000), ("sphere:dim=4,target=gp", 600, 14000),
             ("teacher:dim=3", 600, 14000)]
FAR_MULTIPLES = (2, 5, 10, 20)
SEEDS = (0, 1, 2)
REPEATS = 6
GOAL_LOSS, GOAL_EXPONENT = 0.10, 0.03


def straight_continuation(spec, sizes):
    """Lost: the sample's eigenvalues and target powers up to the kernel fit window's end, continued past it by
    their fitted power laws (scaled to carry the sample's tail mass) to 50 n modes; the population theory on that."""
    kernel_fit = fit_tail_exponent(spec.eigenvalues, spec.half_eigenvalues, noise_floor=spec.noise_floor,
                                   what="eigenvalue")
    target_fit = fit_tail_exponent(spec.target_powers, spec.half_target_powers, what="target", extrapolate=False)
    if not (kernel_fit.ok and target_fit.ok):
        return None
    end = kernel_fit.window[1]
    index = np.arange(end + 1, 50 * spec.n + 1, dtype=np.float64)
    tail = index ** -(1 + kernel_fit.exponent.value)
    tail *= (spec.trace - spec.eigenvalues[:end].sum()) / tail.sum()
    powers = index ** -(1 + target_fit.exponent.value)
    powers *= (spec.target_norm - spec.target_powers[:end].sum()) / powers.sum()
    return np.array(theory.learning_curve(np.r_[spec.eigenvalues[:end], tail],
                                          np.r_[spec.target_powers[:end], powers], sizes).errors)


def linear_pool_bias(spec, sizes):
    """Lost: the held-out pool theory up to 0.9 n, divided by a finite-pool bias 1 - c D/n whose c is fitted to the
    ratio of the sample's theory to the half-samples' over D = n/16..0.45 n; a power law past 0.9 n."""
    n, half = spec.n, spec.half_eigenvalues.shape[1]
    grid = np.unique(np.geomspace(n / 16, 0.45 * n, 8).astype(int))
    full = np.array(theory.learning_curve(spec.eigenvalues, spec.target_powers, grid, pool_size=n).errors)
    halves = np.mean([theory.learning_curve(v, p, grid, pool_size=half).errors
                      for v, p in zip(spec.half_eigenvalues, spec.half_target_powers)], axis=0)
    ratio, x = full / halves, grid / n
    c = float(np.sum(x * (2 * ratio - 1) * (ratio - 1)) / np.sum((x * (2 * ratio - 1)) ** 2))
    top = np.unique(np.geomspace(0.45 * n, 0.9 * n, 6).astype(int))
    corrected = np.array(theory.learning_curve(spec.eigenvalues, spec.target_powers, top, pool_size=n).errors)
    corrected /= 1 - c * top / n
    slope = theory.local_exponent(top, corrected)
    return corrected[-1] * (np.asarray(sizes) / top[-1]) ** -slope


def baselines(sample, sizes, seed):
    """A power law fitted to kernel regression measured on the sample (D = n/64..n/4, 5 repeats, tested on the
    rest of the sample) over all its sizes, and over the upper half (broken power law)."""
    matrix = ks.compute_kernel(ARCH, sample.x, kind="ntk").matrix
    grid = default_measured_sizes(sample.n)
    losses = kernel_regression_losses(matrix, sample.y, grid, repeats=5, seed=seed).mean(axis=1)
    log_x, log_y, log_s = np.log(grid), np.log(losses), np.log(sizes)
    full = np.polyfit(log_x, log_y, 1)
    upper = np.polyfit(log_x[len(grid) // 2:], log_y[len(grid) // 2:], 1)
    return np.exp(np.polyval(full, log_s)), np.exp(np.polyval(upper, log_s))


def summary(name, predicted, measured_loss, measured_exponent, sizes):
    ratio = np.asarray(predicted) / measured_loss
    exponent = theory.local_exponent(sizes, predicted)
    ok_loss = bool(np.all(np.abs(ratio - 1) <= GOAL_LOSS))
    ok_exp = abs(exponent - measured_exponent) <= GOAL_EXPONENT
    return (f"| {name} | {' '.join(f'{r:.3f}' for r in ratio)} | {exponent:.3f} | {exponent - measured_exponent:+.3f} "
            f"| {'yes' if ok_loss else 'no'} | {'yes' if ok_exp else 'no'} |"), ok_loss, ok_exp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="digits only")
    parser.add_argument("--far", action="store_true", help="synthetic pools measured at 2 n, 5 n, 10 n and 20 n")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="sample seeds, comma-separated")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "extrapolate.md"))
    parser.add_argument("--figure", default=str(Path(__file__).parent.parent / "docs" / "extrapolate.png"))
    args = parser.parse_args()
    cases = FAR_CASES if args.far else CASES[:1] if args.quick else CASES
    seeds = tuple(int(s) for s in args.seeds.split(","))
    lines = [describe(), "", f"architecture {ARCH} (NTK); {REPEATS} repeats per measured size; seeds {seeds}", ""]
    print("\n".join(lines), flush=True)
    tally: dict[str, list[tuple[bool, bool]]] = {}
    coverage = [0, 0, 0]  # loss bands agreeing, exponent intervals agreeing, rows
    # kernelscale's loss band at the largest measured size up to 10 n, relative to the loss, and the rows it covers
    band_widths, band_coverage = {"quadrature": [], "corners": []}, {"quadrature": 0, "corners": 0}
    rows = -(-len(cases) // 3)
    fig, axes = plt.subplots(rows, 3, figsize=(15, 4.2 * rows), squeeze=False)
    for (data, n, pool_size), ax in zip(cases, axes.ravel()):
        start = time.perf_counter()
        largest = min((20 if args.far else 8) * n, pool_size - test_points(pool_size))
        sizes = (tuple(m * n for m in FAR_MULTIPLES) if args.far else
                 tuple(int(round(d)) for d in np.geomspace(2 * n, largest, 4)))
        pool = make_pool(ARCH, data, pool_size=pool_size, max_size=largest, seed=0)
        measured, errors = measure_pool_curve(pool, sizes, repeats=REPEATS, seed=0)
        measured_loss = np.asarray(measured.losses).mean(axis=1)
        measured_exponent = theory.local_exponent(sizes, measured_loss)
        seconds_measure = time.perf_counter() - start
        header = [f"### {data}, n = {n}, pool M = {pool_size} ({len(pool.test)} held-out test points)", "",
                  f"measured at D = {', '.join(map(str, sizes))}: loss {' '.join(f'{v:.4g}' for v in measured_loss)}; "
                  f"local exponent over the sizes {measured_exponent:.3f} {fit_interval(measured.fit)}; "
                  f"{seconds_measure:.0f} s to build the pool and measure", "",
                  "| method | loss ratio predicted / measured at each size | exponent | difference | loss within "
                  "10% | exponent within 0.03 |", "|---|---|---|---|---|---|"]
        print("\n".join(header), flush=True)
        lines += header
        ax.errorbar(sizes, measured_loss, yerr=np.asarray(measured.losses).std(axis=1, ddof=1), fmt="ko", ms=4,
                    label=f"measured on the pool (M = {pool_size})")
        for seed in seeds:
            sample = pool_sample(pool, n, seed=seed)
            t = time.perf_counter()
            curve_sizes = tuple(sorted({*(d for d in default_curve_sizes(n) if d < sizes[0]), *sizes}))
            prediction = ks.predict(ARCH, sample, seed=seed, sizes=curve_sizes, at=sizes[-1])
            seconds_predict = time.perf_counter() - t
            curve = prediction.learning_curve
            rows = pool_rows(curve, measured, errors, seed=seed)
            coverage[0] += sum(r.loss_verdict == "agree" for r in rows)
            coverage[1] += sum(r.exponent_verdict == "agree" for r in rows)
            coverage[2] += len(rows)
            # the bands as predict combines them (in quadrature) and as the worst case over the corners
            corners = predict_curve(prediction.spectrum, curve.sizes, asymptote=curve.asymptote,
                                    rate=curve.convergence_rate, band="corners")
            for combined, other in (("quadrature", curve), ("corners", corners)):
                band = other.loss[other.sizes.index(max(d for d in sizes if d <= 10 * n))]
                band_widths[combined].append((band.ci[0] / band.value - 1, band.ci[1] / band.value - 1))
                band_coverage[combined] += sum(r.loss_verdict == "agree"
                                               for r in pool_rows(other, measured, errors, seed=seed))
            predicted = np.array([curve.loss[curve.sizes.index(d)].value for d in sizes])
            methods = [(f"kernelscale ({curve.continuation_law}), seed {seed} ({seconds_predict:.1f} s; bands: "
                        f"{sum(r.loss_verdict == 'agree' for r in rows)}/{len(rows)} agree)", predicted)]
            spec = prediction.spectrum
            # kernelscale's continuation moves toward the listed asymptote (curve.asymptote); beside it, the constant
            # continuation it replaced, and the same law toward alpha_K
            rate = default_convergence_rate(manifold_dimension(prediction.intrinsic_dimension))
            other_curves = {"constant continuation": predict_curve(spec, curve.sizes)}
            if prediction.alpha_K is not None:
                other_curves["toward alpha_K"] = predict_curve(spec, curve.sizes, asymptote=prediction.alpha_K,
                                                               rate=rate)
            for name, other in other_curves.items():
                methods.append((f"compared: {name}, seed {seed}",
                                np.array([other.loss[other.sizes.index(d)].value for d in sizes])))
            straight = straight_continuation(spec, sizes)
            if straight is not None:
                methods.append((f"lost: straight continuation, seed {seed}", straight))
            methods.append((f"lost: linear pool bias, seed {seed}", linear_pool_bias(spec, sizes)))
            power, broken = baselines(sample, sizes, seed)
            methods += [(f"baseline: power law, seed {seed}", power), (f"baseline: broken power law, seed {seed}",
                                                                       broken)]
            for name, values in methods:
                line, ok_loss, ok_exp = summary(name, values, measured_loss, measured_exponent, sizes)
                tally.setdefault(name.split(",")[0], []).append((ok_loss, ok_exp))
                print(line, flush=True)
                lines.append(line)
            if seed == seeds[0]:
                sizes_all = np.asarray(curve.sizes)
                low, high = np.asarray([e.ci for e in curve.loss]).T
                ax.fill_between(sizes_all, low, high, color="C0", alpha=0.2)
                ax.loglog(sizes_all, [e.value for e in curve.loss], "-", color="C0", label=f"kernelscale from n = {n} (seed 0)")
                ax.loglog(sizes, power, ":", color="C3", label="baseline power law (seed 0)")
                if straight is not None:
                    ax.loglog(sizes, straight, "--", color="C2", label="straight continuation (seed 0)")
                constant = other_curves["constant continuation"]
                ax.loglog(constant.sizes, [e.value for e in constant.loss], "-.", color="C1",
                          label="constant continuation (seed 0)")
        ax.axvline(n, color="grey", ls=":")
        ax.set(xlabel="training-set size D", ylabel="test loss L(D) (squared error summed over outputs)",
               title=f"{data}, sample n = {n}")
        ax.legend(fontsize=6)
        readable_log_ticks(ax)
        lines.append("")
    lines += ["Goals (every size within 10% in loss; local exponent over the sizes within 0.03), over cases x seeds:",
              ""]
    for name, results in tally.items():
        lines.append(f"- {name}: loss {sum(r[0] for r in results)} of {len(results)}, exponent "
                     f"{sum(r[1] for r in results)} of {len(results)}")
    lines.append(f"- kernelscale's 95% bands agree with the measured loss in {coverage[0]} of {coverage[2]} rows, its "
                 f"local-exponent intervals in {coverage[1]} of {coverage[2]}")
    for combined, widths in band_widths.items():
        low, high = np.asarray(widths).T
        lines.append(f"- loss bands combined {'in ' if combined == 'quadrature' else 'over the '}{combined}"
                     f"{' (predict)' if combined == 'quadrature' else ''}: agree with the measured loss in "
                     f"{band_coverage[combined]} of {coverage[2]} rows; at the largest measured size up to 10 n "
                     f"median {np.median(low):+.0%} / {np.median(high):+.0%}, widest {low.min():+.0%} / "
                     f"{high.max():+.0%}, within +-25% in {int(np.sum((low >= -0.25) & (high <= 0.25)))} of "
                     f"{len(widths)} predictions")
    text = "\n".join(lines) + "\n"
    print("\n".join(lines[-len(tally) - 5:]))
    Path(args.out).write_text(text)
    fig.tight_layout()
    fig.savefig(args.figure, dpi=100)
    print(f"wrote {args.out} and {args.figure}")


def fit_interval(fit) -> str:
    ci = None if fit.exponent is None else fit.exponent.ci
    return "" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


if __name__ == "__main__":
    main()
