"""The package is layered one way (design.md section 2), read from its source.

Every import of a package module counts, at module level or inside a function:
the graph must have no cycle, no function may import a package module (that
only hides a cycle), no engine module may import ``compat``, and no module is
over the size a reader can hold.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import opentelemetry_instrumentation_agentops as package

ROOT = Path(package.__file__).parent
NAME = package.__name__
MAX_LINES = 400
# Above the engine: they may turn the agentops redirect on.
MAY_IMPORT_COMPAT = {NAME, f"{NAME}._instrumentor"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([NAME, *parts])


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(importer: str, node: ast.ImportFrom) -> list[str]:
    """The package modules one ``from ... import ...`` statement loads."""
    if node.level:
        base = importer if _is_package(importer) else importer.rpartition(".")[0]
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        target = f"{base}.{node.module}" if node.module else base
    else:
        target = node.module or ""
    submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES]
    # ``from . import sessions`` loads the module sessions, not the package's own names.
    names_of_target = len(submodules) < len(node.names)
    return submodules + ([target] if names_of_target and target in MODULES else [])


def imports_of(name: str) -> list[tuple[str, bool]]:
    """``(imported module, inside a function?)`` for every package import in ``name``."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            if isinstance(child, ast.ImportFrom):
                found.extend((target, in_function) for target in _resolve(name, child))
            elif isinstance(child, ast.Import):
                found.extend((a.name, in_function) for a in child.names if a.name in MODULES)
            visit(child, nested)

    visit(tree, False)
    return [(target, inside) for target, inside in found if target != name]


GRAPH = {name: sorted({target for target, _ in imports_of(name)}) for name in MODULES}


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in graph.get(node, ()):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_checker_finds_a_cycle():
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None


def test_the_checker_sees_function_level_and_relative_imports():
    graph = imports_of(f"{NAME}._engine.sessions")
    assert (f"{NAME}._runtime.registry", False) in graph
    assert all(target in MODULES for target, _ in graph)


def test_the_import_graph_has_no_cycle():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(c.removeprefix(NAME) for c in cycle)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_package_module_is_imported_inside_a_function(name):
    late = [target for target, inside in imports_of(name) if inside]
    assert not late, f"{name} imports {late} inside a function"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_top_imports_compat(name):
    if name in MAY_IMPORT_COMPAT or name.startswith(f"{NAME}._compat"):
        return
    compat = [t for t in GRAPH[name] if t == f"{NAME}._compat" or t.startswith(f"{NAME}._compat.")]
    assert not compat, f"engine module {name} imports {compat}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_the_size_a_reader_can_hold(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"
