"""The pip route's requirement list stays in step with pyproject.toml, and CI's scripts are the ones README names."""

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
    assert "uv run pytest" in readme.split("\n\n")[2] and "\nuv run pytest\n" in ci
    assert ".ci/find_python" in ci and "jax.__version_info__ >= (0, 12)" in ci and ".ci/pip_route" in ci
    assert "pip install -r requirements-pip.txt && pip install --no-deps neural-tangents==0.6.5 ." in readme
