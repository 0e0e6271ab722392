"""Soak: cron-like cycles of `crawlall` over a changing local news site, with faults injected.

    .venv/bin/python -m bench.soak                               # 50 cycles, PostgreSQL state, S3 output
    .venv/bin/python -m bench.soak --cycles 8 --seed 3 --state sqlite --output local
    .venv/bin/python -m bench.soak --json soak.json              # the figures as JSON too

Not part of `make test`: it takes 10 to 20 minutes. Three sources (bench/soak_site.py), each
on a loopback address of its own, publish articles between cycles (a few per cycle, quiet
cycles with none or one, now and then a busy one), edit some (a new body), switch layout
(other markup, the same text) and break for a cycle or two: the home page a JavaScript app
shell, every article a 302 to a consent page on another host, or every article a stub. One
`news-ingest crawlall` runs per cycle; on some cycles a fault hits it: SIGKILL mid-crawl, S3
(SeaweedFS) down from the start or stopped mid-run (and brought back after the cycle, the
spool then uploaded by the next run or by `news-ingest flush`), or PostgreSQL stopped mid-run
and started again a few seconds later. After the last cycle, a clean final cycle whose home
pages link every article, and a flush.

The site knows every body it published and served, so the soak counts:

- records lost: every article's last body must be in the output, and so must every body a run
  that ended normally (exit 0 or 3) was served; a version number missing from an article's
  records (version 1 and 3 written, 2 nowhere) is a lost record too;
- duplicated: the same (id, version) twice, or the same (id, content_hash) again with no other
  text in between (a body that really came back after a different one is a revert, not counted);
- breaks flagged and missed: a source broken in a cycle is flagged when that run's summary marks
  it unhealthy (``health[source].healthy`` false or problems) or its log says it "looks broken";
- false alarms: a source flagged in a cycle where it was not broken (no cycle is exempt).

Also reported: versions emitted for a body the site did not change (learning or a layout change
altering the text), records matching no published body (stubs), exit codes against what each
fault should give, processes a killed run left behind.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import ExitStack, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.soak_site import BREAKS, Article, Site

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BUCKET = "soak"
PREFIX = "news"
FIRST_BREAK = 7  # NEWS_HEALTH_MIN_RUNS (3) finished runs before it, with room for faults
CYCLE_TIMEOUT = 300.0


@dataclass
class CyclePlan:
    number: int
    new: dict[str, int]
    edits: dict[str, int]
    layout_flips: list[str] = field(default_factory=list)
    breaks: dict[str, str] = field(default_factory=dict)  # source -> kind
    fault: str | None = None  # kill | s3_down_at_start | s3_down_mid_run | pg_restart
    after_responses: int = 0  # mid-run faults strike once this many article responses went out...
    after_seconds: float = 0.0  # ...or (kills) this long after the start
    pg_down: float = 0.0
    flush_after: bool = False  # after an S3 outage: `news-ingest flush` before the next cycle


@dataclass
class CycleResult:
    number: int
    fault: str | None
    exit_code: int | None
    seconds: float
    fault_struck: bool = False
    run_id: str | None = None
    summary_found: bool = False
    status: str | None = None
    records_written: int | None = None
    flagged: list[str] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)  # sources whose health the run judged
    health: dict[str, Any] = field(default_factory=dict)  # the summary's, for a miss or a false alarm
    breaks: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    flush_exit: int | None = None
    leftover_processes: int = 0
    note: str = ""


def make_plan(cycles: int, rng: random.Random, sources: list[str], *, s3: bool, pg: bool) -> list[CyclePlan]:
    plans = []
    for number in range(1, cycles + 1):
        new, edits = {}, {}
        for name in sources:
            if number == 1:
                new[name] = 8  # the site as it stands when cron starts
            else:
                roll = rng.random()
                new[name] = (
                    rng.randint(0, 1)
                    if roll < 0.3
                    else rng.randint(6, 9)
                    if roll > 0.95
                    else rng.randint(2, 5)
                )
            roll = rng.random()
            edits[name] = 0 if number == 1 or roll > 0.45 else 1 if roll > 0.1 else 2
        plans.append(CyclePlan(number, new, edits))

    # break episodes: one to two cycles each, one at a time, with clean cycles between
    broken_cycles: set[int] = set()
    span = cycles - FIRST_BREAK + 1
    episodes = max(1, round(cycles * 6 / 50)) if span >= 1 else 0
    if episodes:
        slot = span // episodes
        kinds = [BREAKS[i % len(BREAKS)] for i in range(episodes)]
        rng.shuffle(kinds)
        # every source and kind broken in turn; every other episode lasts two cycles
        targets = [sources[i % len(sources)] for i in range(episodes)]
        rng.shuffle(targets)
        for index, (kind, source) in enumerate(zip(kinds, targets, strict=True)):
            duration = 1 + index % 2 if slot >= 4 else 1
            start = FIRST_BREAK + index * slot + rng.randrange(0, max(1, slot - duration))
            for number in range(start, min(start + duration, cycles + 1)):
                plans[number - 1].breaks[source] = kind
                broken_cycles.add(number)

    for _ in range(max(1, cycles // 10)):
        number = rng.randint(min(4, cycles), cycles)
        source = rng.choice(sources)
        if source not in plans[number - 1].breaks and source not in plans[number - 1].layout_flips:
            plans[number - 1].layout_flips.append(source)

    faults = ["kill"] * max(1, round(cycles * 0.16))
    if s3:
        outages = max(1, round(cycles * 0.1))
        faults += [rng.choice(["s3_down_at_start", "s3_down_mid_run"]) for _ in range(outages)]
    if pg:
        faults += ["pg_restart"] * max(1, round(cycles * 0.1))
    eligible = [n for n in range(2, cycles + 1) if n not in broken_cycles]
    rng.shuffle(eligible)
    for fault, number in zip(faults, eligible, strict=False):
        plan = plans[number - 1]
        plan.fault = fault
        if fault == "kill" and rng.random() < 0.5:
            plan.after_seconds = rng.uniform(1.0, 6.5)
        else:
            plan.after_responses = rng.randint(1, 30 if fault == "kill" else 15)
        plan.pg_down = rng.uniform(2.0, 10.0)
        plan.flush_after = fault.startswith("s3_") and rng.random() < 0.5
    return plans


class Soak:
    def __init__(self, args: argparse.Namespace, work: Path, stack: ExitStack):
        self.args = args
        self.work = work
        self.rng = random.Random(args.seed)
        self.site = stack.enter_context(Site(args.seed).running())
        self.s3: Any = None
        self.pg: Any = None
        self.s3_up = False
        self.logs = work / "logs"
        self.logs.mkdir()
        self.spool = work / "spool"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWS_", "AWS_"))}
        if args.state == "postgres":
            from tests.pgserver import running_postgres  # noqa: PLC0415 -- only with PostgreSQL

            self.pg = stack.enter_context(running_postgres())
            state = self.pg.new_database()
        else:
            state = str(work / "state" / "news.sqlite")
        if args.output == "s3":
            from tests.s3server import running_s3  # noqa: PLC0415 -- only with S3

            self.s3 = stack.enter_context(running_s3(work / "seaweed", BUCKET, hard_stop=True))
            self.s3_up = True
            env.update(self.s3.env())
            self.output = f"s3://{BUCKET}/{PREFIX}"
        else:
            self.output = str(work / "output")
        sources = work / "sources.toml"
        sources.write_text(self.site.sources_toml(), encoding="utf-8")
        env.update(
            NEWS_SOURCES=str(sources), NEWS_OUTPUT=self.output, NEWS_STATE=state,
            NEWS_SINK_SPOOL=str(self.spool),
            NEWS_ALLOW_PRIVATE_NETWORKS="true", NEWS_PROGRESS="off", NEWS_EXTRACT_WORKERS=str(args.workers),
            # every fresh article on a home page is fetched again each cycle: edits are caught
            NEWS_REFRESH_INTERVAL="1", NEWS_SINK_MAX_ITEMS="4",
        )  # fmt: skip
        if args.code:  # another checkout's code, ahead of the installed package
            paths = [str(args.code.resolve()), env.get("PYTHONPATH")]
            env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
        self.env = env
        self.results: list[CycleResult] = []

    # --- faults -----------------------------------------------------------------------------

    def stop_s3(self) -> None:
        if self.s3 is not None and self.s3_up:
            self.s3.stop()
            self.s3_up = False

    def start_s3(self) -> None:
        if self.s3 is not None and not self.s3_up:
            self.s3.start()
            self.s3_up = True

    def restart_pg(self, down: float) -> None:
        pg = self.pg
        pg.run("pg_ctl", "-D", str(pg.data), "-m", "fast", "-w", "-t", "30", "stop")
        time.sleep(down)
        options = (
            f"-p {pg.port} -h 127.0.0.1 -k {pg.sockets} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off"
        )
        started = pg.run(
            "pg_ctl", "-D", str(pg.data), "-l", str(pg.root / "restarts.log"), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip
        if started.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start again: {started.stderr[-2000:]}")

    # --- one cycle --------------------------------------------------------------------------

    def command(self, *args: str) -> list[str]:
        return [
            str(BIN / "news-ingest"), *args, "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=false",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
        ]  # fmt: skip

    def crawl(self, plan: CyclePlan | None, number: int) -> CycleResult:
        fault = plan.fault if plan else None
        result = CycleResult(number, fault, None, 0.0, breaks=dict(plan.breaks) if plan else {})
        if fault == "s3_down_at_start":
            self.stop_s3()
            result.fault_struck = True
        log_path = self.logs / f"cycle-{number:02d}.log"
        self.site.start_cycle(number)
        started = time.monotonic()
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                self.command("crawlall"), cwd=self.work, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            while process.poll() is None:
                elapsed = time.monotonic() - started
                if plan and fault in ("kill", "s3_down_mid_run", "pg_restart") and not result.fault_struck:
                    due = (
                        elapsed >= plan.after_seconds
                        if plan.after_seconds
                        else self.site.answered() >= plan.after_responses
                    )
                    if due:
                        result.fault_struck = True
                        if fault == "kill":
                            process.send_signal(signal.SIGKILL)
                        elif fault == "s3_down_mid_run":
                            self.stop_s3()
                        else:
                            self.restart_pg(plan.pg_down)
                        continue
                if elapsed > CYCLE_TIMEOUT:
                    process.kill()
                    result.note = f"hung: killed after {CYCLE_TIMEOUT:.0f} s"
                time.sleep(0.05)
            result.exit_code = process.returncode
            if fault == "kill" and result.exit_code != -signal.SIGKILL:
                result.fault_struck = False  # the run had ended on its own when the kill came
            result.seconds = round(time.monotonic() - started, 1)
            result.leftover_processes = self._reap(process.pid)
        if fault and not result.fault_struck:
            result.note = result.note or "the run ended before the fault could strike"
        self._read_run(result, log_path)
        return result

    def _reap(self, group: int) -> int:
        """Processes of the crawl still alive 10 s after it ended (a killed run's workers): counted,
        then killed, so that the next cycle starts clean."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            members = _group_members(group)
            if not members:
                return 0
            time.sleep(0.2)
        members = _group_members(group)
        for pid in members:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(members)

    def _read_run(self, result: CycleResult, log_path: Path) -> None:
        text = log_path.read_text(encoding="utf-8", errors="replace")
        found = re.search(r"news-ingest \S+, run (\S+): crawl", text)
        result.run_id = found.group(1) if found else None
        summary = self.summary(result.run_id) if result.run_id else None
        flagged = set(re.findall(r"Source (\S+) looks broken", text))
        if summary is not None:
            result.summary_found = True
            result.status = summary.get("status")
            result.records_written = summary.get("records_written")
            result.problems = list(summary.get("problems") or [])
            result.health = summary.get("health") or {}
            for source, entry in result.health.items():
                if "healthy" in entry:
                    result.judged.append(source)
                if entry.get("healthy") is False or entry.get("problems"):
                    flagged.add(source)
            for problem in result.problems:
                named = re.match(r"source '([^']+)' looks broken", problem)
                if named:
                    flagged.add(named.group(1))
        result.flagged = sorted(flagged)

    def summary(self, run_id: str) -> dict[str, Any] | None:
        relative = f"_runs/{run_id}.json"
        if self.s3 is None:
            path = Path(self.output) / relative
            return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        spooled = self.spool / BUCKET / PREFIX / relative
        if spooled.exists():
            return json.loads(spooled.read_text(encoding="utf-8"))
        if not self.s3_up:
            return None
        client = self.s3.client()
        try:
            return json.loads(client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{relative}")["Body"].read())
        except client.exceptions.NoSuchKey:
            return None

    def flush(self) -> int:
        with open(self.logs / f"flush-{len(self.results):02d}.log", "wb") as log:
            return subprocess.run(
                self.command("flush"), cwd=self.work, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                timeout=CYCLE_TIMEOUT, check=False,
            ).returncode  # fmt: skip

    # --- the site between cycles -----------------------------------------------------------

    def change_site(self, plan: CyclePlan) -> None:
        now = datetime.now(timezone.utc)
        for name, source in self.site.sources.items():
            # edits first, on what the home page shows, so that a body is edited after a run could see it
            candidates = source.on_home()
            for article in self.rng.sample(candidates, min(plan.edits[name], len(candidates))):
                source.edit(article, now)
            for _ in range(plan.new[name]):
                source.publish(now)
            if name in plan.layout_flips:
                source.layout = "magazine" if source.layout == "classic" else "classic"
            source.broken = plan.breaks.get(name)

    def run(self, plans: list[CyclePlan]) -> None:
        for plan in plans:
            self.change_site(plan)
            result = self.crawl(plan, plan.number)
            if plan.fault in ("s3_down_at_start", "s3_down_mid_run"):
                self.start_s3()
                if plan.flush_after:
                    result.flush_exit = self.flush()
            self.results.append(result)
            print(self.describe(plan, result), flush=True)
        # the final sweep: everything healthy, every article linked, the spool flushed
        self.start_s3()
        for source in self.site.sources.values():
            source.broken = None
            source.archive = True
        final = self.crawl(None, len(plans) + 1)
        if self.s3 is not None:
            final.flush_exit = self.flush()
        self.results.append(final)
        print(self.describe(None, final), flush=True)

    def describe(self, plan: CyclePlan | None, result: CycleResult) -> str:
        if plan is None:
            what = "final sweep (every article linked)"
        else:
            new = " ".join(f"{name[0]}{count}" for name, count in plan.new.items())
            what = f"new {new}, edits {sum(plan.edits.values())}"
            if plan.layout_flips:
                what += f", layout {'+'.join(plan.layout_flips)}"
            if plan.breaks:
                what += ", BREAK " + " ".join(f"{s}:{k}" for s, k in plan.breaks.items())
            if plan.fault:
                trigger = (
                    f"{plan.after_seconds:.1f}s"
                    if plan.after_seconds
                    else f"{plan.after_responses} responses"
                )
                what += f", FAULT {plan.fault}" + ("" if plan.fault == "s3_down_at_start" else f"@{trigger}")
                if plan.fault == "pg_restart":
                    what += f" down {plan.pg_down:.1f}s"
        line = (
            f"cycle {result.number:2d}: {what} -> exit {result.exit_code} in {result.seconds:.1f}s, "
            f"written {result.records_written if result.records_written is not None else '?'}"
        )
        if result.flagged:
            line += f", flagged {','.join(result.flagged)}"
        if result.flush_exit is not None:
            line += f", flush exit {result.flush_exit}"
        if result.leftover_processes:
            line += f", {result.leftover_processes} process(es) left behind"
        if result.note:
            line += f" [{result.note}]"
        return line

    # --- reading the output back ------------------------------------------------------------

    def records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        if self.s3 is None:
            from tests.crawling import read_parts  # noqa: PLC0415

            return read_parts(Path(self.output))
        client = self.s3.client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{PREFIX}/"):
            for item in page.get("Contents", []):
                key = item["Key"]
                name = key.rsplit("/", 1)[-1]
                if (
                    "/source=" not in key
                    or name.startswith(".")
                    or not name.endswith((".jsonl", ".jsonl.gz"))
                ):
                    continue
                body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
                if name.endswith(".gz"):
                    body = gzip.decompress(body)
                records += [json.loads(line) for line in body.splitlines() if line.strip()]
        return records

    def leftovers(self) -> list[str]:
        """What a reader never sees: files still in the spool, unfinished parts in a local output."""
        if self.s3 is not None:
            root = self.spool
            return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()] if root.exists() else []
        return [str(p) for p in Path(self.output).rglob(".*.inprogress")]


def _group_members(group: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry.name))
    return members


