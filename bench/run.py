"""Throughput benchmark: the extraction limit, our pipeline, and peers, on the same pages.

    .venv/bin/python -m bench.run                 # 2,000 pages, 3 runs each, prints the table
    .venv/bin/python -m bench.run --pages 20000 --only pipeline --runs 1   # the long-crawl memory check
    .venv/bin/python -m bench.run --real --only limit+pipeline   # real pages of the development corpora
    .venv/bin/python -m bench.run --only learning   # template learning and source health per record

It generates (or reuses) a local site of N article pages (50-200 KB each, built
from the demo site's templates of different CMSs, with a sitemap) under
bench/site-N/, serves it on 127.0.0.1 from a separate process, and measures:

  (a) the extraction limit: extraction and dates on the stored HTML, no crawling,
      in one process and in two;
  (t) the reference limit: bare trafilatura, trafilatura.bare_extraction(html, url=...,
      include_comments=False, with_metadata=True), on the same stored HTML, in one
      process and in two (a page is output when it comes back with a non-empty text);
  (b) our full pipeline: `scrapy crawl news` from the sitemap to JSONL on local
      disk, with the worker pool (default) and without it (NEWS_EXTRACT_WORKERS=0);
  (c) peers: trafilatura's own command-line downloader/extractor (--parallel 2), and
      (c2) newspaper4k's multi-threaded fetch_news, installed on first use into a
      virtual environment of its own (bench/.peers/; skipped when it does not install).

For each: pages per second, CPU seconds per page and peak PSS of the whole process
tree (medians of --runs runs), the ratios of (b) to (t), (a) and (c), the CPU seconds a
page costs (b) and (a) relative to (t) in one process, and for (b) the tree's PSS at each
tenth of every run, to show whether memory grows with the pages crawled. A benchmark,
not a test: nothing here fails CI. The machine is shared: compare ratios measured
in the same run, not absolute numbers across runs.

With --real [DIR ...], the pages are real ones instead: every page of the development
corpora (default ../shared/devcorpus: each folder with a truth.jsonl and pages/<id>.html.gz)
written once, decompressed and byte for byte, at /real/<corpus>/<id>-article.html under
bench/site-real/, served as text/html without a charset (the page's own declaration
applies), each page once (--pages N takes N of them, spread over the corpora, or cycles
through them with distinct URLs; copies are then dropped by our pipeline as duplicate_content,
which is cheaper than extracting them). The "output" column counts records, not pages served:
real pages include some that are dropped (not_article), listed by reason under the table.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench.learning import main as learning_main
from crawler.discovery.pagetype import url_kind
from demo.server import render_dates

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo" / "site"
BIN = Path(sys.executable).parent
DEVCORPUS = REPO.parent / "shared" / "devcorpus"
REAL_SITE = REPO / "bench" / "site-real"

SITE_VERSION = 5  # bump when build_site changes, so that cached sites are rebuilt
REAL_SITE_VERSION = 1  # the same for build_real_site
# the minutes of a clock time in text ("14:32", "09h05"), not of a UTC offset ("+02:00")
_CLOCK = re.compile(r"((?<![+\-\d])\d{1,2}[:h])[0-5]\d")

TEMPLATES = [
    "2023/09/04/harbour-bridge-reopens/index.html",
    "business/tokyo-chipmaker-expansion.html",
    "news/city-council-budget-vote-3891.html",
    "uk/2023/library-reopening.html",
    "us/2023/county-fair-record.html",
    "tech/open-source-grid-software.html",
    "sport/marathon-record.html",
    "de/2023/09/04/stadtrat-radwege.html",
    "fr/2023/09/04/festival-lumiere.html",
    "es/2023/09/04/puerto-nuevo-muelle.html",
    "ru/2023/09/04/novaya-biblioteka.html",
    "blog/2023/09/04/greenhouse-diary/index.html",
    "daily/news/1003-market-hall.html",
    "daily/sport/1101-derby-win.html",
]


# --- the site -------------------------------------------------------------------


def _letters(number: int) -> str:
    """A number spelled in letters: a page marker of digits can read as a year ("Report 1977")."""
    spelled = ""
    while True:
        number, digit = divmod(number, 26)
        spelled = chr(ord("a") + digit) + spelled
        if not number:
            return spelled


def _filler(rng: random.Random, size: int) -> str:
    """What makes real pages 50-200 KB: inline scripts, styles, menus, tracking JSON."""
    blocks = []
    while sum(map(len, blocks)) < size:
        kind = rng.choice(["script", "style", "nav", "json"])
        words = " ".join(f"w{rng.randrange(10**6)}" for _ in range(200))
        if kind == "script":
            blocks.append(
                f"<script>window.__cfg_{rng.randrange(10**6)} = {json.dumps(words.split())};</script>"
            )
        elif kind == "style":
            blocks.append(
                "<style>"
                + "".join(f".c{rng.randrange(10**5)}{{margin:{rng.randrange(40)}px}}" for _ in range(120))
                + "</style>"
            )
        elif kind == "nav":
            blocks.append(
                "<nav><ul>"
                + "".join(f'<li><a href="/s/{rng.randrange(10**5)}/">Section {n}</a></li>' for n in range(60))
                + "</ul></nav>"
            )
        else:
            blocks.append(
                f'<script type="application/json">{json.dumps({"ads": words.split()[:150]})}</script>'
            )
    return "\n".join(blocks)


def build_site(root: Path, pages: int, seed: int = 7) -> list[str]:
    """Article pages /a/NNNNN-story.html, a sitemap and robots.txt; returns the page paths."""
    marker, stamp = root / ".complete", f"{SITE_VERSION}:{pages}"
    paths = [f"/a/{n:05d}-story-of-the-day.html" for n in range(pages)]
    if marker.exists() and marker.read_text() == stamp:
        return paths
    shutil.rmtree(root, ignore_errors=True)
    (root / "a").mkdir(parents=True)
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    sources = [(DEMO / name).read_text(encoding="utf-8", errors="replace") for name in TEMPLATES]
    for n, path in enumerate(paths):
        html = sources[n % len(sources)]
        # distinct text per page, so that no page is a duplicate of another
        html = re.sub(
            r"(<p(?:\s[^>]*)?>)", rf"\g<1>Report {_letters(n)}-{_letters(rng.randrange(10**6))}: ", html
        )
        html = re.sub(r"(<h1[^>]*>)", rf"\g<1>Story {n}: ", html, count=1)
        html = html.replace("http://demo.news.test/", f"http://demo.news.test{path}#")
        # every page its own publication minute, printed the way its template prints times;
        # so that date strings repeat across pages only as much as on a real site
        html = _CLOCK.sub(rf"\g<1>{n % 60:02d}", html)
        html = render_dates(html.encode(), now - timedelta(minutes=7 * n)).decode()
        target = rng.randrange(50_000, 200_000)
        html = html.replace("</head>", _filler(rng, max(0, target - len(html))) + "</head>", 1)
        (root / path.lstrip("/")).write_text(html, encoding="utf-8")
    urls = "".join(f"<url><loc>http://demo.news.test{path}</loc></url>" for path in paths)
    (root / "sitemap.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    marker.write_text(stamp)
    return paths


def corpus_folders(dirs: list[Path]) -> list[Path]:
    """Folders with a truth.jsonl: each of ``dirs`` that has one, else its subfolders that do."""
    folders: list[Path] = []
    for folder in dirs:
        if (folder / "truth.jsonl").is_file():
            folders.append(folder)
        elif folder.is_dir():
            folders += sorted(child for child in folder.iterdir() if (child / "truth.jsonl").is_file())
    if not folders:
        raise SystemExit(f"no truth.jsonl in {', '.join(map(str, dirs))} or in their subfolders")
    return folders


def corpus_parents(dirs: list[Path]) -> list[Path]:
    """The folders holding the corpora (bench/cpu.py reads every corpus under one)."""
    return sorted({folder.parent for folder in corpus_folders(dirs)})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "page"


def real_pages(folders: list[Path], pages: int | None) -> list[tuple[str, Path]]:
    """(URL path, gzipped page) of each corpus page, at an article-shaped path.

    ``pages`` below the corpus size takes pages spread evenly over it; above, cycles with
    distinct URLs (same bytes: our pipeline drops the copies as duplicate_content)."""
    entries: list[tuple[str, str, Path]] = []
    for folder in folders:
        # split("\n"), not splitlines(): texts hold U+2028 and other line separators
        for line in (folder / "truth.jsonl").read_text(encoding="utf-8").split("\n"):
            if line.strip():
                truth = json.loads(line)
                entries.append((folder.name, _slug(truth["id"]), folder / truth["page"]))
    total = pages or len(entries)
    if total <= len(entries):
        chosen = [(entry, 0) for entry in (entries[n * len(entries) // total] for n in range(total))]
    else:
        chosen = [(entries[n % len(entries)], n // len(entries)) for n in range(total)]
    result, taken = [], set()
    for (corpus, slug, source), copy in chosen:
        stem = f"/real/{_slug(corpus)}/{slug}" + (f"-copy-{copy + 1}" if copy else "")
        path, again = f"{stem}-article.html", 2
        while path in taken:  # two ids with one slug
            path, again = f"{stem}-{again}-article.html", again + 1
        taken.add(path)
        result.append((path, source))
    return result


def build_real_site(root: Path, pages: list[tuple[str, Path]]) -> list[str]:
    """The corpus pages decompressed at their paths, a sitemap and robots.txt; returns the paths."""
    marker = root / ".complete"
    digest = hashlib.sha256()
    for path, source in pages:
        stat = source.stat()
        digest.update(f"{path}\t{source}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    stamp = f"{REAL_SITE_VERSION}:{digest.hexdigest()}"
    paths = [path for path, _ in pages]
    if marker.exists() and marker.read_text() == stamp:
        return paths
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for path, source in pages:
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.decompress(source.read_bytes()))
    urls = "".join(f"<url><loc>http://demo.news.test{path}</loc></url>" for path in paths)
    (root / "sitemap.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    (root / "manifest.tsv").write_text("".join(f"{path}\t{source}\n" for path, source in pages))
    marker.write_text(stamp)
    return paths


class Server:
    """The site served by demo/server.py in its own process."""

    def __init__(self, root: Path):
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "demo.server", "--root", str(root), "--port", str(self.port)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        _wait_for(self.port)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def check_served(server: Server, site: Path, paths: list[str]) -> None:
    """Fetch every page once and compare it with its file: the bytes, unchanged, as text/html."""

    def fetch(path: str) -> str | None:
        try:
            with urllib.request.urlopen(server.base + path, timeout=30) as response:
                body, kind = response.read(), response.headers.get("Content-Type", "")
        except OSError as exc:
            return f"{path}: {exc}"
        if body != (site / path.lstrip("/")).read_bytes():
            return f"{path}: served bytes differ from the file"
        return None if kind == "text/html" else f"{path}: Content-Type {kind!r}"

    with ThreadPoolExecutor(4) as pool:
        problems = [problem for problem in pool.map(fetch, paths) if problem]
    print(f"  served check: {len(paths) - len(problems)} of {len(paths)} pages served as their bytes, "
          "as text/html without a charset", flush=True)  # fmt: skip
    for problem in problems[:20]:
        print(f"    {problem}", flush=True)


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int) -> None:
    _wait_for_host("127.0.0.1", port)


def _wait_for_host(host: str, port: int) -> None:
    import socket  # noqa: PLC0415

    for _ in range(100):
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the bench site did not start")


# --- measuring ------------------------------------------------------------------


@dataclass
class Result:
    name: str
    pages: int
    wall: float
    cpu: float
    peak_rss_mb: float
    done: int  # pages that came out as records (or extracted)
    dropped: dict[str, int] = field(default_factory=dict)  # pages that did not, by reason
    fetched: int | None = None  # responses our pipeline counted (pages and sitemap)
    trace: list[tuple[float, float]] = field(default_factory=list)  # (seconds, tree PSS MB)

    def memory_profile(self, points: int = 10) -> str:
        """Tree PSS at each tenth of the run: flat after warm-up, or growing with the pages."""
        if not self.trace:
            return ""
        marks = []
        for step in range(1, points + 1):
            moment = self.wall * step / points
            marks.append(max((mb for at, mb in self.trace if at <= moment), default=0.0))
        return " ".join(f"{mb:.0f}" for mb in marks)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.wall if self.wall else 0.0


def _pss(pid: int, fallback: int) -> int:
    """Proportional set size: forked workers share pages with their parent, counted once."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return fallback


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has let go of its memory
    except (OSError, IndexError):
        return False


