"""The imports of the pure core (``agenda/`` and ``protocol/``) point one way.

Every module is parsed with ``ast`` (never imported), and every import in it
counts, at the top or inside a function: ``import agenda.views``,
``from agenda import views`` (an edge to the submodule ``agenda.views``),
``from agenda.views import RoomData`` (an edge to ``agenda.views``) and
relative imports.  The tests fail on any import circle, naming it with the
lines that make it, and on an import of ``server``, ``client``, ``loadtests``
or ``tests``: the core has no I/O and knows nothing of what drives it.

Importing ``a.b.c`` also runs ``a/__init__.py`` and ``a/b/__init__.py``; those
implicit edges are left out, since a package whose ``__init__`` imports its
own submodules (``agenda.export`` and its formats) is the usual way to offer
one entry point, not a circle.  What matters is that a submodule never imports
back the package ``__init__`` that imports it, which is an edge like any other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ("agenda", "protocol")
#: What drives the core: it may import none of these.
OUTSIDE = frozenset({"server", "client", "loadtests", "tests"})
EXPORT = "agenda.export"


@dataclass(frozen=True, slots=True)
class Edge:
    """One import: ``source`` imports ``target`` at ``line`` of ``path``."""

    source: str
    target: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.source} -> {self.target}"


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name -> its file, for every ``.py`` under ``packages``."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _absolute(module: str, path: Path, level: int, name: str | None) -> str:
    """The absolute name of a (possibly relative) ``from`` import's module."""
    if level == 0:
        return name or ""
    package = module.split(".")
    if path.name != "__init__.py":
        package = package[:-1]  # a module's package is its parent
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, name] if name else base)