# --- accounting -----------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.split())


def version_of(record: dict[str, Any], article: Article) -> int | None:
    """Which published body a record holds: the version whose paragraphs it has, least missing
    and least extra (paragraphs of the article's other versions); None for a body that matches none
    (a stub)."""
    text = _norm(record.get("text") or "")
    known = {_norm(p) for body in article.versions for p in body}
    present = {p for p in known if p in text}
    best, best_score = None, None
    for index, body in enumerate(article.versions, start=1):
        own = {_norm(p) for p in body}
        matched = len(own & present)
        if matched * 2 < len(own):
            continue
        score = matched - len(own - present) - len(present - own)
        if best_score is None or score > best_score:
            best, best_score = index, score
    return best


def account(soak: Soak, plans: list[CyclePlan]) -> dict[str, Any]:
    site, results = soak.site, soak.results
    records = soak.records()
    by_path: dict[tuple[str, str], Article] = {
        (name, article.path): article for name, source in site.sources.items() for article in source.articles
    }
    written: Counter[tuple[str, int, int]] = Counter()
    hashes_of_version: dict[tuple[str, int, int], set[str]] = defaultdict(set)
    unmatched: list[str] = []
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_id[record["id"]].append(record)
        article = by_path.get((record["source"], urlsplit(record["url"]).path)) or by_path.get(
            (record["source"], urlsplit(record.get("canonical_url") or "").path)
        )
        version = version_of(record, article) if article else None
        if article is None or version is None:
            unmatched.append(
                f"{record['source']} {record['url']} v{record.get('version')} "
                f"({record.get('word_count')} words)"
            )
            continue
        key = (record["source"], article.number, version)
        written[key] += 1
        hashes_of_version[key].add(record["content_hash"])

    # what had to be written: every article's last body, and every body a run that ended normally read
    completed = {r.number for r in results if r.exit_code in (0, 3)}
    expected = {
        (name, article.number, article.version)
        for name, source in site.sources.items()
        for article in source.articles
    }
    served_completed = {(s.source, s.number, s.version) for s in site.served if s.cycle in completed}
    expected |= served_completed
    lost = sorted(expected - set(written))
    in_flight = sorted({(s.source, s.number, s.version) for s in site.served} - expected - set(written))

    duplicates, reverts, gaps = [], [], []
    for group in by_id.values():
        group.sort(key=lambda r: (r.get("version") or 0, r.get("fetched_at") or ""))
        versions_seen: set[int] = set()
        hashes_seen: set[str] = set()
        previous = None
        for record in group:
            label = f"{record['source']} {record['url']} v{record.get('version')}"
            if record.get("version") in versions_seen:
                duplicates.append(f"{label}: version written again")
            elif previous is not None and record["content_hash"] == previous["content_hash"]:
                duplicates.append(f"{label}: same content_hash as v{previous.get('version')}")
            elif record["content_hash"] in hashes_seen:
                reverts.append(label)
            versions_seen.add(record.get("version"))
            hashes_seen.add(record["content_hash"])
            previous = record
        numbers = sorted(v for v in versions_seen if isinstance(v, int))
        missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers)) if numbers else []
        if missing:
            gaps.append(
                f"{group[0]['source']} {group[0]['url']}: versions {missing} missing of 1..{numbers[-1]}"
            )
    spurious = sum(len(h) - 1 for h in hashes_of_version.values())

    # health: every (cycle, source) under a break, and every flag where there was none
    cycles = [r for r in results if r.number <= len(plans)]
    break_cycles = flagged = missed = unjudged = false_alarms = 0
    misses, alarms, unjudged_list = [], [], []
    for result in cycles:
        for source, kind in result.breaks.items():
            break_cycles += 1
            label = f"cycle {result.number} {source}:{kind}"
            if source in result.flagged:
                flagged += 1
            elif not result.summary_found or source not in result.judged:
                unjudged += 1
                unjudged_list.append(label)
            else:
                missed += 1
                misses.append(label)
        for source in result.flagged:
            if source not in result.breaks:
                false_alarms += 1
                alarms.append(f"cycle {result.number} {source}")
    episodes = _episodes(plans)
    episodes_flagged = sum(
        any(source in results[n - 1].flagged for n in range(start, end + 1))
        for source, _, start, end in episodes
    )

    faults = Counter(p.fault for p in plans if p.fault)
    struck = Counter(r.fault for r in cycles if r.fault and r.fault_struck)
    expected_exit = {None: {0}, "kill": {-signal.SIGKILL}, "s3_down_at_start": {3}, "s3_down_mid_run": {3},
                     "pg_restart": {0}}  # fmt: skip
    unexpected_exits = [
        f"cycle {r.number} ({r.fault or 'no fault'}): exit {r.exit_code}"
        + (f" ({'; '.join(r.problems)[:300]})" if r.problems else "")
        for r in results
        if r.exit_code
        not in expected_exit[r.fault if r.fault_struck or r.fault == "s3_down_at_start" else None]
    ]
    flush_failures = [
        f"after cycle {r.number}: exit {r.flush_exit}" for r in results if r.flush_exit not in (None, 0)
    ]
    final = results[-1]
    return {
        "cycles": len(cycles),
        "state": soak.args.state,
        "output": soak.args.output,
        "seed": soak.args.seed,
        "articles_published": len({(k[0], k[1]) for k in expected}),
        "kills": struck.get("kill", 0),
        "faults": {kind: {"planned": faults[kind], "struck": struck.get(kind, 0)} for kind in sorted(faults)},
        "records_expected": len(expected),
        "records_written": len(records),
        "records_lost": len(lost),
        "version_gaps": len(gaps),
        "records_duplicated": len(duplicates),
        "reverts": len(reverts),
        "versions_without_site_change": spurious,
        "records_matching_no_published_body": len(unmatched),
        "bodies_in_flight_at_a_fault_never_written": len(in_flight),
        "break_episodes": len(episodes),
        "break_episodes_flagged": episodes_flagged,
        "break_cycles": break_cycles,
        "break_cycles_flagged": flagged,
        "break_cycles_missed": missed,
        "break_cycles_unjudged": unjudged,
        "false_alarms": false_alarms,
        "final_sweep": {"exit": final.exit_code, "flagged": final.flagged, "flush_exit": final.flush_exit},
        "unexpected_exits": unexpected_exits,
        "flush_failures": flush_failures,
        "processes_left_behind": sum(r.leftover_processes for r in results),
        "leftover_files": soak.leftovers(),
        "details": {
            "lost": [f"{s} article {n} version {v}" for s, n, v in lost],
            "version_gaps": gaps,
            "duplicated": duplicates,
            "reverts": reverts,
            "unmatched": unmatched,
            "in_flight": [f"{s} article {n} version {v}" for s, n, v in in_flight],
            "missed": misses,
            "unjudged": unjudged_list,
            "false_alarms": alarms,
        },
        "per_cycle": [asdict(r) for r in results],
    }


