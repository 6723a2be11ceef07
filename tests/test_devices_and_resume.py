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

    def stop_after_three(stage, done, total):
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


def test_ctrl_c_says_what_was_saved_and_the_rerun_says_what_it_reused(monkeypatch, tmp_path):
    """The command line's Ctrl-C (a KeyboardInterrupt after two of the kernel's 15 blocks): exit 130, the saved
    blocks and where; the rerun reuses them and says so on stderr and in the JSON; --cache chose the folder."""
    import typer.testing

    from kernelscale import kernels
    from kernelscale.cli import app

    evaluate = kernels.evaluate_blocks

    def interrupted_after_two(*args, **kwargs):
        for done, block in enumerate(evaluate(*args, **kwargs)):
            if done == 2:
                raise KeyboardInterrupt
            yield block

    command = ["predict", "--arch", "cnn:depth=1", "--data", "digits", "--n", "512", "--no-intrinsic-dim",
               "--cache", str(tmp_path / "mine"), "--json", str(tmp_path / "p.json")]
    runner = typer.testing.CliRunner()
    monkeypatch.setattr(kernels, "evaluate_blocks", interrupted_after_two)
    stopped = runner.invoke(app, command)
    assert stopped.exit_code == 130, stopped.output
    assert "interrupted: 2 of the 15 blocks" in stopped.stderr and "resumes from them" in stopped.stderr
    assert str(tmp_path / "mine") in stopped.stderr.replace("\n", "") and not (tmp_path / "p.json").exists()
    monkeypatch.setattr(kernels, "evaluate_blocks", evaluate)
    rerun = runner.invoke(app, command)
    assert rerun.exit_code == 0, rerun.output
    assert "kernel resumed: 2 blocks reused" in rerun.stderr
    assert json.loads((tmp_path / "p.json").read_text())["resumed_blocks"] == 2
    assert list((tmp_path / "mine").glob("kernel-*.npy"))  # the whole matrix, cached where --cache said


def test_an_uncached_interrupted_kernel_says_nothing_was_saved(monkeypatch):
    from kernelscale import kernels

    evaluate = kernels.evaluate_blocks

    def interrupted(*args, **kwargs):
        yield next(evaluate(*args, **kwargs))
        raise KeyboardInterrupt

    monkeypatch.setattr(kernels, "evaluate_blocks", interrupted)
    x = ks.load_dataset("sphere:dim=4", n_samples=300, seed=2).x
    with pytest.raises(KeyboardInterrupt) as stopped:
        ks.compute_kernel("fc:depth=2", x, batch_size=100, use_cache=False)
    (note,) = stopped.value.__notes__
    assert note.startswith("interrupted: 1 of the 6 blocks of the ntk kernel of fc:")
    assert note.endswith("were computed but not saved (the cache is off); a rerun starts over.")
