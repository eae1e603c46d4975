"""The project's import graph (read with ast, nothing imported): no cycles among our modules.

Layers, lowest first (a module imports only from its own layer or below; see README, "How the
autograder is layered"):

1. convlab (geometry, data, kernels): the helpers students import; nothing from autograder.
2. autograder's records: _compat, cases, policy, forbidden, submission, _worker, sandbox.
3. checks (the tiers), then exercise (the Exercise base and its registry of exercises).
4. reference (the oracle: asks an exercise for its answers), mistake_models, then
   exercises/* (one module per graded function), then registry (the labs list exercises).
5. runner (one graded test), then grade, gradescope, nbgrader_*, report, notebook, suite,
   __main__ (the paths users run).

Every import counts, at the top of a module or inside a function (a lazy import is still a
dependency); only `if TYPE_CHECKING:` imports, which never run, are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("autograder", "convlab")


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run (those under `if TYPE_CHECKING:` cannot)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the project modules it imports (a `from package import name` that names a
    submodule counts as importing that submodule)."""
    files = {_module_name(p, root): p for pkg in PACKAGES for p in (root / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join([*base, node.module] if node.module else base)
                else:
                    module = node.module or ""
                targets = [module, *(f"{module}.{a.name}" for a in node.names)]
            for target in targets:
                # importing a.b.c runs a and a.b first: count the deepest project module named
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != name and target not in package.split(".")[:1]:
                    deps.add(target)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_project_has_no_import_cycle() -> None:
    """Is the import graph of autograder and convlab free of cycles?"""
    found = cycles(import_graph())
    assert found == [], [sorted(c) for c in found]


def test_the_lower_layers_import_nothing_above_them() -> None:
    """Do convlab, the records, checks, exercise and reference stay below the grading paths?"""
    graph = import_graph()
    paths = {"autograder.runner", "autograder.grade", "autograder.sandbox", "autograder.report"}
    for module in ("autograder.reference", "autograder.exercise", "autograder.checks"):
        assert not graph[module] & paths, (module, sorted(graph[module] & paths))
    for module, deps in graph.items():
        if module.startswith("convlab"):
            assert not any(d.startswith("autograder") for d in deps), (module, sorted(deps))


def test_the_check_finds_a_cycle(tmp_path: Path) -> None:
    """Would a cycle (a lazy import inside a function included) be found?"""
    pkg = tmp_path / "autograder"
    pkg.mkdir()
    (tmp_path / "convlab").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("def f():\n    from .high import g\n")
    (pkg / "high.py").write_text("from . import low\n")
    (pkg / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .high import g\n"
    )
    graph = import_graph(tmp_path)
    assert cycles(graph) == [frozenset({"autograder.low", "autograder.high"})]
    assert graph["autograder.typed"] == set()


def test_grading_threads_parse_one_at_a_time() -> None:
    """Does grader code parse with `_compat.parse_ast` (one lock), never `ast.parse` directly?

    CPython < 3.12 shares the AST constructor's recursion depth between threads: two grading
    threads parsing at once gave an honest student "SystemError: AST constructor recursion depth
    mismatch" (python/cpython#106905). The worker (one thread per process) is exempt.
    """
    direct = []
    for path in sorted((ROOT / "autograder").rglob("*.py")):
        if path.name in ("_compat.py", "_worker.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "parse"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "ast"
            ):
                direct.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert direct == [], direct
