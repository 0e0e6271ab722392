"""``news-ingest sources``: what the state knows of each source, its learned template lines
and its health.

For every source of the sources file and every source the state store has seen: its
last run's figures against the usual ones (the median of its recent runs), whether it
looks healthy, and the lines its template repeats in its bodies, which later records
leave out (articles counted, share of the source's recent articles, first seen).

    news-ingest sources                 # every source
    news-ingest sources herald daily    # some of them
    news-ingest sources --json          # the same as one JSON object
    news-ingest sources --reset herald  # forget what was learned of herald's template

Exit code 0, or 2 (one line) when a setting is wrong (the start checks of a crawl), the state
cannot be opened or a named source is unknown.
"""

from __future__ import annotations

import json
import sys
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.commands import ScrapyCommand

from crawler.commands._base import NewsCommand
from crawler.discovery.sources import load_sources
from crawler.extensions.health import judge, usual_figures
from crawler.extensions.summary import EXIT_OK, EXIT_USAGE
from crawler.run.settings_check import settings_problems
from crawler.state.access import open_store
from crawler.state.dsn import scrub
from crawler.state.store import is_database_url, state_path
from crawler.state.template_lines import LearningConfig, Line, config_from

if TYPE_CHECKING:
    import argparse

    from crawler.state.store import StateStore


def describe_source(
    store: StateStore, source: str, config: LearningConfig, runs: int, min_runs: int
) -> dict[str, Any]:
    articles, rows, _ = store.load_template(source)
    template = sorted(
        (line for line in (Line(*row) for row in rows.values()) if config.is_template(line.count, articles)),
        key=lambda line: -line.count,
    )
    history = store.source_health(source, runs + 1)
    entry: dict[str, Any] = {
        "articles_counted": articles,
        "template_lines": [
            {
                "kind": line.kind,
                "text": line.sample,
                "articles": line.count,
                "share": round(line.count / articles, 3) if articles else None,
                "first_seen": line.first_seen,
            }
            for line in template
        ],
        "runs_recorded": len(history),
    }
    if history:
        last, earlier = history[0], history[1:]
        entry["last_run"] = {key: value for key, value in last.items()}
        if len(earlier) >= min_runs:
            entry["usual"] = usual_figures(earlier)
            entry["problems"] = judge(last, entry["usual"])
            entry["healthy"] = not entry["problems"]
    return entry


def _figures(figures: dict[str, Any]) -> str:
    def share(value: Any) -> str:
        return "-" if value is None else f"{value:.0%}"

    def number(name: str) -> str:  # runs recorded before a figure was counted lack it
        value = figures.get(name)
        return "-" if value is None else f"{value:g}"

    words = figures.get("median_words")
    return (
        f"{number('articles_found')} article URLs found, {number('new_articles')} new "
        f"({number('new_written')} written), {number('refetched')} fetched again "
        f"({number('refetched_stubs')} stubs), {number('redirected_offsite')} redirected off-site, "
        f"{figures['pages_fetched']:g} pages, {figures['written']:g} written, "
        f"not_article {share(figures.get('not_article_share'))}, "
        f"median words {'-' if words is None else f'{words:g}'}, "
        f"with date {share(figures.get('with_date'))}, with authors {share(figures.get('with_authors'))}"
    )


def print_report(report: dict[str, dict[str, Any]]) -> None:
    for source, entry in report.items():
        health = {True: "healthy", False: "UNHEALTHY"}.get(entry.get("healthy"), "not judged yet")
        print(
            f"{source}: {health}; {entry['runs_recorded']} run(s) recorded, {entry['articles_counted']} articles counted"
        )
        if "last_run" in entry:
            print(f"  last run {entry['last_run']['run_id']}: {_figures(entry['last_run'])}")
        if "usual" in entry:
            print(f"  usual:  {_figures(entry['usual'])}")
        for problem in entry.get("problems", ()):
            print(f"  ! {problem}")
        for line in entry["template_lines"]:
            print(
                f"  template {line['kind']}: in {line['articles']} articles ({line['share']:.0%}), "
                f"first seen {line['first_seen']}: {line['text']!r}"
            )


class Command(NewsCommand, ScrapyCommand):
    command_name = "sources"
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options] [SOURCE ...]"

    def short_desc(self) -> str:
        return "Each source's health and learned template lines (--reset SOURCE forgets them)"

    def long_desc(self) -> str:
        return (__doc__ or "").strip()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
        parser.add_argument("--reset", metavar="SOURCE", help="forget the template lines learned of SOURCE")

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        settings = self.settings
        location = str(settings.get("NEWS_STATE") or "")
        # the checks of a crawl's start: a state string that is not a location (a libpq key=value
        # string, a URL libpq would misread) is refused here too, before it is shown or opened
        problems = self.start_problems + settings_problems(settings)
        if problems:
            print(f"sources: cannot start: {scrub('; '.join(problems), location)}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        if not is_database_url(location) and not state_path(location).exists():
            shown = scrub(str(state_path(location)), location)
            print(f"sources: no state at {shown} yet (NEWS_STATE): no run has used it", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        try:
            store = open_store(location)
        except ValueError as exc:
            print(f"sources: cannot start: {scrub(str(exc), location)}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        try:
            self.exitcode = self._run(store, settings, args, opts)
        finally:
            store.close()

    def _run(self, store: StateStore, settings: Any, args: list[str], opts: argparse.Namespace) -> int:
        known = set(store.template_sources()) | set(store.health_sources())
        with suppress(
            OSError, ValueError
        ):  # no sources file here: the state's sources are still worth showing
            known |= set(load_sources(Path(settings.get("NEWS_SOURCES"))))
        if opts.reset:
            if opts.reset not in known:
                print(f"sources: no source {opts.reset!r} in the state or the sources file", file=sys.stderr)
                return EXIT_USAGE
            lines = len(store.load_template(opts.reset)[1])
            # a crawl running meanwhile does not write its counts of the source back (its generation)
            store.forget_template(opts.reset)
            print(f"Forgot what was learned of {opts.reset}'s template ({lines} fingerprints)")
            return EXIT_OK
        unknown = [name for name in args if name not in known]
        if unknown:
            print(f"sources: unknown source(s): {', '.join(unknown)}", file=sys.stderr)
            return EXIT_USAGE
        config = config_from(settings)
        runs, min_runs = settings.getint("NEWS_HEALTH_HISTORY_RUNS"), settings.getint("NEWS_HEALTH_MIN_RUNS")
        report = {
            name: describe_source(store, name, config, runs, min_runs) for name in sorted(args or known)
        }
        if opts.json:
            print(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            print_report(report)
        return EXIT_OK
