"""The pip route's requirement list stays in step with pyproject.toml, CI's scripts are the ones README names, and
CI's crash wrapper prints a native stack."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _names(requirements) -> set[str]:
    return {r.split(">")[0].split("=")[0].split("<")[0].split(";")[0].strip().lower() for r in requirements}


def test_pip_requirements_are_pyprojects_without_neural_tangents_plus_frozendict():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    listed = [line.strip() for line in (ROOT / "requirements-pip.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert _names(listed) == (_names(project) - {"neural-tangents"}) | {"frozendict"}
    # the same lower bounds as pyproject.toml
    assert sorted(set(listed) - {"frozendict>=2.3.8"}) == sorted(set(project) - {"neural-tangents==0.6.5"})


def test_ci_runs_the_readme_test_command_both_jax_lines_and_the_pip_route():
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    assert "uv run pytest" in readme.split("\n\n")[2] and "\n.ci/native_stack uv run pytest\n" in ci
    assert ".ci/find_python" in ci and "jax.__version_info__ >= (0, 12)" in ci and ".ci/pip_route" in ci
    assert "pip install -r requirements-pip.txt && pip install --no-deps neural-tangents==0.6.5 ." in readme


def test_native_stack_prints_every_threads_stack_when_the_command_segfaults(tmp_path):
    """.ci/native_stack passes a clean exit through, and after a segfault prints the native stack from the core
    (or says plainly why it cannot: cores piped to a handler, no gdb, no core file) and removes the core."""
    script = ROOT / ".ci" / "native_stack"
    assert subprocess.run([script, sys.executable, "-c", "raise SystemExit(3)"], cwd=tmp_path).returncode == 3
    crash = subprocess.run([script, sys.executable, "-c", "import ctypes; ctypes.string_at(0)"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert crash.returncode == 128 + 11 and "died of signal 11" in crash.stderr
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    if pattern.startswith("|"):
        assert "cores go to a handler" in crash.stderr
    elif shutil.which("gdb") is None:
        assert "gdb is not installed" in crash.stderr
    elif "no core file" not in crash.stderr:  # a hard limit of 0 or a full disk leaves none
        assert "Thread 1" in crash.stderr and "string_at" in crash.stderr
        assert not [p for p in tmp_path.iterdir() if p.name.startswith("core")]
