"""The house rules (docs: README.md, "Layout"; #23): no function over 60 lines (decorators and docstring included),
no module importing another module's private name, and no import circle between the modules (function-level
imports included), read from the source with ast."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "kernelscale"
MAX_LINES = 60


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(), str(path)) for path in PACKAGE.glob("*.py")}


def _imports(name: str, tree: ast.Module):
    """(imported module, imported name or None) for every relative import of one module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            for alias in node.names:
                if node.module is None:
                    yield alias.name, None
                else:
                    yield node.module.split(".")[0], alias.name


def test_no_function_is_over_60_lines():
    long = [(f"{name}.py:{node.name}", node.end_lineno - min([node.lineno] + [d.lineno for d in node.decorator_list])
             + 1) for name, tree in _modules().items() for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    assert [item for item in long if item[1] > MAX_LINES] == []


def test_no_module_imports_another_modules_private_name():
    private = [(name, module, imported) for name, tree in _modules().items() for module, imported in _imports(name, tree)
               if imported and imported.startswith("_") and not imported.startswith("__") and module != name]
    assert private == []


def test_no_import_circle():
    modules = _modules()
    edges = {name: {module for module, _ in _imports(name, tree) if module in modules and module != name}
             for name, tree in modules.items() if name != "__init__"}
    state: dict[str, str] = {}

    def visit(name, path):
        state[name] = "open"
        for nxt in sorted(edges.get(name, ())):
            assert state.get(nxt) != "open", " -> ".join([*path, nxt])
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