def _tree_rss(root_pid: int) -> int:
    """Memory of a process and all its descendants, in bytes (PSS from /proc, so shared pages count
    once); 0 for a sample taken while one of them ended."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE")
    total, stack, tree = 0, [root_pid], []
    while stack:
        pid = stack.pop()
        total += _pss(pid, rss.get(pid, 0))
        tree.append(pid)
        stack.extend(children.get(pid, []))
    if not all(_alive(pid) for pid in tree):
        # A process ended while the others were read: its pages moved to the survivors after
        # its share was counted, so this sum counts them twice (workers exiting at the end).
        return 0
    return total


def run_measured(
    name: str, command: list[str], pages: int, env: dict[str, str] | None = None
) -> tuple[Result, str]:
    """Wall time, CPU (self + all descendants) and peak tree RSS of one command."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    trace: list[tuple[float, float]] = []
    stop = threading.Event()
    streams: dict[str, bytes] = {}

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            now = _tree_rss(process.pid)
            peak = max(peak, now)
            trace.append((time.monotonic() - started, now / 2**20))
            stop.wait(0.2)

    def drain(name: str, stream: Any) -> None:  # pipes read while the command runs: no full-buffer stall
        streams[name] = stream.read()

    threads = [threading.Thread(target=sample, daemon=True)]
    threads += [
        threading.Thread(target=drain, args=(n, s), daemon=True)
        for n, s in (("out", process.stdout), ("err", process.stderr))
    ]
    for thread in threads:
        thread.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    stop.set()
    for thread in threads:
        thread.join()
    stderr = streams.get("err", b"").decode("utf-8", "replace")
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        print(f"  {name} exited with {process.returncode}: {stderr[-1500:]}", file=sys.stderr)
    done, dropped = 0, {}
    for line in streams.get("out", b"").decode("utf-8", "replace").splitlines():
        if line.startswith('{"done"'):
            report = json.loads(line)
            done, dropped = report["done"], report.get("dropped", {})
    result = Result(
        name, pages, wall, usage.ru_utime + usage.ru_stime, peak / 2**20, done, dropped, trace=trace
    )
    return result, stderr


