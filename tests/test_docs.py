"""The examples in docs/api.md run as written, so the API docs cannot drift from the code."""

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs" / "api.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.S)


def test_the_api_page_has_examples():
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_api_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(BLOCKS[index], f"{DOCS.name}, example {index + 1}", "exec"), {"__name__": "__docs__"})


def test_the_package_exports_only_its_own_names():
    """Every public name is kernelscale's own, but ``stax``: neural-tangents' layer library, which kernelscale makes
    importable on current JAX, exported so users need not reach into ``kernelscale._compat``."""
    import types

    import kernelscale

    for name in dir(kernelscale):
        if name.startswith("_") or name == "stax":
            continue
        value = getattr(kernelscale, name)
        module = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", "")
        assert module.startswith("kernelscale"), (name, module)
    assert kernelscale.stax.__name__ == "neural_tangents.stax"


def test_public_functions_stay_functions_after_their_modules_are_imported():
    """``kernelscale.predict`` is the function, also after ``kernelscale.predict`` the module is imported (as other
    stages import it); the module stays reachable through ``importlib.import_module``."""
    import importlib

    import kernelscale

    for name in ("predict", "measure", "compare", "sweep", "spectrum"):
        module = importlib.import_module(f"kernelscale.{name}")
        assert callable(getattr(kernelscale, name)) and getattr(kernelscale, name) is getattr(module, name)
