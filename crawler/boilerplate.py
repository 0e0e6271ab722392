"""Template lines: text a source's template repeats inside its article bodies, learned per source.

A generic extractor sees one page at a time, so a paragraph the template puts inside
every body ("Sign up for our daily newsletter", "This story is part of our reporting
project", "Have a story? Contact our newsroom") looks like content. Across many
articles of one source it does not: a paragraph found in at least ``min_pages``
different articles that make up at least ``min_share`` of the source's recent
articles is template. Short fixed lead-ins ("Read more: <another headline>") are
learned the same way by their lead-in.

Each article counts once (a refetch does not count again). Counts age: when a source's
article count reaches ``window`` every count is halved (so "recent" means about the
last ``window`` articles), and a source keeps at most ``max_lines`` fingerprints (the
rarest and oldest go first), so nothing grows without bound. The counts live in the
state store and survive restarts; sources not used for a while leave memory.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from crawler.state import store_for

PARAGRAPH = "paragraph"
LEAD_IN = "lead-in"

# "Read more: ...", "ALSO READ | ...", "Related » ...": a few words, then a separator.
_LEAD_IN = re.compile(r"^\s*([^\W\d][^:|»\n]{0,38}?)\s*(?::|\||»)\s*\S")
_LEAD_IN_MAX_WORDS = 4
# A lead-in that opens this many paragraphs of one article is the article's structure
# (an interview's "Q:" and "A:"), not a template's insert: it is not counted.
_LEAD_IN_STRUCTURE = 3
# Only a short paragraph, not the body's first, is a "Read more: <headline>" insert: a first
# paragraph opens with a dateline ("NEW DELHI: ..."), a long one is reporting.
_LEAD_IN_MAX_PARAGRAPH_WORDS = 20
# "He said: ...", "A spokesperson told: ...": a quote, whoever says it and however often.
_SPEECH = re.compile(r"\b(?:said|says|say|told|tells|added|adds|asked|asks|wrote|writes|explained|noted)$")
_SAMPLE_CHARS = 160
# Paragraphs of one article that are counted: a bound on an article's cost.
_MAX_PARAGRAPHS = 300


_NOT_WORDS = re.compile(r"[\W\d_]+")


# Template lines are short; a long paragraph is almost never one, and only case and spacing
# are normalised there (the full normalisation costs more than the rest of the step).
_SHORT = 400


def _normal(text: str) -> str:
    """Case, digits, punctuation and spacing do not make two template lines different."""
    if len(text) > _SHORT:
        return " ".join(text.casefold().split())
    return _NOT_WORDS.sub(" ", text.casefold()).strip()


def _hash(kind: str, normal: str) -> str:
    return hashlib.blake2b(f"{kind}\x00{normal}".encode(), digest_size=8).hexdigest()


def paragraph_fingerprint(paragraph: str) -> str | None:
    normal = _normal(paragraph)
    return _hash(PARAGRAPH, normal) if normal else None


def lead_in_of(paragraph: str) -> str | None:
    """The fixed opening of a "Read more: <headline>" paragraph, or None."""
    match = _LEAD_IN.match(paragraph)
    if match is None or len(paragraph.split()) > _LEAD_IN_MAX_PARAGRAPH_WORDS:
        return None
    lead = _normal(match.group(1))
    # "Q:" and "A:" (an interview, however few its questions) are shorter than any insert's lead-in
    if len(lead) < 3 or len(lead.split()) > _LEAD_IN_MAX_WORDS or _SPEECH.search(lead):
        return None
    return lead


@dataclass
class Line:
    """One fingerprint of a source: how many of its recent articles had it."""

    kind: str
    count: int
    first_seen: str
    last_seen: str
    learned_at: str | None = None  # when it first counted as template
    sample: str | None = None  # the text, kept once it repeats (for `scrapy sources`)


@dataclass
class SourceLines:
    source: str
    articles: int = 0  # recent articles counted (aged like the counts)
    lines: dict[str, Line] = field(default_factory=dict)
    recent: OrderedDict[str, str] = field(default_factory=OrderedDict)  # article key -> when counted
    changed: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    recent_added: dict[str, str] = field(default_factory=dict)
    recent_removed: set[str] = field(default_factory=set)
    dirty: bool = False


@dataclass(frozen=True)
class LearningConfig:
    min_pages: int = 5
    min_share: float = 0.3
    window: int = 400
    max_lines: int = 5000

    def is_template(self, line: Line, articles: int) -> bool:
        return line.count >= self.min_pages and line.count >= self.min_share * articles


@dataclass
class Cleaned:
    paragraphs: list[str]
    removed: list[str]
    learned: list[Line]


class TemplateLearner:
    """Learns each source's template lines from its articles and takes them out of bodies.

    ``store`` holds the counts between runs (``load_template`` / ``save_template``); this
    object keeps the sources in use in memory (at most ``max_sources``, least recently
    used out first, saved as they go) and saves what changed on ``flush``.
    """

    def __init__(self, store: Any, config: LearningConfig, max_sources: int = 256):
        self.store = store
        self.config = config
        self.max_sources = max_sources
        self._sources: OrderedDict[str, SourceLines] = OrderedDict()
        self.learned_this_run: list[dict[str, Any]] = []

    def lines_of(self, source: str) -> SourceLines:
        known = self._sources.get(source)
        if known is not None:
            self._sources.move_to_end(source)
            return known
        articles, lines, recent = self.store.load_template(source)
        known = SourceLines(
            source, articles, {fp: Line(*row) for fp, row in lines.items()}, OrderedDict(recent)
        )
        self._sources[source] = known
        while len(self._sources) > self.max_sources:
            _, oldest = self._sources.popitem(last=False)
            self._save(oldest)
        return known

    def clean(self, source: str, article_key: str, paragraphs: list[str], now: str) -> Cleaned:
        """Count this article's lines (once per article) and return its body without template lines."""
        known = self.lines_of(source)
        keys = [self._keys(paragraph, first=index == 0) for index, paragraph in enumerate(paragraphs)]
        learned = (
            [] if article_key in known.recent else self._count(known, article_key, paragraphs, keys, now)
        )
        kept, removed = [], []
        for paragraph, (fingerprint, lead) in zip(paragraphs, keys, strict=True):
            lines = [known.lines.get(key) for key in (fingerprint, lead) if key]
            if any(line is not None and self.config.is_template(line, known.articles) for line in lines):
                removed.append(paragraph)
            else:
                kept.append(paragraph)
        return Cleaned(kept, removed, learned)

    @staticmethod
    def _keys(paragraph: str, first: bool = False) -> tuple[str | None, str | None]:
        lead = None if first else lead_in_of(paragraph)
        return paragraph_fingerprint(paragraph), (_hash(LEAD_IN, lead) if lead else None)

    def _count(
        self,
        known: SourceLines,
        article_key: str,
        paragraphs: list[str],
        keys: list[tuple[str | None, str | None]],
        now: str,
    ) -> list[Line]:
        """Count the article's lines; the lines that became template with it."""
        leads: dict[str, int] = {}
        for _, lead in keys:
            if lead:
                leads[lead] = leads.get(lead, 0) + 1
        seen: dict[str, tuple[str, str]] = {}
        for paragraph, (fingerprint, lead) in list(zip(paragraphs, keys, strict=True))[:_MAX_PARAGRAPHS]:
            if fingerprint:
                seen.setdefault(fingerprint, (PARAGRAPH, paragraph))
            if lead and leads[lead] < _LEAD_IN_STRUCTURE:
                seen.setdefault(lead, (LEAD_IN, lead_in_of(paragraph) or ""))
        known.articles += 1
        learned = []
        for key, (kind, text) in seen.items():
            line = known.lines.get(key)
            if line is None:
                line = known.lines[key] = Line(kind, 0, now, now)
            line.count += 1
            line.last_seen = now
            if line.count >= 2 and line.sample is None:
                line.sample = text[:_SAMPLE_CHARS]
            if line.learned_at is None and self.config.is_template(line, known.articles):
                line.learned_at = now
                learned.append(line)
                self.learned_this_run.append(
                    {"source": known.source, "kind": kind, "text": line.sample, "articles": line.count}
                )
            known.changed.add(key)
        known.recent[article_key] = now
        known.recent_added[article_key] = now
        while len(known.recent) > self.config.window:
            old, _ = known.recent.popitem(last=False)
            known.recent_added.pop(old, None)
            known.recent_removed.add(old)
        known.dirty = True
        if known.articles >= self.config.window:
            self._age(known)
        if len(known.lines) > self.config.max_lines:
            self._prune(known)
        return learned

    def _age(self, known: SourceLines) -> None:
        """Halve every count: what the template stopped saying fades out of the counts."""
        known.articles //= 2
        for key, line in list(known.lines.items()):
            line.count //= 2
            if line.count == 0:
                self._forget(known, key)
            else:
                known.changed.add(key)

    def _prune(self, known: SourceLines) -> None:
        """Down to 70 % of ``max_lines`` (so that it is not soon needed again): the rarest
        lines, the oldest of them first."""
        ranked = sorted(known.lines.items(), key=lambda item: (item[1].count, item[1].last_seen))
        for key, _ in ranked[: len(known.lines) - int(self.config.max_lines * 0.7)]:
            self._forget(known, key)

    @staticmethod
    def _forget(known: SourceLines, key: str) -> None:
        del known.lines[key]
        known.changed.discard(key)
        known.deleted.add(key)

    @staticmethod
    def _changes(known: SourceLines) -> dict[str, Any] | None:
        """What changed in a source since it was last saved (and marks it saved), or None."""
        if not known.dirty:
            return None
        changes = {
            "source": known.source,
            "articles": known.articles,
            "lines": {key: _row(known.lines[key]) for key in known.changed},
            "deleted": known.deleted,
            "recent_added": known.recent_added,
            "recent_removed": known.recent_removed,
        }
        known.changed, known.deleted = set(), set()
        known.recent_added, known.recent_removed = {}, set()
        known.dirty = False
        return changes

    def _save(self, known: SourceLines) -> None:
        changes = self._changes(known)
        if changes is not None:
            self.store.save_templates([changes])

    def flush(self) -> None:
        """Save what changed in every source in memory, in one write."""
        batch = [changes for known in self._sources.values() if (changes := self._changes(known))]
        if batch:
            self.store.save_templates(batch)


def _row(line: Line) -> tuple[Any, ...]:
    return (line.kind, line.count, line.first_seen, line.last_seen, line.learned_at, line.sample)


def learner_for(crawler: Any) -> TemplateLearner:
    """One learner per crawl, on the crawl's state store: the pipeline cleans with it, the
    run summary lists what it learned."""
    learner = getattr(crawler, "_news_template_learner", None)
    if learner is None:
        settings = crawler.settings
        config = LearningConfig(
            min_pages=settings.getint("NEWS_BOILERPLATE_MIN_PAGES"),
            min_share=settings.getfloat("NEWS_BOILERPLATE_MIN_SHARE"),
            window=settings.getint("NEWS_BOILERPLATE_WINDOW"),
            max_lines=settings.getint("NEWS_BOILERPLATE_MAX_LINES"),
        )
        learner = crawler._news_template_learner = TemplateLearner(store_for(crawler), config)
    return learner