# (a) the extraction limit ----------------------------------------------------------


def _extract_file(line: str) -> str | None:
    """None for a page that becomes a record, else the reason it is dropped."""
    from scrapy.http import HtmlResponse  # noqa: PLC0415

    from crawler.pages.page import Page  # noqa: PLC0415
    from pipelines.work import PagePayload, analyse  # noqa: PLC0415

    path, _, url = line.partition("\t")
    url = url or "http://127.0.0.1/" + Path(path).name
    body = Path(path).read_bytes()
    page = Page(
        url=url,
        body=body,
        fetched_at=datetime.now(timezone.utc),
        source="bench",
        # as our spider makes the page: the encoding Scrapy finds for text/html without a charset
        declared_encoding=HtmlResponse(url, body=body, headers={"Content-Type": "text/html"}).encoding,
    )
    try:
        record = analyse(PagePayload.of(page))
    except Exception:  # as our pipeline counts a page whose worker raised
        return "extract_error"
    return record["_drop"][0] if "_drop" in record else None


def _init() -> None:
    from pipelines.dates import DatesConfig  # noqa: PLC0415
    from pipelines.extraction.article import ExtractOptions  # noqa: PLC0415
    from pipelines.work import WorkOptions, init_worker  # noqa: PLC0415

    init_worker(WorkOptions(ExtractOptions(), DatesConfig()))


