"""The documentation site (docs/, mkdocs.yml): built strictly, so that a broken link or a page left
out of the navigation fails; the README stays short and its links into the docs resolve."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.crawling import REPO

MKDOCS = Path(sys.executable).parent / "mkdocs"


def build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [
            str(MKDOCS),
            "build",
            "--strict",
            "--config-file",
            str(root / "mkdocs.yml"),
            "--site-dir",
            str(site),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_site_builds_strictly_with_every_page(tmp_path: Path) -> None:
    built = build(REPO, tmp_path / "site")
    assert built.returncode == 0, built.stdout + built.stderr
    pages = sorted(path.relative_to(REPO / "docs") for path in (REPO / "docs").rglob("*.md"))
    assert len(pages) >= 20
    for page in pages:
        index = "index.html" if page.name == "index.md" else f"{page.stem}/index.html"
        assert (tmp_path / "site" / page.parent / index).is_file(), page


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "schema").mkdir()
    shutil.copy(REPO / "schema" / "record.schema.json", tmp_path / "schema")
    page = tmp_path / "docs" / "how-to" / "cron.md"
    page.write_text(
        page.read_text(encoding="utf-8") + "\nSee [the missing page](nowhere.md).\n", encoding="utf-8"
    )
    built = build(tmp_path, tmp_path / "site")
    assert built.returncode != 0
    assert "nowhere.md" in built.stdout + built.stderr


def test_the_record_reference_names_every_field_of_the_schema(tmp_path: Path) -> None:
    schema = json.loads((REPO / "schema" / "record.schema.json").read_text(encoding="utf-8"))
    page = (REPO / "docs" / "reference" / "record.md").read_text(encoding="utf-8")
    described = re.findall(r"^\| `([a-z_]+)` \| [a-z/\[\]]+ \|", page, flags=re.MULTILINE)
    assert described and set(described) == set(schema["properties"])
    # and the generated table is there in the built page, one row a field
    built = build(REPO, tmp_path / "site")
    assert built.returncode == 0, built.stdout + built.stderr
    html = (tmp_path / "site" / "reference" / "record" / "index.html").read_text(encoding="utf-8")
    assert "generated: schema" not in html
    for name in schema["properties"]:
        assert html.count(f"<td><code>{name}</code></td>") == 2, (
            name
        )  # the written table and the generated one


def test_the_readme_is_short_and_its_links_into_the_docs_resolve() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 200
    links = re.findall(r"\]\((docs/[^)#]+)\)", readme)
    assert len(links) >= 20
    assert [link for link in links if not (REPO / link).is_file()] == []
