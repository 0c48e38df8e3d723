"""The package is layered one way and keeps no state outside its one owner, read from its source.

Every import of a package module counts, at module level or inside a function: the graph
must have no cycle, no function may import a package module (that only hides a cycle),
each module imports only its own layer or those below (``LAYERS``), and no module is over
the size a reader can hold. No module keeps mutable state at module level: the one
exception is the owner itself, ``_runtime/owner.py``'s ``RUNTIME``. And the tests reach the
package through its public API: only ``tests/support/`` touches ``RUNTIME`` or imports a
private module, but for the unit tests of internals ``PRIVATE_IMPORTS_ALLOWED`` lists.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import opentelemetry_instrumentation_agentops as package

ROOT = Path(package.__file__).parent
NAME = package.__name__
MAX_LINES = 400
# Bottom to top: a module imports modules of its own layer or of those below it.
LAYERS = ("version", "package", "_runtime", "_engine", "_setup", "_api", "_compat", "_instrumentor")


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


def layer(name: str) -> int:
    """The rank of ``name``'s layer; the package's ``__init__`` is above them all."""
    parts = name.split(".")
    return len(LAYERS) if len(parts) == 1 else LAYERS.index(parts[1])


def test_every_module_belongs_to_a_layer():
    assert all(layer(name) >= 0 for name in MODULES)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_import_only_their_layer_and_those_below(name):
    above = [t for t in GRAPH[name] if layer(t) > layer(name)]
    assert not above, f"{name} imports {above}, from a layer above it"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_the_size_a_reader_can_hold(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


# -- process-wide state has one owner ---------------------------------------------------------

OWNER = (f"{NAME}._runtime.owner", "RUNTIME")
# Calls whose result is immutable (or, for loggers and context keys, not ours to keep).
CONSTANT_CALLS = frozenset(
    {
        "frozenset",
        "tuple",
        "range",
        "MappingProxyType",
        "TypeVar",
        "ContextVar",
        "Context",
        "NoOpTracerProvider",
        "Status",
        "create_key",
        "getLogger",
        "compile",
        "key",  # Patches.key(): a tuple
        "field",  # dataclass fields
        "property",
        "classmethod",
        "staticmethod",
        "_entity_decorator",  # a decorator function
        "Row",  # NamedTuples: conventions.TABLE, _compat.internals.INTERNALS
        "Counts",  # counting.NO_COUNTS
        "Internal",
        "object",  # a sentinel
        "type",
        "make_init",  # a function
        "TraceContextTextMapPropagator",  # keeps nothing
    }
)
CACHES = frozenset({"cache", "lru_cache", "cached_property"})


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _constant(node: ast.AST | None) -> bool:
    """Whether a module-level value is a constant: nothing the process can change later."""
    if node is None or isinstance(node, (ast.Constant, ast.Name, ast.Attribute, ast.Subscript)):
        return True
    if isinstance(node, ast.Tuple):
        return all(_constant(element) for element in node.elts)
    if isinstance(node, ast.Starred):
        return _constant(node.value)
    if isinstance(node, ast.BinOp):
        return _constant(node.left) and _constant(node.right)
    if isinstance(node, ast.UnaryOp):
        return _constant(node.operand)
    if isinstance(node, ast.Call):
        return _called(node) in CONSTANT_CALLS
    return False  # dict, list and set displays, comprehensions, other calls


def mutable_state(module: str, source: str) -> list[str]:
    """What ``source`` keeps that is mutable at module (or class) level, and ``global`` uses."""
    tree = ast.parse(source)
    found = [
        f"line {n.lineno}: global {', '.join(n.names)}"
        for n in ast.walk(tree)
        if isinstance(n, ast.Global)
    ]
    classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    for node in ast.walk(tree):
        decorators = getattr(node, "decorator_list", ())
        for decorator in decorators:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name in CACHES:
                found.append(f"line {node.lineno}: @{name} keeps a cache")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and getattr(target.value, "id", "") in classes:
                    found.append(f"line {node.lineno}: assigns to class attribute {target.attr}")

    def check(body: list[ast.stmt], where: str) -> None:
        for node in body:
            if isinstance(
                node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef)
            ):
                continue
            if isinstance(node, ast.ClassDef):
                check(node.body, f"class {node.name}")
            elif isinstance(node, ast.If):  # if TYPE_CHECKING:
                check(node.body + node.orelse, where)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # a docstring
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                names = [ast.unparse(t) for t in getattr(node, "targets", [])] or [
                    ast.unparse(node.target)  # type: ignore[union-attr]
                ]
                if (module, names[0]) == OWNER and ast.unparse(node.value) == "Runtime()":
                    continue  # the one owner
                if not _constant(node.value):
                    found.append(f"line {node.lineno}: {where} keeps {', '.join(names)}")
            elif not isinstance(node, ast.Pass):
                found.append(f"line {node.lineno}: {where} runs {ast.unparse(node)[:60]!r}")

    check(tree.body, "the module")
    return found


def test_the_state_checker_finds_globals_in_disguise():
    source = (
        "import functools\n_state = {'warned': False}\n_seen = []\nLIMIT = 3\n"
        "RUNTIME = Runtime()\nclass Cache:\n    provider = None\n    items = {}\n"
        "def f():\n    global LIMIT\n    Cache.provider = 1\n"
        "@functools.cache\ndef g():\n    return 1\n"
    )
    found = mutable_state("elsewhere", source)
    assert len(found) == 7, (
        found
    )  # _state, _seen, RUNTIME here, items, global, Cache.provider, @cache


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_keeps_mutable_state_but_the_owner(name):
    found = mutable_state(name, MODULES[name].read_text(encoding="utf-8"))
    assert not found, f"{name}: " + "; ".join(found)


# -- tests go through the public API ----------------------------------------------------------

TESTS = Path(__file__).resolve().parent
SUPPORT = TESTS / "support"
PRIVATE = f"{NAME}._"
# Test modules outside tests/support/ that import a private module of the package, and why.
# Everything else reaches the package as a user does, or through a helper in tests/support/.
PRIVATE_IMPORTS_ALLOWED: dict[str, tuple[frozenset[str], str]] = {
    "compat/test_versions.py": (
        frozenset({"_compat.internals", "_compat.redirect", "_compat.v03", "_compat.v04"}),
        "the compat layer's own honesty: its table of the agentops internals it touches, checked "
        "against the installed agentops, and its version gate",
    ),
    "test_counting.py": (
        frozenset({"_engine.processor"}),
        "the span processor's bound on the spans it holds that never end: memory, seen by no span",
    ),
    "test_llm_calls.py": (
        frozenset({"_engine.instrumentations"}),
        "which instrumentation of a library init() prefers, ranked from distributions' metadata "
        "a test cannot install",
    ),
}
PUBLIC_WAY = (
    "go through the public API (init(), AgentOpsInstrumentor().instrument(), the "
    "OTEL_INSTRUMENTATION_AGENTOPS_* variables with monkeypatch.setenv; "
    "support.runtime.configure()) or a helper in tests/support/"
)


def private_uses(source: str) -> list[tuple[int, str]]:
    """``(line, private module or "RUNTIME")`` for each reach into the package's private parts:
    an import, a module named in a string (``import_module()``, a script), ``RUNTIME``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                # ``from package._engine import processor`` imports the module processor.
                module = f"{node.module}.{alias.name}"
                module = module if module in MODULES else node.module
                if module.startswith(PRIVATE):
                    found.append((node.lineno, module.removeprefix(f"{NAME}.")))
        elif isinstance(node, ast.Import):
            found.extend(
                (node.lineno, a.name.removeprefix(f"{NAME}."))
                for a in node.names
                if a.name.startswith(PRIVATE)
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for word in node.value.split():
                if word.startswith(PRIVATE):
                    found.append((node.lineno, word.removeprefix(f"{NAME}.").rstrip("\"'`:,")))
        elif (isinstance(node, ast.Name) and node.id == "RUNTIME") or (
            isinstance(node, ast.Attribute) and node.attr == "RUNTIME"
        ):
            found.append((node.lineno, "RUNTIME"))
    return sorted(set(found))


TEST_MODULES = {
    path.relative_to(TESTS).as_posix(): path
    for path in sorted(TESTS.rglob("*.py"))
    if SUPPORT not in path.parents and path != Path(__file__).resolve()
}


def test_the_private_use_checker_finds_every_kind():
    source = (
        f"from {NAME}._runtime.owner import RUNTIME\nimport {NAME}._engine.ids\n"
        f"from {NAME} import _instrumentor, init\n"
        f"m = importlib.import_module('{NAME}._engine.sessions')\n"
        "settings.RUNTIME.strict = True\nRUNTIME.reset()\n"
    )
    assert private_uses(source) == [
        (1, "_runtime.owner"),
        (2, "_engine.ids"),
        (3, "_instrumentor"),
        (4, "_engine.sessions"),
        (5, "RUNTIME"),
        (6, "RUNTIME"),
    ]


def test_tests_reach_the_package_only_through_its_public_api_or_tests_support():
    wrong = []
    for name, path in TEST_MODULES.items():
        allowed = PRIVATE_IMPORTS_ALLOWED.get(name, (frozenset(), ""))[0]
        for line, what in private_uses(path.read_text(encoding="utf-8")):
            if what == "RUNTIME":
                wrong.append(f"tests/{name}:{line}: touches RUNTIME, the package's private state")
            elif what not in allowed:
                wrong.append(f"tests/{name}:{line}: imports {NAME}.{what}, a private module")
    assert not wrong, "\n".join([*wrong, f"Instead, {PUBLIC_WAY}."])


@pytest.mark.parametrize("name", sorted(PRIVATE_IMPORTS_ALLOWED))
def test_every_private_import_allowed_is_still_needed(name):
    modules, reason = PRIVATE_IMPORTS_ALLOWED[name]
    assert reason
    used = {what for _, what in private_uses(TEST_MODULES[name].read_text(encoding="utf-8"))}
    assert modules <= used, f"tests/{name} no longer imports {sorted(modules - used)}: unlist it"
