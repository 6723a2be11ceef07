"""The figures docs/cli.md shows, one per command, on built-in data (about 2 minutes on 2 CPU cores).

    uv run python benchmarks/figures.py

Writes ``docs/figures/<command>.png`` through the CLI, exactly as a user's ``--plot`` would, and prints what ran on.
"""

import subprocess
import sys
from pathlib import Path

from _machine import describe

FIGURES = Path(__file__).parent.parent / "docs" / "figures"
COMMANDS = {
    "predict": ["predict", "--arch", "fc:depth=3", "--data", "digits", "--n", "1000"],
    "measure": ["measure", "--arch", "fc:depth=3", "--data", "digits", "--n", "1000", "--regimes",
                "data,width,data_variance"],
    "compare": ["compare", "--arch", "fc:depth=3", "--data", "digits", "--n", "1000"],
    "compare_pool": ["compare", "--arch", "fc:depth=2", "--data", "sphere:dim=3,target=gp", "--n", "512", "--pool",
                     "2000"],
    "sweep": ["sweep", "--arch", "fc:depth=3", "--data", "digits", "--vary", "input_noise=0,0.5,1", "--n", "600",
              "--compare"],
    "allocate": ["allocate", "--compute", "5.76e23", "--E", "1.69", "--A", "406.4", "--B", "410.7", "--alpha", "0.34",
                 "--beta", "0.28"],
}


def main() -> None:
    print(describe(), flush=True)
    FIGURES.mkdir(parents=True, exist_ok=True)
    for name, arguments in COMMANDS.items():
        path = FIGURES / f"{name}.png"
        command = [sys.executable, "-m", "kernelscale", *arguments, "--plot", str(path)]
        print("kernelscale " + " ".join(arguments) + f" --plot docs/figures/{name}.png", flush=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
