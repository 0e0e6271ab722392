"""Dedupe with template learning (issue 19, cases 4 and 5, as a reviewer of the first fix found
them): whether a refetched article changed is decided on its body as extracted, and a copy is
caught whether it equals that body or the text written of it (its print page without the
template line), whichever copy comes first: within a run, across runs, and between workers
sharing a state (PostgreSQL, or shards of one SQLite file). The state rebuilt from the parts
(after a kill, or a deleted state) keeps the body's hash, and an error in the template count
after a record was written does not undo its dedupe.

Real ``crawlall`` runs of local sites; the order of two copies is set by holding one page's
reply until the other's record is in the run's part (or its drop is in the run's log)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import pytest

from crawler.state.sqlite import SqliteStateStore
from crawler.state.store import StateStore
from crawler.state.template_lines import LearningConfig, TemplateLearner
from tests.crawling import REPO, crawl_env, kill_when, read_parts, run_in, scrapy_command
from tests.hostile import HostileServer, Reply, Route, hostile_server
from tests.test_hostile_learning import REFRESH, SOURCE, Runs, article_path, escaped, headline, index, page
from tests.test_hostile_learning import own_paragraphs as own

BRIEFING = (
    "Sign up for the Wire Morning Briefing, the day's most important council, court and transport "
    "stories from across the county, delivered to your inbox before seven o'clock every weekday."
)
LEARNING = range(20)  # the line in 20 of 20 articles: template (NEWS_BOILERPLATE_MIN_ARTICLES)


def with_briefing(number: int) -> Reply:
    """The article's page as its site serves it: its own paragraphs and the template's line."""
    paragraphs = own(number)
    return page(headline(number), escaped([*paragraphs[:2], BRIEFING, *paragraphs[2:]]))


def print_copy(number: int) -> Reply:
    """The article's print page: its own paragraphs only, so its body is the original's text as
    written once the learned line is left out."""
    return page(headline(number), escaped(own(number)))


def print_path(number: int) -> str:
    return article_path(number).replace(".html", "-print.html")


def written(output: Path, url: str) -> bool:
    """``url``'s record is in a part under ``output`` (open or complete)."""
    needle = json.dumps(url)
    for path in output.rglob("*"):
        if path.name.endswith((".inprogress", ".jsonl")):
            with suppress(OSError):
                if needle in path.read_text("utf-8", errors="replace"):
                    return True
    return False


def held(reply: Reply, ready: Callable[[], bool], timeout: float = 120) -> Route:
    """``reply`` once ``ready()`` holds (at most ``timeout`` seconds: the test then fails on its
    own assertions, not by hanging)."""

    def route(_: int) -> Reply:
        deadline = time.monotonic() + timeout
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.05)
        return reply

    return route


def learning_routes() -> dict[str, Route]:
    return {article_path(n): with_briefing(n) for n in LEARNING}


def learn(runs: Runs) -> None:
    """A first run of 20 articles, every one with the briefing line: the line is template now."""
    first = runs.crawl([article_path(n) for n in LEARNING])
    assert len(first["records"]) == 20
    assert [line["articles"] for line in first["template_lines_learned"]] == [20], first[
        "template_lines_learned"
    ]