def _bare_trafilatura_file(line: str) -> str | None:
    """None for a page bare trafilatura (with metadata) gives a text for, else why not."""
    import trafilatura  # noqa: PLC0415

    path, _, url = line.partition("\t")
    url = url or "http://127.0.0.1/" + Path(path).name
    try:
        document = trafilatura.bare_extraction(
            Path(path).read_bytes(), url=url, include_comments=False, with_metadata=True
        )
    except Exception:
        return "error"
    if document is None:
        return "no_result"
    return None if (document.text or "").strip() else "empty_text"


def _init_trafilatura() -> None:
    import trafilatura  # noqa: F401, PLC0415  (loaded before the fork, as a pool's parent would)


def _run_files(files_list: str, processes: int, work: Any, init: Any) -> None:
    """``work`` on each line of ``files_list`` in ``processes`` processes; prints the tally."""
    files = Path(files_list).read_text().split("\n")
    if processes == 1:
        init()
        reasons = Counter(work(line) for line in files)
    else:
        with multiprocessing.get_context("fork").Pool(processes, initializer=init) as pool:
            reasons = Counter(pool.imap_unordered(work, files, chunksize=8))
    done = reasons.pop(None, 0)
    print(json.dumps({"done": done, "dropped": dict(sorted(reasons.items()))}))


