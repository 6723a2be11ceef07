"""The compute-optimal frontier predicted from the spectrum against the one measured by one-pass SGD (issue 27,
item 4): ``kernelscale allocate --arch A --data D --compute C --check`` on teacher data (fresh points every step)
and on digits and mnist5k (a finite data set, reused past one epoch: the table says how many times), FC depth 1 and
3, on the NNGP (the kernel of the readout features the check trains); the NTK's prediction beside it (the check
cannot measure it: readout features are the NNGP's). Every row also gives the phase and the cost of the prediction
against the measurement, in one run.

    uv run python benchmarks/allocate.py [--cases teacher:dim=3 teacher:dim=5 digits mnist5k] [--depths 1 3]
"""

import argparse
import time

from _machine import describe, fmt

import kernelscale as ks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", nargs="+", default=["teacher:dim=3", "teacher:dim=5", "digits", "mnist5k"])
    parser.add_argument("--depths", nargs="+", type=int, default=[1, 3])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--compute", type=float, default=1e5)
    parser.add_argument("--widths", default="8,16,32,64,128,256")
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args()
    widths = tuple(int(w) for w in args.widths.split(","))
    print(describe())
    print(f"one-pass SGD, learning rate 0.5 / E k(x, x), batch 1; n = min({args.n}, the data's size); C = "
          f"{args.compute:g} for the prediction; --check widths {args.widths}, {args.repeats} repeats\n")
    print("| data | depth | b | a | phase | eta at C | xi at C | checked C | eta predicted | eta measured | "
          "verdict | xi predicted | xi measured | verdict | N* decades | reuse | NTK: phase, eta, xi at C | "
          "predict s | check s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for data in args.cases:
        for depth in args.depths:
            arch = f"fc:depth={depth}"
            n = None if data == "digits" else args.n
            try:
                a = ks.predict_allocation(arch, data, compute=args.compute, n_samples=n, check=True,
                                          check_widths=widths, repeats=args.repeats)
            except ks.KernelscaleError as error:
                print(f"| {data} | {depth} | {error} |")
                continue
            start = time.perf_counter()
            try:
                ntk = ks.predict_allocation(arch, data, compute=args.compute, n_samples=n, kernel="ntk")
                ntk_cell = f"{ntk.phase}, {ntk.loss_exponent.value:.3f}, {ntk.n_exponent.value:.3f}"
            except ks.KernelscaleError as error:
                ntk_cell = str(error)[:60]
            ntk_seconds = time.perf_counter() - start
            c = a.check
            print(f"| {data} | {depth} | {a.kernel_decay.value:.2f} | {a.target_decay.value:.2f} | {a.phase} | "
                  f"{fmt(a.loss_exponent)} | {fmt(a.n_exponent)} | {c.budgets[0]:.3g}..{c.budgets[1]:.3g} | "
                  f"{fmt(c.loss_exponent_predicted)} | {fmt(c.loss_exponent_measured)} | "
                  f"{c.loss_exponent_verdict} {_sigma(c.loss_exponent_gap_sigma)} | {fmt(c.n_exponent_predicted)} | "
                  f"{fmt(c.n_exponent_measured)} | {c.n_exponent_verdict} {_sigma(c.n_exponent_gap_sigma)} | "
                  f"{c.decades_of_features:.2f} | {c.reuse:.2g} | {ntk_cell} | {a.seconds:.0f} | {c.seconds:.0f} |",
                  flush=True)
            print(f"  (NTK prediction: {ntk_seconds:.0f} s)", flush=True)


def _sigma(value) -> str:
    return "" if value is None else f"{value:.1f}σ"


if __name__ == "__main__":
    main()
