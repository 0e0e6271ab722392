"""Imports point one way (see the design's Layout): ``pipelines/`` may use ``crawler/``, never the
reverse. What both need lives in ``crawler/``, the lower layer."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def pipelines_imports(path: Path, root: Path = REPO) -> list[str]:
    """Every import of ``pipelines`` in one file, at any nesting level, as ``file:line: statement``."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue  # a relative import stays inside its own package
        if any(name == "pipelines" or name.startswith("pipelines.") for name in names):
            found.append(f"{path.relative_to(root).as_posix()}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_crawler_never_imports_pipelines() -> None:
    files = sorted((REPO / "crawler").rglob("*.py"))
    assert files
    found = [line for path in files for line in pipelines_imports(path)]
    assert found == [], "crawler/ imports pipelines/ (move what both need into crawler/):\n" + "\n".join(
        found
    )


def test_every_form_of_import_is_found(tmp_path: Path) -> None:
    """Top level, in a function, under a condition, ``import a.b as c``; not look-alike names."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "from pipelines.s3 import S3Uploader\n"
        "import pipelines._dateparse as dateparse\n"
        "if True:\n"
        "    from pipelines import sink\n"
        "def f():\n"
        "    import os, pipelines\n"
        "from crawler.pipelines import x\n"
        "import pipelinesque\n"
        "from . import pipelines\n",
        encoding="utf-8",
    )
    found = pipelines_imports(sample, tmp_path)
    assert [line.split(":")[1] for line in found] == ["2", "3", "5", "7"]
    assert found[0] == "sample.py:2: from pipelines.s3 import S3Uploader"


# --- the module graph: no circle anywhere, folders of a size a reader takes in ---

PACKAGES = ("crawler", "pipelines", "settings")
MAX_MODULES = 10  # per folder of crawler/: more and the folder needs splitting by job


def modules(root: Path = REPO) -> dict[str, Path]:
    """Every module of the product's packages by dotted name (a package by its ``__init__``)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The product's modules that module ``name`` imports, anywhere in it (in a function too:
    an import there still ties the two modules together)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from a.b import c``: the module a.b.c when c is one, else a.b itself
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            ]
        else:
            continue
        found.update(target for target in targets if target in known and target != name)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another, directly or round a longer circle
    (the strongly connected components of more than one module, Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
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
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def module_graph(root: Path = REPO) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = module_graph()
    assert len(graph) > 60  # the whole product, not an empty walk
    assert circles(graph) == []


def test_a_circle_is_found_however_long(tmp_path: Path) -> None:
    (tmp_path / "crawler" / "state").mkdir(parents=True)
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "settings").mkdir()
    files = {
        "crawler/__init__.py": "",
        "crawler/state/__init__.py": "",
        "crawler/state/store.py": "def f():\n    from crawler.state import sqlite\n",
        "crawler/state/sqlite.py": "from .store import f\n",
        "crawler/urls.py": "import crawler.page\n",
        "crawler/page.py": "from crawler import markup\n",
        "crawler/markup.py": "from crawler.urls import x\n",
        "crawler/alone.py": "from crawler.urls import x\n",
        "pipelines/__init__.py": "",
        "settings/__init__.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert circles(module_graph(tmp_path)) == [
        ["crawler.markup", "crawler.page", "crawler.urls"],
        ["crawler.state.sqlite", "crawler.state.store"],
    ]


def test_every_folder_of_crawler_is_small_and_says_what_it_holds() -> None:
    folders = [
        REPO / "crawler",
        *sorted(p for p in (REPO / "crawler").iterdir() if (p / "__init__.py").is_file()),
    ]
    assert len(folders) >= 8
    for folder in folders:
        count = len([p for p in folder.glob("*.py") if p.name != "__init__.py"])
        assert count <= MAX_MODULES, f"{folder.relative_to(REPO)} holds {count} modules"
    for init in [*(REPO / "crawler").rglob("__init__.py"), *(REPO / "pipelines").rglob("__init__.py")]:
        docstring = ast.get_docstring(ast.parse(init.read_bytes()))
        assert docstring and docstring.strip().endswith("."), (
            f"{init.relative_to(REPO)}: one sentence on what it holds"
        )