def extraction_main(files_list: str, processes: int) -> None:
    _run_files(files_list, processes, _extract_file, _init)


def trafilatura_main(files_list: str, processes: int) -> None:
    _run_files(files_list, processes, _bare_trafilatura_file, _init_trafilatura)


# --- the contenders ---------------------------------------------------------------


def limit(site: Path, paths: list[str], processes: int, work: Path, bare: bool = False) -> Result:
    """(a) our extraction and dates on the stored pages; with ``bare``, (t) bare trafilatura."""
    files = work / "files.txt"
    # each file with the URL our crawl fetches it from (the port aside): URLs decide listings
    files.write_text("\n".join(f"{site / path.lstrip('/')}\thttp://127.0.0.1{path}" for path in paths))
    flag = "--trafilatura-only" if bare else "--extract-only"
    command = [sys.executable, "-m", "bench.run", flag, str(files), str(processes)]
    label = "(t) bare trafilatura + metadata" if bare else "(a) extraction limit"
    result, _ = run_measured(
        f"{label}, {processes} process{'es' if processes > 1 else ''}", command, len(paths)
    )
    return result


def pipeline(server: Server, paths: list[str], workers: int, work: Path, settings: list[str]) -> Result:
    out = work / f"out-{workers}-{time.monotonic_ns()}"
    sources = work / "sources.toml"
    sources.write_text(
        f'[sources.bench]\nsitemaps = ["{server.base}/sitemap.xml"]\nmax_pages = {len(paths) + 10}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
    env.update(
        NEWS_SOURCES=str(sources), NEWS_OUTPUT=str(out), NEWS_STATE=str(out / "state.sqlite"),
        NEWS_ALLOW_PRIVATE_NETWORKS="true", NEWS_EXTRACT_WORKERS=str(workers), NEWS_PROGRESS="off",
    )  # fmt: skip
    command = [
        str(BIN / "scrapy"), "crawl", "news", "-s", "AUTOTHROTTLE_ENABLED=false", "-s", "CONCURRENT_REQUESTS=16",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=WARNING",
        *(arg for setting in settings for arg in ("-s", setting)),
    ]  # fmt: skip
    label = "(b) our pipeline, worker pool" if workers else "(b1) our pipeline, one process"
    result, _ = run_measured(label, command, len(paths), env)
    result.done = sum(1 for part in out.rglob("*.jsonl") for _ in part.open())
    for summary in out.glob("_runs/*.json"):  # the run summary: what was fetched, and dropped why
        tally = json.loads(summary.read_text(encoding="utf-8"))
        result.fetched = tally["pages_fetched"]
        result.dropped = {**tally["dropped"], **{f"skipped/{k}": v for k, v in tally["skipped"].items()}}
    shutil.rmtree(out, ignore_errors=True)
    return result


def trafilatura_cli(server: Server, paths: list[str], work: Path) -> Result:
    urls = work / "urls.txt"
    urls.write_text("".join(f"{server.base}{path}\n" for path in paths))
    out = work / f"traf-{time.monotonic_ns()}"
    # Its default config waits 5 s between two requests to one host and refuses loopback
    # addresses; on a loopback test site, like ours (NEWS_ALLOW_PRIVATE_NETWORKS), it must not.
    defaults = Path(importlib.util.find_spec("trafilatura").origin).parent / "settings.cfg"
    text = re.sub(r"(?m)^SLEEP_TIME = .*$", "SLEEP_TIME = 0", defaults.read_text())
    config = work / "trafilatura.cfg"
    config.write_text(re.sub(r"(?m)^SSRF_PROTECTION = .*$", "SSRF_PROTECTION = off", text))
    command = [str(BIN / "trafilatura"), "--input-file", str(urls), "--parallel", "2"]
    command += ["--output-dir", str(out), "--config-file", str(config)]
    result, stderr = run_measured("(c) trafilatura CLI --parallel 2", command, len(paths))
    # (files are named by a bag-of-words hash of the text: near-identical pages share one
    # file, so this counts distinct texts, fewer than the pages extracted)
    result.done = sum(1 for _ in out.rglob("*")) if out.exists() else 0
    failures = sum(
        1 for line in stderr.splitlines() if "No result for URL" in line or "download error" in line
    )
    print(f"  trafilatura reported {failures} pages without a result", flush=True)
    shutil.rmtree(out, ignore_errors=True)
    return result


PEERS = REPO / "bench" / ".peers"
NEWSPAPER = "newspaper4k==0.9.6"
NEWSPAPER_THREADS = 5  # fetch_news's default


def peer_python() -> Path | None:
    """The Python of a virtual environment of the peers' own, made on first use; None when they do not install."""
    python = PEERS / "bin" / "python"
    marker = PEERS / ".installed"
    if marker.exists() and marker.read_text() == NEWSPAPER:
        return python
    print(f"Installing {NEWSPAPER} into {PEERS} ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEERS)], check=True, capture_output=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", NEWSPAPER],
            check=True,
            capture_output=True,
            timeout=900,
        )
    except subprocess.CalledProcessError as exc:
        print(
            f"  {NEWSPAPER} does not install here: {exc.stderr.decode(errors='replace')[-500:]}", flush=True
        )
        return None
    except (subprocess.TimeoutExpired, OSError) as exc:
        print(f"  {NEWSPAPER} does not install here: {exc}", flush=True)
        return None
    marker.write_text(NEWSPAPER)
    return python


