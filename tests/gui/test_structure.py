"""The GUI's structure, read from its source: no import cycle, its folders layered one
way, no reaching into another object's private members.

Both are read with :mod:`ast` (nothing is imported), every import counted, those inside
functions too: a cycle hidden in a function still makes two modules one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def modules(package: str, root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``package``."""
    found = {}
    for path in (root / package).rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that module ``name`` imports (anywhere in it)."""
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            wanted = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            wanted = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                      for a in node.names]
        else:
            continue
        for target in wanted:
            while target and target not in known:
                target = target.rpartition(".")[0]
            # a package's own __init__ runs first anyway: not an edge of a cycle
            if target and target != name and not name.startswith(target + "."):
                targets.add(target)
    return targets


def import_cycles(package: str, root: Path = ROOT) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a loop (Tarjan)."""
    known = modules(package, root)
    edges = {m: imports_of(m, p, known) for m, p in known.items()}
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(known):
        if v not in index:
            visit(v)
    return groups


def test_the_cycle_finder_finds_a_cycle(tmp_path):
    """The check itself can fail: two modules importing each other (one inside a
    function) are found."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from .a import g\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    assert import_cycles("pkg", tmp_path) == [["pkg.a", "pkg.b"]]


@pytest.mark.parametrize("package", ["engine", "gui"])
def test_no_import_cycle(package):
    assert import_cycles(package) == []


#: The GUI's folders from the bottom up: a module imports only from its own layer and
#: those below it (the application shell's helpers at the bottom, app.py at the top).
GUI_LAYERS = (("gui",), ("gui.widgets",), ("gui.run", "gui.forms", "gui.dialogs"),
              ("gui.panels",), ("gui.views",), ("gui.lessons",), ("gui.windows",),
              ("gui.app",))


def layer_of(module: str, layers=GUI_LAYERS) -> int:
    """The index of the deepest layer whose name starts ``module`` (a top-level helper:
    0, the bottom)."""
    best, depth = 0, -1
    for i, names in enumerate(layers):
        for name in names:
            if (module == name or module.startswith(name + ".")) and name.count(".") > depth:
                best, depth = i, name.count(".")
    return best


def upward_imports(package: str, layers, root: Path = ROOT) -> list[str]:
    """``a -> b`` for each import of a module from a higher layer (anywhere in the file)."""
    known = modules(package, root)
    return sorted(f"{m} -> {t}" for m, p in known.items() for t in imports_of(m, p, known)
                  if layer_of(t, layers) > layer_of(m, layers))


def test_the_layer_check_finds_an_upward_import(tmp_path):
    """The check itself can fail: a panel importing a view is found, a view importing a
    panel is not."""
    for folder in ("pkg", "pkg/panels", "pkg/views"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "pkg/views/v.py").write_text("from pkg.panels.p import f\n")
    (tmp_path / "pkg/panels/p.py").write_text("def f():\n    from pkg.views import v\n")
    layers = (("pkg",), ("pkg.panels",), ("pkg.views",))
    assert upward_imports("pkg", layers, tmp_path) == ["pkg.panels.p -> pkg.views.v"]


def test_the_gui_folders_import_downwards_only():
    assert upward_imports("gui", GUI_LAYERS) == []


def private_reads(package: str, root: Path = ROOT) -> list[str]:
    """``file:line name._member`` for each private member read or written on an object
    other than ``self``/``cls`` (and not a module's: ``os._exit``), by attribute or
    ``getattr``/``hasattr``/``setattr`` with a literal name."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules_here = {a.asname or a.name for n in ast.walk(tree)
                        if isinstance(n, ast.Import) for a in n.names}
        for node in ast.walk(tree):
            owner, member = None, None
            if isinstance(node, ast.Attribute):
                owner, member = node.value, node.attr
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("getattr", "hasattr", "setattr") \
                    and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                owner, member = node.args[0], node.args[1].value
            if not isinstance(member, str) or not member.startswith("_") \
                    or member.startswith("__"):
                continue
            if isinstance(owner, ast.Name) and owner.id in {"self", "cls", *modules_here}:
                continue
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) \
                    and owner.func.id == "super":
                continue
            found.append(f"{path.relative_to(root)}:{node.lineno} {ast.unparse(node)}")
    return sorted(found)


def test_the_private_reader_finds_a_reach(tmp_path):
    """The check itself can fail: another object's private member is found, by attribute
    or by name; one's own and a module's are not."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        "import os\nclass A:\n    def f(self, other):\n        self._x = os._exit\n"
        "        other._y.pop()\n        return getattr(other, '_z', None)\n")
    assert private_reads("pkg", tmp_path) == ["pkg/a.py:5 other._y",
                                               "pkg/a.py:6 getattr(other, '_z', None)"]


def test_no_gui_class_reads_another_objects_private_members():
    assert private_reads("gui") == []
