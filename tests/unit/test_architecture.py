"""The package's imports go one way: commands -> config -> lightning -> render/data/components -> registry.

Every `import` of every module is read with `ast`, lazy imports inside functions included (a lazy import
still makes two modules depend on each other at run time). `import tuneforge.a.b` is an edge to the module
tuneforge.a.b (a file, or a package's __init__.py); `from tuneforge.a import b` is an edge to tuneforge.a.b
when b is a module, else to tuneforge.a. docs/architecture.md describes the layering checked here.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import tuneforge

PACKAGE = Path(tuneforge.__file__).parent
PLUGINS = Path(__file__).resolve().parents[2] / "plugins"  # the checkout's plugin packages
ROOT = "tuneforge"
COMPONENTS = ("data", "mixer", "template", "loss_mask", "peft", "model", "scheduler", "metrics", "llm",
              "pipeline", "filters", "evolution")
#: What a plugin may import (docs/architecture.md): everything else of tuneforge may move.
PLUGIN_SURFACE = ("tuneforge", "tuneforge.registry", "tuneforge.binding", "tuneforge.errors",
                  "tuneforge.data.example", "tuneforge.template.base",
                  *(f"tuneforge.{group}.base" for group in COMPONENTS))
#: Top to bottom: a module imports only from its own layer or the ones below (top-level modules count as
#: folders; artifacts.py and tuneforge/__init__.py are in no layer).
LAYERS = (("cli",), ("commands",), ("config",), ("lightning",),
          (*COMPONENTS, "render", "inference", "reports", "analysis"),
          ("registry", "binding", "errors", "secrets", "quiet", "hub", "threads"))


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module
    where: str  # file:line of the import statement

    def __str__(self) -> str:
        return f"{self.where}: {self.source} -> {self.target}"


def _modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package (a package is its __init__.py)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "__pycache__" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str:
    """The module an imported dotted name lives in: the longest prefix that is a module."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imported(module: str, node: ast.AST) -> list[str]:
    """The tuneforge modules one import statement depends on."""
    if isinstance(node, ast.Import):
        return [_resolve(a.name) for a in node.names if a.name.split(".")[0] == ROOT]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:  # relative: anchor at the importing module's package
        is_package = MODULES[module].name == "__init__.py"
        anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
        base = ".".join([*anchor, *([base] if base else [])])
    if base.split(".")[0] != ROOT:
        return []
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else _resolve(base) for a in node.names]


def _edges() -> list[Edge]:
    edges = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            for target in dict.fromkeys(_imported(module, node)):
                if target != module:
                    edges.append(Edge(module, target, f"{where}:{node.lineno}"))
    return edges


EDGES = _edges()


def _folder(module: str) -> str:
    """Top-level folder of the package a module lives in (a top-level module is its own folder)."""
    return module.split(".")[1] if module != ROOT else ROOT


def _cycles(edges: list[Edge]) -> list[list[Edge]]:
    """One cycle per strongly connected component of more than one module (Tarjan, iterative)."""
    graph: dict[str, dict[str, Edge]] = defaultdict(dict)
    for e in edges:
        graph[e.source].setdefault(e.target, e)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    components.append(set(members))
    return [_cycle_in(min(c), c, graph) for c in components]


def _cycle_in(start: str, members: set[str], graph: dict[str, dict[str, Edge]]) -> list[Edge]:
    """A shortest path from `start` back to itself inside one strongly connected component."""
    previous: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child, edge in sorted(graph[node].items()):
                if child not in members or child in previous:
                    continue
                previous[child] = edge
                if child == start:
                    path = [edge]
                    while path[0].source != start:
                        path.insert(0, previous[path[0].source])
                    return path
                following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # unreachable for a strongly connected component


def test_the_walk_sees_the_package():
    """Guards the walker itself: a broken walk would find no edges and pass every check below."""
    assert {"tuneforge.registry", "tuneforge.binding", "tuneforge.render.encode"} <= set(MODULES)
    assert any(e.source == "tuneforge.binding" and e.target == "tuneforge.registry" for e in EDGES)
    assert len(EDGES) > 100


def test_cycle_finder_reports_a_cycle():
    edges = [Edge("a", "b", "a.py:1"), Edge("b", "c", "b.py:2"), Edge("c", "a", "c.py:3"), Edge("c", "d", "c.py:4")]
    (cycle,) = _cycles(edges)
    assert [e.source for e in cycle] == ["a", "b", "c"]
    assert _cycles([Edge("a", "b", "a.py:1"), Edge("b", "c", "b.py:1")]) == []


def test_no_import_cycle():
    cycles = _cycles(EDGES)
    text = "\n\n".join("\n".join(f"  {e}" for e in cycle) for cycle in cycles)
    assert not cycles, f"{len(cycles)} import cycle(s):\n{text}"


def test_no_two_folders_import_each_other():
    between: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for e in EDGES:
        a, b = _folder(e.source), _folder(e.target)
        if a != b and ROOT not in (a, b):
            between[a, b].append(e)
    pairs = sorted({tuple(sorted(k)) for k in between if k[::-1] in between})
    text = "\n\n".join(f"{a} <-> {b}:\n" + "\n".join(f"  {e}" for e in between[a, b] + between[b, a])
                       for a, b in pairs)
    assert not pairs, f"folders that import each other:\n{text}"


def test_imports_go_down_the_layers():
    """In particular no component, render/, inference/ or lightning/ imports commands/ or config/."""
    rank = {folder: i for i, layer in enumerate(LAYERS) for folder in layer}
    assert set(rank) >= {_folder(m) for m in MODULES} - {ROOT, "artifacts"}, "a new folder needs a layer"
    upward = [e for e in EDGES if rank.get(_folder(e.source), -1) > rank.get(_folder(e.target), len(LAYERS))]
    assert not upward, "imports against the layering:\n" + "\n".join(f"  {e}" for e in upward)


def test_registry_and_binding_import_only_errors_and_registry():
    allowed = {"tuneforge.registry": {"tuneforge.errors"},
               "tuneforge.binding": {"tuneforge.errors", "tuneforge.registry"}}
    extra = [e for e in EDGES if e.source in allowed and e.target not in allowed[e.source]]
    assert not extra, "registry/binding import more of tuneforge than errors:\n" + "\n".join(f"  {e}" for e in extra)


def test_plugins_import_only_the_plugin_surface():
    """The plugin packages in plugins/ (their code, not their tests) are what third parties copy."""
    files = [f for f in sorted(PLUGINS.glob("*/*/**/*.py")) if "tests" not in f.relative_to(PLUGINS).parts]
    assert files, f"no plugin sources under {PLUGINS}"
    outside = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                           for a in node.names] if isinstance(node, ast.ImportFrom) and node.module else [])
            outside += [f"{path.relative_to(PLUGINS.parent)}:{node.lineno}: {name}" for name in names
                        if name.split(".")[0] == ROOT and name not in PLUGIN_SURFACE]
    assert not outside, "plugins import tuneforge internals:\n" + "\n".join(f"  {o}" for o in outside)