def newspaper(server: Server, paths: list[str], work: Path, python: Path) -> Result:
    urls = work / "urls.txt"
    urls.write_text("".join(f"{server.base}{path}\n" for path in paths))
    command = [str(python), str(REPO / "bench" / "newspaper_peer.py"), str(urls), str(NEWSPAPER_THREADS)]
    result, _ = run_measured(f"(c2) newspaper4k fetch_news, {NEWSPAPER_THREADS} threads", command, len(paths))
    return result


def median_result(results: list[Result]) -> Result:
    first = results[0]
    typical = sorted(results, key=lambda r: r.done)[(len(results) - 1) // 2]  # its drops go with its count
    return Result(
        first.name,
        first.pages,
        statistics.median(r.wall for r in results),
        statistics.median(r.cpu for r in results),
        statistics.median(r.peak_rss_mb for r in results),
        int(statistics.median(r.done for r in results)),
        typical.dropped,
        typical.fetched,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pages", type=int, help="pages to serve (default 2,000; with --real, each page once)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--only",
        choices=[
            "all",
            "limit",
            "trafilatura-limit",
            "pipeline",
            "limit+pipeline",
            "peers",
            "ratios",
            "learning",
        ],
        default="all",
    )
    parser.add_argument(
        "--real", nargs="*", type=Path, metavar="DIR",
        help=f"serve the real pages of these corpora (folders with a truth.jsonl, or their parent; default {DEVCORPUS})",
    )  # fmt: skip
    parser.add_argument(
        "--setting", "-s", action="append", default=[], metavar="NAME=VALUE",
        help="a Scrapy or NEWS_ setting for our pipeline's runs (repeatable)",
    )  # fmt: skip
    parser.add_argument("--extract-only", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--trafilatura-only", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only == "learning":  # per-record cost of template learning and source health (bench/learning.py)
        learning_main(["--runs", str(args.runs)])
        return
    if args.extract_only:
        extraction_main(args.extract_only[0], int(args.extract_only[1]))
        return
    if args.trafilatura_only:
        trafilatura_main(args.trafilatura_only[0], int(args.trafilatura_only[1]))
        return
    if args.real is None:
        args.pages = args.pages or 2000
        site = REPO / "bench" / f"site-{args.pages}"
        print(f"Building or reusing {site} ({args.pages} pages) ...", flush=True)
        paths = build_site(site, args.pages)
        described = f"{args.pages} pages"
    else:
        site, folders = REAL_SITE, corpus_folders(args.real or [DEVCORPUS])
        chosen_pages = real_pages(folders, args.pages)
        print(f"Building or reusing {site} ({len(chosen_pages)} real pages) ...", flush=True)
        paths = build_real_site(site, chosen_pages)
        corpora = Counter(path.split("/")[2] for path in paths)
        described = f"{len(paths)} real pages ({', '.join(f'{n} {name}' for name, n in corpora.items())})"
        kinds = Counter(url_kind("http://127.0.0.1" + path) for path in paths)
        print(f"  url_kind of their URLs: {dict(kinds)}", flush=True)
        if len(set(paths)) > len({source for _, source in chosen_pages}):
            print("  (pages repeat: our pipeline drops the copies as duplicate_content)", flush=True)
    sizes = [(site / p.lstrip("/")).stat().st_size for p in (paths if args.real is not None else paths[:200])]
    print(
        f"  page sizes: median {statistics.median(sizes) / 1000:.0f} KB, {min(sizes) // 1000}-{max(sizes) // 1000} KB"
    )
    server = Server(site)
    signal.signal(signal.SIGTERM, lambda *_: (server.stop(), sys.exit(1)))
    if args.real is not None:
        check_served(server, site, paths)
    python = peer_python() if args.only in ("all", "peers") else None
    contenders = {
        "limit1": lambda work: limit(site, paths, 1, work),
        "limit2": lambda work: limit(site, paths, 2, work),
        "bare1": lambda work: limit(site, paths, 1, work, bare=True),
        "bare2": lambda work: limit(site, paths, 2, work, bare=True),
        "pool": lambda work: pipeline(server, paths, -1, work, args.setting),
        "single": lambda work: pipeline(server, paths, 0, work, args.setting),
        "trafilatura": lambda work: trafilatura_cli(server, paths, work),
    }
    if python is not None:
        contenders["newspaper"] = lambda work: newspaper(server, paths, work, python)
    chosen = {
        "all": list(contenders),
        "limit": ["limit1", "limit2"],
        "trafilatura-limit": ["bare1", "bare2"],
        "pipeline": ["pool"],
        "limit+pipeline": ["bare1", "bare2", "limit1", "limit2", "pool"],
        "peers": ["pool", "trafilatura", "newspaper"],
        "ratios": ["bare2", "limit2", "pool", "single"],
    }[args.only]
    chosen = [name for name in chosen if name in contenders]
    results: dict[str, list[Result]] = {name: [] for name in chosen}
    try:
        with tempfile.TemporaryDirectory(prefix="news-bench-") as tmp:
            for run in range(args.runs):
                for name in chosen:  # interleaved, so that noise hits every contender alike
                    result = contenders[name](Path(tmp))
                    results[name].append(result)
                    print(
                        f"  run {run + 1}: {result.name}: {result.pages_per_second:.1f} pages/s, "
                        f"{result.done} of {result.pages} pages out",
                        flush=True,
                    )
                    if name == "pool":
                        print(
                            f"    tree PSS MB at each tenth of the run: {result.memory_profile()}", flush=True
                        )
    finally:
        server.stop()
    medians = {name: median_result(values) for name, values in results.items()}
    print(f"\n{described}, medians of {args.runs} run(s), {os.cpu_count()} cores\n")
    print(f"{'':44} {'pages/s':>9} {'CPU s/page':>11} {'peak PSS MB':>12} {'output':>7}")
    for result in medians.values():
        print(
            f"{result.name:44} {result.pages_per_second:9.1f} {result.cpu / result.pages:11.4f} "
            f"{result.peak_rss_mb:12.0f} {result.done:7d}"
        )
    print()
    for result in medians.values():  # what the output column leaves out: the pages that are not records
        if result.dropped or result.fetched is not None:
            fetched = f"{result.fetched} responses fetched, " if result.fetched is not None else ""
            reasons = ", ".join(f"{reason} {n}" for reason, n in result.dropped.items()) or "none"
            outputs = "texts" if result.name.startswith("(t)") else "records"
            print(
                f"{result.name}: {result.done} {outputs} of {result.pages} pages; {fetched}not out: {reasons}"
            )
    print()
    if "pool" in medians:
        ours = medians["pool"].pages_per_second
        print("pages/s:")
        for name, label in (("bare2", "(t) 2 processes"), ("bare1", "(t) 1 process"), ("limit2", "(a) 2 processes"),
                            ("limit1", "(a) 1 process"), ("single", "(b1) one process"),
                            ("trafilatura", "(c) trafilatura"), ("newspaper", "(c2) newspaper4k")):  # fmt: skip
            if name in medians and medians[name].pages_per_second:
                target = "   (target: >= 0.8)" if name == "bare2" else ""
                print(f"(b) / {label:22} {ours / medians[name].pages_per_second:6.2f}{target}")
    if "bare1" in medians and medians["bare1"].cpu:
        # what a page costs, in CPU seconds, relative to bare trafilatura in one process
        print("CPU seconds per page:")
        for name, label in (("pool", "(b)"), ("single", "(b1)"), ("limit1", "(a) 1 process")):
            if name in medians:
                print(f"{label:14} / (t) 1 process {medians[name].cpu / medians['bare1'].cpu:6.2f}")
    if args.real is not None and "limit1" in medians:
        # the extraction worker's own CPU per page against bare trafilatura's, page by page in one
        # process (bench/cpu.py): what the crawl's workers spend, without the process around them
        print(
            f"\nPer-page CPU of one extraction worker against bare trafilatura (bench/cpu.py, {args.runs} round(s)):"
        )
        folders_args = [
            arg for folder in corpus_parents(args.real or [DEVCORPUS]) for arg in ("--corpus", str(folder))
        ]
        subprocess.run(
            [sys.executable, "-m", "bench.cpu", "--rounds", str(args.runs), *folders_args], check=False
        )


if __name__ == "__main__":
    main()