def imported_names(module: str, path: Path) -> Iterable[tuple[str, int]]:
    """Every absolute name ``module`` imports (with its line): module, or module.name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):  # every node: imports inside functions count too
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path, node.level, node.module)
            for alias in node.names:
                # ``from agenda import views`` imports a module, ``from agenda.views
                # import RoomData`` a name: ``import_edges`` tells them apart by
                # the files (the longest prefix that is a module).
                yield f"{base}.{alias.name}", node.lineno


def import_edges(root: Path, packages: Iterable[str]) -> tuple[list[Edge], list[Edge]]:
    """(edges between the packages' modules, imports of ``OUTSIDE`` packages)."""
    files = module_files(root, packages)
    inside: set[Edge] = set()
    outside: set[Edge] = set()
    for module, path in files.items():
        where = str(path.relative_to(root))
        for name, line in imported_names(module, path):
            if name.split(".")[0] in OUTSIDE:
                outside.add(Edge(module, name, where, line))
                continue
            # The longest prefix that is one of the modules: ``a.b.Name`` -> ``a.b``.
            parts = name.split(".")
            while parts and ".".join(parts) not in files:
                parts.pop()
            target = ".".join(parts)
            if target and target != module:  # a name from the module itself is no edge
                inside.add(Edge(module, target, where, line))
    # One edge per (source, target): the first line that makes it.
    first: dict[tuple[str, str], Edge] = {}
    for edge in sorted(inside, key=lambda e: (e.source, e.target, e.line)):
        first.setdefault((edge.source, edge.target), edge)
    return list(first.values()), sorted(outside, key=lambda e: (e.path, e.line))


@dataclass(frozen=True, slots=True)
class Circle:
    """Modules that import each other round (a strongly connected group), and the
    shortest circle through the first of them, as its edges."""

    modules: tuple[str, ...]
    edges: tuple[Edge, ...]

    def __str__(self) -> str:
        names = " -> ".join([self.edges[0].source, *(edge.target for edge in self.edges)])
        lines = [names, *(f"    {edge}" for edge in self.edges)]
        if len(self.modules) > len(self.edges):
            lines.append(f"    (and more circles among {', '.join(self.modules)})")
        return "\n".join(lines)


def cycles(edges: Iterable[Edge]) -> list[Circle]:
    """One circle per strongly connected group of modules (Tarjan)."""
    graph: dict[str, dict[str, Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, {})[edge.target] = edge
        graph.setdefault(edge.target, {})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    found = []
    for group in groups:
        start = min(group)
        if len(group) > 1:
            circle = _circle_through(start, set(group), graph)
            found.append(Circle(tuple(sorted(group)), tuple(circle)))
    return found


def _circle_through(
    start: str, group: set[str], graph: Mapping[str, Mapping[str, Edge]]
) -> list[Edge]:
    """The shortest circle from ``start`` back to itself, inside ``group`` (breadth first)."""
    paths: dict[str, list[Edge]] = {start: []}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target, edge in sorted(graph[node].items()):
            if target == start:
                return [*paths[node], edge]
            if target in group and target not in paths:
                paths[target] = [*paths[node], edge]
                queue.append(target)
    raise AssertionError(f"{start} is in a strongly connected group but on no circle")


# ------------------------------------------------------------------ the core


EDGES, OUTSIDE_IMPORTS = import_edges(ROOT, CORE)


def test_the_graph_sees_every_kind_of_import() -> None:
    """The checks below are only as good as the graph: it holds what it must."""
    pairs = {(edge.source, edge.target) for edge in EDGES}
    assert ("agenda.followup", "agenda.export.model") in pairs  # from a.b.c import Name
    assert ("agenda.export", "agenda.export.as_csv") in pairs  # from a.b import module
    assert ("agenda.export", "agenda.export.as_pdf") in pairs  # inside a function
    assert ("agenda.insights", "agenda.analysis") in pairs  # from agenda import analysis
    assert ("protocol", "protocol.messages") in pairs  # a package's __init__
    assert set(module_files(ROOT, CORE)) >= {"agenda.export.as_pdf", "protocol.codec"}


def test_the_core_has_no_import_circle() -> None:
    found = cycles(EDGES)
    assert not found, "import circles:\n" + "\n".join(str(circle) for circle in found)


def test_the_core_imports_nothing_of_what_drives_it() -> None:
    assert not OUTSIDE_IMPORTS, "agenda/ and protocol/ import the I/O side:\n" + "\n".join(
        f"    {edge}" for edge in OUTSIDE_IMPORTS
    )


def test_export_formats_import_only_what_they_share() -> None:
    """A format (``as_*``) imports the shared modules, never another format nor the
    package's ``__init__``; the shared modules import no format."""
    wrong = []
    for edge in EDGES:
        if not edge.source.startswith(EXPORT + ".") or not edge.target.startswith(EXPORT):
            continue
        # Whether the source is a format or a shared module, the same two rules.
        if edge.target == EXPORT or edge.target.split(".")[-1].startswith("as_"):
            wrong.append(edge)
    assert not wrong, "\n".join(str(edge) for edge in wrong)


# ------------------------------------------------------------------ the checker itself


def _write(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_circle_through_a_function_local_and_a_relative_import_is_found(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg import first\n",
            "pkg/first.py": "def f() -> None:\n    from pkg import second\n",
            "pkg/second.py": "from .third import NAME\n",
            "pkg/third.py": "from . import first\nNAME = 1\n",
            "pkg/fine.py": "import pkg.third\n",
        },
    )
    edges, outside = import_edges(tmp_path, ["pkg"])
    (circle,) = cycles(edges)
    assert circle.modules == ("pkg.first", "pkg.second", "pkg.third")
    names = [circle.edges[0].source, *(edge.target for edge in circle.edges)]
    assert names == ["pkg.first", "pkg.second", "pkg.third", "pkg.first"]
    assert [edge.line for edge in circle.edges] == [2, 1, 1]
    assert "pkg/first.py:2 pkg.first -> pkg.second" in str(circle)
    assert outside == []


def test_a_submodule_importing_its_package_init_is_a_circle(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.part import thing\n",
            "pkg/part.py": "import server.app\nfrom pkg import OTHER\n",
        },
    )
    edges, outside = import_edges(tmp_path, ["pkg"])
    (circle,) = cycles(edges)
    assert circle.modules == ("pkg", "pkg.part")
    assert [str(edge) for edge in outside] == ["pkg/part.py:1 pkg.part -> server.app"]
