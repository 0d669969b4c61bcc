"""The shape of the package (issue 24): no import circles, counting imports inside functions; Qt only
under ``ui/``; nothing imports the command line; no file over ~800 lines.

The graph is read from the source with :mod:`ast`, so an import that only runs inside a function
(the usual way to break a circle by hiding it) still counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "gam_gui"
MAX_LINES = 800


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest known module that ``name`` is or lies in."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (annotations only; never executed)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                todo.extend(child.orelse)
                continue
            todo.append(child)


def _imports(mod: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.split(".")
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                root = ".".join(base + ([node.module] if node.module else []))
            else:
                root = node.module or ""
            names = [root] + [f"{root}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            if n.startswith("gam_gui"):
                target = _resolve(n, known)
                if target and target != mod:
                    out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {m: _imports(m, p, known) for m, p in known.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _parent_packages(mod: str) -> set[str]:
    parts = mod.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_no_import_circles_even_through_function_level_imports():
    graph = _graph()
    # A package's __init__ re-exporting its own submodules is not a circle a reader has to untangle:
    # drop the edges from a module to the packages that contain it.
    graph = {m: {t for t in ts if t not in _parent_packages(m)} for m, ts in graph.items()}
    assert _cycles(graph) == []


def test_the_checker_sees_a_circle_hidden_in_a_function(tmp_path):
    known = {"gam_gui.a": tmp_path / "a.py", "gam_gui.b": tmp_path / "b.py"}
    known["gam_gui.a"].write_text("import gam_gui.b\n")
    known["gam_gui.b"].write_text("def f():\n    from gam_gui import a\n")
    graph = {m: _imports(m, p, known) for m, p in known.items()}
    assert _cycles(graph) == [["gam_gui.a", "gam_gui.b"]]


def test_qt_only_under_ui_and_nothing_imports_the_cli():
    for mod, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
                imported |= {f"{node.module}.{a.name}" for a in node.names}
        if not mod.startswith("gam_gui.ui") and mod != "gam_gui.cli":  # cli: only `--version` names Qt's
            assert not any(n.split(".")[0] in ("PyQt5", "PyQt6", "PySide2", "PySide6") for n in imported), mod
        if mod != "gam_gui.cli":
            assert "gam_gui.cli" not in imported, f"{mod} imports the command line"


def test_no_file_over_the_line_budget():
    long = {str(p.relative_to(PKG.parent)): n for p in PKG.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
