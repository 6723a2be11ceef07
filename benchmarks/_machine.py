"""What a benchmark ran on (printed at the top of every benchmark's output), and how its tables print numbers."""

import os
import platform

import jax
import numpy as np

import kernelscale


def describe() -> str:
    devices = ", ".join(sorted({f"{d.platform}:{d.device_kind}" for d in jax.devices()}))
    return (f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPU cores; JAX {jax.__version__} "
            f"devices [{devices}]; numpy {np.__version__}; kernelscale {kernelscale.__version__}")


def fmt(value, ci=None) -> str:
    """``0.123 [0.100, 0.150]``, or ``-`` for a missing value."""
    if value is None:
        return "-"
    return f"{value:.3f}" + ("" if ci is None else f" [{ci[0]:.3f}, {ci[1]:.3f}]")
