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
