"""What a benchmark ran on (printed at the top of every benchmark's output), and how its tables print numbers."""

import os
import platform

import jax
import numpy as np

import kernelscale


def cpu_model() -> str:
    """The CPU's model name and widest vector instructions (``AMD EPYC, avx2``) from /proc/cpuinfo: XLA compiles
    for the host's instruction set, so a CPU result or crash belongs to one; ``unknown`` where there is no cpuinfo."""
    try:
        info = open("/proc/cpuinfo").read()
    except OSError:
        return "unknown"
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    flags = set(fields.get("flags", "").split())
    widest = next((isa for isa in ("avx512f", "avx2", "avx", "sse4_2") if isa in flags), "no avx")
    return f"{fields.get('model name', 'unknown')}, {widest}"


def describe() -> str:
    devices = ", ".join(sorted({f"{d.platform}:{d.device_kind}" for d in jax.devices()}))
    return (f"machine: {platform.node()} {platform.machine()} ({cpu_model()}), {os.cpu_count()} CPU cores; "
            f"JAX {jax.__version__} devices [{devices}]; numpy {np.__version__}; kernelscale {kernelscale.__version__}")


def fmt(value, ci=None) -> str:
    """``0.123 [0.100, 0.150]`` of an Estimate (or a number and its interval), or ``-`` for a missing value."""
    if value is None:
        return "-"
    if isinstance(value, kernelscale.Estimate):
        value, ci = value.value, value.ci
    return f"{value:.3f}" + ("" if ci is None else f" [{ci[0]:.3f}, {ci[1]:.3f}]")
