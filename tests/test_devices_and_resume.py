"""Kernel blocks over several devices (4 host CPU devices in a subprocess) and resuming an interrupted kernel."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kernelscale as ks
from kernelscale.kernels import cache_dir

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import jax
    import kernelscale as ks
    from typer.testing import CliRunner
    from kernelscale.cli import app

    x = ks.load_dataset("sphere:dim=5", n_samples=600, seed=0).x
    one = ks.compute_kernel("fc:depth=3", x, devices=1, batch_size=128, use_cache=False)
    spread = ks.compute_kernel("fc:depth=3", x, batch_size=128, use_cache=False)
    result = CliRunner().invoke(app, ["predict", "--arch", "fc:depth=2", "--data", "sphere:dim=3", "--n", "600",
                                      "--no-cache", "--no-intrinsic-dim", "--json", "-"])
    print(json.dumps({"local": len(jax.local_devices()), "one": one.devices, "spread": spread.devices,
                      "max_diff": float(np.abs(one.matrix - spread.matrix).max()),
                      "predict_devices": json.loads(result.stdout.strip().splitlines()[-1])["devices"]}))
""")


def test_blocks_spread_over_four_host_devices_give_the_same_matrix():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["local"] == 4 and report["one"] == 1 and report["spread"] == 4
    assert report["max_diff"] == 0.0  # the same float64 computation per block, wherever it runs
    assert report["predict_devices"] == 4


def test_devices_argument_is_checked():
    x = ks.load_dataset("sphere:dim=3", n_samples=50).x
    with pytest.raises(ks.DataError, match="devices must be an integer in"):
        ks.compute_kernel("fc", x, devices=99)


class _Interrupt(Exception):
    pass


def test_an_interrupted_kernel_resumes_from_its_finished_blocks():
    x = ks.load_dataset("sphere:dim=4", n_samples=500, seed=2).x

    def stop_after_three(done, total):
        if done == 3:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        ks.compute_kernel("fc:depth=3", x, kind="nngp", batch_size=100, progress=stop_after_three)
    partial = [p for p in cache_dir().iterdir() if ".partial-b100" in p.name]
    assert len(partial) == 1 and len(list(partial[0].glob("block-*.npy"))) == 3
    resumed = ks.compute_kernel("fc:depth=3", x, kind="nngp", batch_size=100)
    assert resumed.resumed_blocks == 3 and not resumed.from_cache
    fresh = ks.compute_kernel("fc:depth=3", x, kind="nngp", batch_size=100, use_cache=False)
    np.testing.assert_array_equal(resumed.matrix, fresh.matrix)
    assert not partial[0].exists()  # removed once the whole matrix is cached
    again = ks.compute_kernel("fc:depth=3", x, kind="nngp", batch_size=100)
    assert again.from_cache and again.devices == 0
