"""What learning template lines and judging source health cost per record.

    .venv/bin/python -m bench.learning            # 3 runs over the corpora's article bodies
    .venv/bin/python -m bench.run --only learning # the same, from the benchmark's entry point

The records are the true bodies of the development corpora (../shared/devcorpus, fundus
and wcxb: real articles, real paragraph counts), fed through the two template steps
(``pipelines/boilerplate.py``: cleaning before dedupe, counting after the sink, each record
written as a first version) and the health extension's per-item work on a real SQLite
state, twice: with each record's own site as its source, and with all of them under one
source (the worst case for the size of a source's table: it reaches its bound and is
pruned). The baseline, measured in the same run on the same machine: bare
``trafilatura.extract`` of the corpus pages themselves. Quoted: the median over runs of
the per-record milliseconds, and its ratio to trafilatura's per-page milliseconds.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import trafilatura

from crawler.extensions.health import _Tally
from crawler.state.sqlite import SqliteStateStore
from crawler.state.template_lines import LearningConfig, TemplateLearner
from pipelines.boilerplate import CountTemplatePipeline, LearnedBoilerplatePipeline
from pipelines.extraction.text import content_hash

DEVCORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "devcorpus"


class _Stats:
    """The two calls the template step makes on Scrapy's stats collector."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count


def records(corpus: Path) -> list[dict[str, Any]]:
    found = []
    for name in ("fundus", "wcxb"):
        for line in (corpus / name / "truth.jsonl").read_text(encoding="utf-8").split("\n"):
            if not line.strip():
                continue
            truth = json.loads(line)
            if not truth.get("body"):
                continue
            text = "\n\n".join(part.strip() for part in truth["body"].split("\n") if part.strip())
            found.append(
                {
                    "id": truth["id"],
                    "source": urlsplit(truth["url"]).hostname or "unknown",
                    "text": text,
                    "word_count": len(text.split()),
                    "content_hash": content_hash(text),
                    "fetched_at": "2026-12-03T10:00:00Z",
                    "version": 1,
                    "published_date": truth.get("published"),
                    "authors": truth.get("authors") or [],
                    "_page": corpus / name / "pages" / f"{truth['id']}.html.gz",
                }
            )
    return found


def learning_ms(items: list[dict[str, Any]], one_source: bool) -> float:
    """Milliseconds per record of the template step and the health tally, state on disk."""
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStateStore(Path(tmp) / "state.sqlite")
        learner = TemplateLearner(store, LearningConfig())
        clean = LearnedBoilerplatePipeline(learner, _Stats(), 50)  # type: ignore[arg-type]
        counting = CountTemplatePipeline(learner, _Stats())  # type: ignore[arg-type]
        tallies: dict[str, _Tally] = {}
        started = time.perf_counter()
        for item in items:
            record = {key: value for key, value in item.items() if key != "_page"}
            if one_source:
                record["source"] = "one"
            record = counting.process_item(clean.process_item(record))
            tally = tallies.setdefault(record["source"], _Tally())  # what SourceHealth.item_scraped does
            tally.words.append(record["word_count"])
            tally.dated += bool(record.get("published_date"))
            tally.authored += bool(record.get("authors"))
        counting.spider_closed()  # the last save of what was learned
        elapsed = time.perf_counter() - started
        store.close()
    return elapsed * 1000 / len(items)


def trafilatura_ms(items: list[dict[str, Any]], pages: int) -> float:
    chosen = [item for item in items if item["_page"].exists()][:pages]
    documents = [gzip.decompress(item["_page"].read_bytes()).decode("utf-8", "replace") for item in chosen]
    started = time.perf_counter()
    for document in documents:
        trafilatura.extract(document)
    return (time.perf_counter() - started) * 1000 / len(documents)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=DEVCORPUS)
    parser.add_argument("--baseline-pages", type=int, default=100)
    args = parser.parse_args(argv)
    items = records(args.corpus)
    sources = len({item["source"] for item in items})
    print(f"{len(items)} article bodies from {sources} sites; {args.runs} runs", flush=True)
    per_site, one, baseline = [], [], []
    for run in range(args.runs):  # interleaved, so that noise hits each alike
        per_site.append(learning_ms(items, one_source=False))
        one.append(learning_ms(items, one_source=True))
        baseline.append(trafilatura_ms(items, args.baseline_pages))
        print(f"  run {run + 1}: {per_site[-1]:.3f} / {one[-1]:.3f} / {baseline[-1]:.1f} ms", flush=True)
    base = statistics.median(baseline)
    print(f"\nmedians of {args.runs} runs, ms per record (ratio to bare trafilatura.extract per page)")
    for label, values in (
        ("learning + health, each site its source", per_site),
        ("learning + health, one source", one),
    ):
        value = statistics.median(values)
        print(f"  {label:42} {value:7.3f} ms  ({value / base:.3f})")
    print(f"  {'bare trafilatura.extract (baseline)':42} {base:7.1f} ms")


if __name__ == "__main__":
    main()
