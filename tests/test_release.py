"""The release as a user installs it: `python -m build` makes an sdist and a wheel, the wheel goes
into a fresh venv with the locked requirements (PostgreSQL support left out, as a plain
`pip install news-ingest` leaves it out), beside a `settings` and a `crawler` module of the user's
own, and `news-ingest` crawls the demo site from a folder outside the repository."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from demo.server import SiteServer
from tests.crawling import REPO, crawl_env, read_parts, sources_file

TOP = {"crawler", "pipelines", "settings"}


@dataclass
class Installed:
    dist: Path
    venv: Path

    @property
    def news_ingest(self) -> str:
        return str(self.venv / "bin" / "news-ingest")

    def python(self, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code], cwd=cwd, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip


def _run(command: list[str], cwd: Path) -> None:
    process = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    assert process.returncode == 0, (command, process.stdout[-2000:], process.stderr[-3000:])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("release")
    dist, venv = work / "dist", work / "venv"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)], cwd=work)
    _run([sys.executable, "-m", "venv", str(venv)], cwd=work)
    # the locked versions, without the postgres extra's psycopg: what `pip install news-ingest` gives
    plain = work / "requirements.txt"
    lines = (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines()
    plain.write_text("\n".join(line for line in lines if not line.startswith("psycopg")) + "\n")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, "-r", str(plain)], cwd=work)
    (wheel,) = dist.glob("news_ingest-*.whl")
    _run([*pip, "--no-deps", str(wheel)], cwd=work)
    # the user's own modules, named as the repository's top-level folders are
    (site,) = venv.glob("lib/python3*/site-packages")
    (site / "settings.py").write_text('WHO = "the user\'s settings"\n')
    (site / "crawler").mkdir()
    (site / "crawler" / "__init__.py").write_text('WHO = "the user\'s crawler"\n')
    yield Installed(dist, venv)


def test_the_wheel_holds_one_top_level_package_and_the_sdist_its_sources(installed: Installed) -> None:
    (wheel,) = installed.dist.glob("news_ingest-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")} == {
        "news_ingest"
    }
    for module in ("crawler/cli.py", "pipelines/extract.py", "settings/base.py", "schema/record.schema.json"):
        assert f"news_ingest/{module}" in names, module
    with zipfile.ZipFile(wheel) as archive:
        modules = {name: archive.read(name) for name in names if name.endswith(".py")}
    outside = [
        f"{name}:{node.lineno}"
        for name, source in modules.items()
        if name != "news_ingest/cli.py"  # its checkout branch, never taken in the wheel
        for node in ast.walk(ast.parse(source))
        if (isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in TOP)
        or (isinstance(node, ast.Import) and any(alias.name.split(".")[0] in TOP for alias in node.names))
    ]
    assert outside == []  # every import of the product's code goes through news_ingest
    (sdist,) = installed.dist.glob("news_ingest-*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"setup.py", "pyproject.toml", "CHANGELOG.md", "crawler/cli.py", "news_ingest/cli.py"} <= members


def test_the_users_own_settings_and_crawler_stay_theirs(installed: Installed, tmp_path: Path) -> None:
    both = installed.python(
        "import settings, crawler, news_ingest.settings.base as ours\n"
        "print(settings.WHO); print(crawler.WHO); print(ours.NEWS_OUTPUT)",
        cwd=tmp_path,
    )
    assert both.returncode == 0, both.stderr[-3000:]
    assert both.stdout.splitlines() == ["the user's settings", "the user's crawler", "./output"]


def test_the_installed_command_crawls_the_demo_site_outside_the_repository(
    installed: Installed, site: SiteServer, tmp_path: Path
) -> None:
    sources = sources_file(site.base_url, tmp_path / "sources.toml")
    env = crawl_env(NEWS_SOURCES=str(sources))
    env.pop("NEWS_ONEOFF_FOLDER")
    env.pop("NEWS_STATE")  # the default, ./state/news.sqlite, in the folder it runs in
    env.pop("PYTHONPATH", None)
    version = subprocess.run(
        [installed.news_ingest, "--version"], capture_output=True, text=True, check=False
    )
    assert version.stdout.strip() == f"news-ingest {_version()}", version.stdout
    process = subprocess.run(
        [installed.news_ingest, "crawlall"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    records = read_parts(tmp_path / "output")
    assert len(records) == 20  # the demo sources: 8 Daily Lantern articles and 12 from the demo home page
    (summary,) = (tmp_path / "output" / "_runs").glob("*.json")
    assert json.loads(summary.read_text())["status"] == "ok"
    assert (tmp_path / "state" / "news.sqlite").is_file()
    assert str(REPO) not in process.stderr  # nothing of the checkout was used


def test_a_postgresql_state_without_the_extra_is_one_line(installed: Installed, tmp_path: Path) -> None:
    env = crawl_env(NEWS_STATE="postgresql://news@127.0.0.1:1/news", NEWS_SOURCES=str(tmp_path / "s.toml"))
    (tmp_path / "s.toml").write_text('[sources.a]\nstart_urls = ["http://127.0.0.1:9/"]\n')
    process = subprocess.run(
        [installed.news_ingest, "crawlall"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert process.returncode == 2, process.stderr[-3000:]
    assert "Traceback" not in process.stderr
    (line,) = [line for line in process.stderr.splitlines() if "cannot start" in line]
    assert line.endswith("install it with: pip install 'news-ingest[postgres]'"), line


def _version() -> str:
    for line in (REPO / "pyproject.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise AssertionError("no version in pyproject.toml")


def test_the_installed_python_api(installed: Installed, tmp_path: Path) -> None:
    page = REPO / "demo" / "site" / "2023" / "09" / "04" / "harbour-bridge-reopens" / "index.html"
    code = (
        "from news_ingest import extract\n"
        f"record = extract(open({str(page)!r}, 'rb').read(), url='https://example.org/a/', "
        "fetched_at='2023-09-05T08:00:00Z')\n"
        "print(record['title'], record['published_at'])\n"
        "import sys; print(sorted(name for name in sys.modules if name.split('.')[0] in ('crawler', 'pipelines')))"
    )
    run = installed.python(code, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    # the user's crawler module may be imported by them; the API itself loads none of those names
    assert run.stdout.splitlines() == [
        "Harbour bridge reopens after two-year refit 2023-09-04T07:15:00Z",
        "[]",
    ]