def _episodes(plans: list[CyclePlan]) -> list[tuple[str, str, int, int]]:
    episodes: list[tuple[str, str, int, int]] = []
    open_: dict[str, tuple[str, int]] = {}
    for plan in plans:
        for source, (kind, start) in list(open_.items()):
            if plan.breaks.get(source) != kind:
                episodes.append((source, kind, start, plan.number - 1))
                del open_[source]
        for source, kind in plan.breaks.items():
            open_.setdefault(source, (kind, plan.number))
    episodes += [(source, kind, start, len(plans)) for source, (kind, start) in open_.items()]
    return episodes


def report(figures: dict[str, Any]) -> str:
    faults = ", ".join(f"{k} {v['struck']}/{v['planned']}" for k, v in figures["faults"].items())
    rows = [
        (
            "cycles",
            f"{figures['cycles']} (+1 final sweep), state {figures['state']}, "
            f"output {figures['output']}, seed {figures['seed']}",
        ),
        ("kills (SIGKILL mid-crawl)", figures["kills"]),
        ("faults struck/planned", faults or "none"),
        ("articles published", figures["articles_published"]),
        ("records expected", figures["records_expected"]),
        ("records written", figures["records_written"]),
        ("records lost", figures["records_lost"]),
        ("version numbers missing", figures["version_gaps"]),
        ("records duplicated", figures["records_duplicated"]),
        ("reverts (a body back after another)", figures["reverts"]),
        ("versions for an unchanged body", figures["versions_without_site_change"]),
        ("records of no published body", figures["records_matching_no_published_body"]),
        ("bodies in flight at a fault, superseded", figures["bodies_in_flight_at_a_fault_never_written"]),
        ("breaks injected (episodes)", figures["break_episodes"]),
        ("breaks flagged (episodes)", figures["break_episodes_flagged"]),
        ("broken source-cycles", figures["break_cycles"]),
        ("  flagged", figures["break_cycles_flagged"]),
        ("  missed", figures["break_cycles_missed"]),
        ("  not judged (no summary/history)", figures["break_cycles_unjudged"]),
        ("false alarms", figures["false_alarms"]),
        ("unexpected exit codes", len(figures["unexpected_exits"])),
        ("failed flushes", len(figures["flush_failures"])),
        ("processes left behind", figures["processes_left_behind"]),
        ("files left unread (spool/.inprogress)", len(figures["leftover_files"])),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    for name in ("lost", "version_gaps", "duplicated", "missed", "unjudged", "false_alarms"):
        for item in figures["details"][name][:20]:
            lines.append(f"  {name}: {item}")
    for item in figures["unexpected_exits"] + figures["flush_failures"]:
        lines.append(f"  exit: {item}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--state", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--output", choices=("s3", "local"), default="s3")
    parser.add_argument("--workers", type=int, default=1, help="NEWS_EXTRACT_WORKERS of each run")
    parser.add_argument(
        "--code", type=Path, help="run the crawls on this checkout's code (e.g. an older commit's worktree)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures (and every cycle) here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, state, output)")
    args = parser.parse_args(argv)
    if args.cycles < 1:
        parser.error("--cycles must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="news-soak-"))
    os.chmod(work, 0o755)
    started = time.monotonic()
    try:
        with ExitStack() as stack:
            soak = Soak(args, work, stack)
            plans = make_plan(
                args.cycles, random.Random(args.seed * 7919), list(soak.site.sources),
                s3=args.output == "s3", pg=args.state == "postgres",
            )  # fmt: skip
            print(f"soak: {args.cycles} cycles, work folder {work}", flush=True)
            soak.run(plans)
            figures = account(soak, plans)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    figures["minutes"] = round((time.monotonic() - started) / 60, 1)
    print()
    print(report(figures))
    print(f"{'minutes':<38}  {figures['minutes']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    clean = not (figures["records_lost"] or figures["version_gaps"] or figures["records_duplicated"])
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
