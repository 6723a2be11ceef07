"""What a benchmark ran on: printed at the top of every benchmark's output."""

import os
import platform

import jax
import numpy as np

import kernelscale


def describe() -> str:
    devices = ", ".join(sorted({f"{d.platform}:{d.device_kind}" for d in jax.devices()}))
    return (f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPU cores; JAX {jax.__version__} "
            f"devices [{devices}]; numpy {np.__version__}; kernelscale {kernelscale.__version__}")