@pytest.fixture(scope="module")
def learned_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite state whose source has learned the briefing line (copied by each test)."""
    tmp_path = tmp_path_factory.mktemp("learned")
    with hostile_server(learning_routes()) as site:
        learn(Runs(site, tmp_path))
    return tmp_path / "state.sqlite"


def runs_on(site: HostileServer, tmp_path: Path, state: Path) -> Runs:
    runs = Runs(site, tmp_path)
    with sqlite3.connect(state) as source, sqlite3.connect(runs.state) as target:
        source.backup(target)  # with what is still in its write-ahead log
    return runs


def urls(records: list[dict[str, Any]]) -> set[str]:
    return {record["url"] for record in records}


# --- a copy equal to the text written of an article, in a run and across runs --------------------


def test_a_copy_without_the_template_line_is_the_same_article_whichever_comes_first(
    tmp_path: Path, learned_state: Path
) -> None:
    """The print page of an article whose learned line was left out equals its text as written:
    it is dropped as `duplicate_content` whether the article or the copy comes first, within a
    run and in a later run."""
    with hostile_server({}) as site:
        runs = runs_on(site, tmp_path, learned_state)
        output = tmp_path / f"out{runs.number + 1}"  # the next run's (Runs numbers them)
        site.routes.update(
            {
                # within the run: the original first, then its print copy
                article_path(900): with_briefing(900),
                print_path(900): held(print_copy(900), lambda: written(output, site.url(article_path(900)))),
                # for the next run: an original, and the print copy of another article
                article_path(901): with_briefing(901),
                print_path(902): print_copy(902),
            }
        )
        second = runs.crawl([article_path(900), print_path(900), article_path(901), print_path(902)])
        output = tmp_path / f"out{runs.number + 1}"
        site.routes.update(
            {
                # within the run: the print copy first, then the original
                print_path(903): print_copy(903),
                article_path(903): held(
                    with_briefing(903), lambda: written(output, site.url(print_path(903)))
                ),
                # copies of what the previous run wrote: its text, and its body
                print_path(901): print_copy(901),
                article_path(902): with_briefing(902),
            }
        )
        third = runs.crawl([print_path(903), article_path(903), print_path(901), article_path(902)])

    assert urls(second["records"]) == {site.url(article_path(900)), site.url(article_path(901)),
                                       site.url(print_path(902))}  # fmt: skip
    assert second["stats"]["news/dropped/duplicate_content"] == 1
    for record in second["records"]:
        assert BRIEFING not in record["text"]
    original = next(r for r in second["records"] if r["url"] == site.url(article_path(900)))
    assert "body_hash" in original and original["body_hash"] != original["content_hash"]

    assert urls(third["records"]) == {site.url(print_path(903))}
    assert third["stats"]["news/dropped/duplicate_content"] == 3


# --- a state rebuilt from the parts keeps the body's hash ----------------------------------------


def test_an_article_salvaged_after_a_kill_is_not_a_new_version_when_learning_changes(
    tmp_path: Path, learned_state: Path
) -> None:
    """Case 5 through a killed run: an article whose learned line was left out, in the open part
    of a run killed with SIGKILL, is remembered from its record when the next run completes the
    part; what was learned is reset meanwhile, and the unchanged page is not a new version."""
    release = threading.Event()
    with hostile_server({}) as site:
        runs = runs_on(site, tmp_path, learned_state)
        site.routes.update(
            {
                article_path(911): with_briefing(911),
                # keeps the run going until it is killed
                article_path(912): held(with_briefing(912), release.is_set, timeout=300),
            }
        )
        killed = runs.output()
        try:
            site.routes["/index.html"] = index([article_path(911), article_path(912)])
            env = runs.env(NEWS_OUTPUT=str(killed))
            status = kill_when(
                scrapy_command("crawlall"), env, lambda: written(killed, site.url(article_path(911)))
            )
            assert status == -signal.SIGKILL
        finally:
            release.set()
        assert read_parts(killed) == []  # its record is in the open part
        (salvaged,) = [
            json.loads(line)
            for part in killed.rglob("*.inprogress")
            for line in part.read_text().splitlines()
        ]
        assert BRIEFING not in salvaged["text"]

        # what was learned is forgotten: the page, unchanged, gives the body as extracted now
        runs.sources_command("--reset", SOURCE)
        site.routes["/index.html"] = index([article_path(911)])
        recovered = run_in(runs.env(NEWS_OUTPUT=str(killed), **REFRESH), "crawlall")
        assert recovered.returncode == 0, recovered.stderr[-3000:]
    assert [r["url"] for r in read_parts(killed)] == [site.url(article_path(911))]  # the salvaged record only
    assert "Dropped " + site.url(article_path(911)) + ": unchanged" in recovered.stderr
    # what the state was told at the recovery: the record's hash of its body as extracted
    assert salvaged["body_hash"] != salvaged["content_hash"]


def test_an_article_remembered_from_the_output_is_not_a_new_version_when_learning_changes(
    tmp_path: Path, learned_state: Path
) -> None:
    """Case 5 through a lost state: the state is deleted (and what was learned with it) after an
    article whose learned line was left out was written; the next run remembers it from its
    part, and the unchanged page is not a new version."""
    with hostile_server({article_path(910): with_briefing(910)}) as site:
        runs = runs_on(site, tmp_path, learned_state)
        kept = runs.crawl([article_path(910)])
        output = tmp_path / f"out{runs.number}"
        (record,) = kept["records"]
        assert BRIEFING not in record["text"]

        for name in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm"):
            (tmp_path / name).unlink(missing_ok=True)
        rebuilt = run_in(runs.env(NEWS_OUTPUT=str(output), **REFRESH), "crawlall")
        assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert "remembering their articles" in rebuilt.stderr
    assert [r["version"] for r in read_parts(output)] == [1]  # no version 2
    assert "Dropped " + site.url(article_path(910)) + ": unchanged" in rebuilt.stderr
    assert record["body_hash"] != record["content_hash"]


# --- an error in the template count after the record was written ----------------------------------


def test_a_failed_template_count_does_not_let_a_copy_of_a_written_article_through(tmp_path: Path) -> None:
    """The state fails when the learning saves another source's counts (as a full disk would)
    while an article written a moment before is counted: the record stands (not counted as a
    pipeline error, the run does not fail, no traceback), the failure is counted with one line,
    and a copy of that article later in the run is still dropped."""
    sources = tmp_path / "sources.toml"
    state = tmp_path / "state.sqlite"
    output = tmp_path / "out"
    SqliteStateStore(state).close()
    with sqlite3.connect(state) as db:
        db.execute(
            "CREATE TRIGGER full_disk BEFORE INSERT ON template_sources WHEN NEW.source = 'other' "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    with ExitStack() as stack:
        a = stack.enter_context(hostile_server({}, "127.0.0.2"))
        b = stack.enter_context(hostile_server({}, "127.0.0.3"))
        first, story, _, other = (
            a.url(article_path(920)), a.url(article_path(921)), a.url(print_path(921)), b.url(article_path(922))
        )  # fmt: skip
        a.routes.update(
            {
                "/index.html": index([article_path(920), article_path(921), print_path(921)]),
                article_path(920): print_copy(920),
                # after the other source's article: counting it makes the learning save that source
                article_path(921): held(print_copy(921), lambda: written(output, other)),
                print_path(921): held(print_copy(921), lambda: written(output, story)),
            }
        )
        b.routes.update(
            {
                "/index.html": index([article_path(922)]),
                article_path(922): held(print_copy(922), lambda: written(output, first)),
            }
        )
        sources.write_text(
            f'[sources.{SOURCE}]\nstart_urls = ["{a.url("/index.html")}"]\nmax_depth = 1\n'
            f'[sources.other]\nstart_urls = ["{b.url("/index.html")}"]\nmax_depth = 1\n'
        )
        env = crawl_env(
            NEWS_SOURCES=str(sources), NEWS_STATE=str(state), NEWS_OUTPUT=str(output),
            # one source's lines in memory at a time: loading one saves the other
            NEWS_BOILERPLATE_MEMORY_LINES="1",
        )  # fmt: skip
        process = run_in(env, "crawlall")
    records = read_parts(output)
    assert sorted(urls(records)) == sorted({first, story, other}), process.stderr[-3000:]
    summary = json.loads(next((output / "_runs").glob("*.json")).read_text())
    # the written records stand: none counted as a pipeline error, the run succeeds
    assert "Traceback" not in process.stderr
    assert process.returncode == 0, process.stderr[-3000:]
    assert summary["stats"]["news/dropped/duplicate_content"] == 1
    assert "news/dropped/pipeline_error" not in summary["stats"]
    assert summary["stats"]["news/boilerplate/count_failed"] >= 1
    assert process.stderr.count("the learning misses them") == 1  # one line


def test_counts_the_state_could_not_save_are_saved_at_the_next_save(tmp_path: Path) -> None:
    """A save of the learning's counts that fails (the state full for a moment) loses nothing:
    the next save writes them."""
    path = tmp_path / "state.sqlite"
    store = SqliteStateStore(path)
    learner = TemplateLearner(store, LearningConfig())
    for n in range(12):
        learner.clean(SOURCE, f"a{n}", [f"Story {n} of its own.", BRIEFING], f"2026-12-03T10:{n:02d}:00Z")
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TRIGGER full_disk BEFORE INSERT ON template_articles "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    with pytest.raises(sqlite3.IntegrityError):
        learner.flush()
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER full_disk")
    learner.clean(SOURCE, "a12", ["Story 12 of its own.", BRIEFING], "2026-12-03T11:00:00Z")
    learner.flush()
    articles, lines, recent = store.load_template(SOURCE)
    assert articles == 13 and len(recent) == 13
    assert sorted(row[1] for row in lines.values()) == [1] * 13 + [13]  # each story once, the line 13 times
    store.close()


def test_a_record_the_sink_could_not_write_leaves_its_copy_free(tmp_path: Path) -> None:
    """The sink fails on an article (its partition folder cannot be made: a file is in the way):
    it was not written, so its copy on another site later in the run is written, not dropped as
    a duplicate of a record that does not exist."""
    sources = tmp_path / "sources.toml"
    output = tmp_path / "out"
    output.mkdir()
    (output / f"source={SOURCE}").write_text("in the way")
    log = tmp_path / "crawl.log"
    log.write_text("")
    with ExitStack() as stack:
        a = stack.enter_context(hostile_server({}, "127.0.0.2"))
        b = stack.enter_context(hostile_server({}, "127.0.0.3"))
        story, copy = a.url(article_path(940)), b.url(print_path(940))
        a.routes.update({"/index.html": index([article_path(940)]), article_path(940): print_copy(940)})
        b.routes.update(
            {
                "/index.html": index([print_path(940)]),
                print_path(940): held(print_copy(940), lambda: "Error processing" in log.read_text()),
            }
        )
        sources.write_text(
            f'[sources.{SOURCE}]\nstart_urls = ["{a.url("/index.html")}"]\nmax_depth = 1\n'
            f'[sources.mirror]\nstart_urls = ["{b.url("/index.html")}"]\nmax_depth = 1\n'
        )
        env = crawl_env(NEWS_SOURCES=str(sources), NEWS_OUTPUT=str(output))
        with log.open("w") as stderr:
            process = subprocess.Popen(
                scrapy_command("crawlall"), cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr
            )
        try:
            process.wait(300)
        finally:
            if process.poll() is None:
                process.kill()
    text = log.read_text()
    assert f"Error processing {{'_page': Page(url='{story}'" in text, text[-3000:]
    assert [r["url"] for r in read_parts(output)] == [copy], text[-3000:]
    summary = json.loads(next((output / "_runs").glob("*.json")).read_text())
    assert summary["stats"]["news/dropped/pipeline_error"] == 1
    assert "news/dropped/duplicate_content" not in summary["stats"]


# --- workers sharing a state: the claim covers both hashes -----------------------------------------


def shard_sources(path: Path, x: HostileServer, y: HostileServer) -> Path:
    path.write_text(
        f'[sources.{SOURCE}]\nstart_urls = ["{x.url("/index.html")}"]\nmax_depth = 1\n'
        f'[sources.mirror]\nstart_urls = ["{y.url("/index.html")}"]\nmax_depth = 1\n'
    )
    return path


@pytest.mark.parametrize("first", ["original", "copy"])
@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_two_shard_workers_at_once_write_an_article_and_its_copy_once(
    tmp_path: Path, request: pytest.FixtureRequest, store: str, first: str
) -> None:
    """Two `crawlall --shard` workers on one state at the same time (PostgreSQL, or a SQLite file
    with a run lock each): one crawls the article, whose learned line is left out; the other a
    mirror site with its print page. Neither has written its part when the other decides, so
    only the claim can tell: one record, whichever worker gets there first."""
    state = str(tmp_path / "state.sqlite") if store == "sqlite" else request.getfixturevalue("pg_url")
    with ExitStack() as stack:
        x = stack.enter_context(hostile_server(learning_routes(), "127.0.0.2"))
        y = stack.enter_context(hostile_server({}, "127.0.0.3"))
        learner = Runs(x, tmp_path)
        learner.state = state  # type: ignore[assignment]
        learn(learner)

        outputs = [tmp_path / "shard0", tmp_path / "shard1"]
        logs = [tmp_path / "shard0.log", tmp_path / "shard1.log"]
        original, copy = x.url(article_path(930)), y.url(print_path(930))

        def decided(url: str, worker: int) -> Callable[[], bool]:
            return lambda: written(outputs[worker], url) or f"Dropped {url}:" in logs[worker].read_text()

        # x's group goes to shard 0, y's to shard 1 (equal weights: by name)
        x.routes["/index.html"] = index([article_path(930), article_path(931)])
        y.routes["/index.html"] = index([print_path(930), article_path(932)])
        pages = {original: with_briefing(930), copy: print_copy(930)}
        later = copy if first == "original" else original
        earlier = original if first == "original" else copy
        worker_of = {original: 0, copy: 1}
        x.routes[article_path(930)] = (
            pages[original] if earlier == original else held(pages[original], decided(copy, 1))
        )
        y.routes[print_path(930)] = (
            pages[copy] if earlier == copy else held(pages[copy], decided(original, 0))
        )
        # each worker stays open (its part not completed, so not in the state) until both decided
        both = [decided(original, 0), decided(copy, 1)]
        x.routes[article_path(931)] = held(print_copy(931), lambda: all(done() for done in both))
        y.routes[article_path(932)] = held(print_copy(932), lambda: all(done() for done in both))
        assert worker_of[earlier] != worker_of[later]

        sources = shard_sources(tmp_path / "shards.toml", x, y)
        workers = []
        for n in range(2):
            env = crawl_env(
                NEWS_SOURCES=str(sources), NEWS_STATE=state, NEWS_OUTPUT=str(outputs[n]),
                NEWS_LOCK_FILE=str(tmp_path / f"shard{n}.lock"),
            )  # fmt: skip
            logs[n].write_text("")
            with logs[n].open("w") as log:
                workers.append(
                    subprocess.Popen(
                        scrapy_command("crawlall", "--shard", f"{n}/2"),
                        cwd=REPO,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    )
                )
        try:
            codes = [worker.wait(300) for worker in workers]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
    texts = [log.read_text() for log in logs]
    assert codes == [0, 0], [text[-3000:] for text in texts]
    records = read_parts(outputs[0]) + read_parts(outputs[1])
    assert [r["url"] for r in records if r["url"] in (original, copy)] == [earlier], texts
    assert f"Dropped {later}: duplicate_content" in texts[worker_of[later]]
    assert {r["url"] for r in records} == {earlier, x.url(article_path(931)), y.url(article_path(932))}


# --- the store: both hashes of an article ------------------------------------------------------------


def note(n: int, body: str, text: str) -> dict[str, Any]:
    url = f"https://site{n}.example/story"
    return {"canonical_url": url, "url": url, "id": f"id-{n}", "content_hash": body, "cleaned_hash": text,
            "version": 1, "fetched_at": f"2026-12-0{n}T10:00:00Z"}  # fmt: skip


def test_an_article_is_found_and_claimed_by_its_body_and_by_its_text(
    two_stores: tuple[StateStore, StateStore],
) -> None:
    one, two = two_stores
    one.record_emitted([note(1, "body-1", "text-1"), note(2, "body-2", "body-2")])
    first = one.get("https://site1.example/story")
    assert two.find_by_hash("body-1") == two.find_by_hash("text-1") == first
    assert first.cleaned_hash == "text-1" and one.get("https://site2.example/story").cleaned_hash is None

    # a claim takes both hashes, or none
    assert one.claim_content("text-3", "https://site3.example/story", also=["body-3"]) is None
    assert two.claim_content("text-3", "https://print.example/3") == "https://site3.example/story"
    assert (
        two.claim_content("other", "https://amp.example/3", also=["body-3"]) == "https://site3.example/story"
    )
    assert one.claim_content("other", "https://site4.example/story") is None  # nothing of the refused claim
    assert one.claim_content("text-3", "https://site3.example/story", also=["body-3"]) is None  # its own

    # a forgotten part gives up both claims of its articles
    one.register_pending_part("parts/3", "run-3", [note(3, "body-3", "text-3")])
    one.forget_part("parts/3")
    assert two.claim_content("body-3", "https://print.example/3", also=["text-3"]) is None
