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
    import types

    import kernelscale

    for name in dir(kernelscale):
        if name.startswith("_"):
            continue
        value = getattr(kernelscale, name)
        module = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", "")
        assert module.startswith("kernelscale"), (name, module)
