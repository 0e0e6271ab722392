"""Template lines: text a source's template repeats inside its article bodies, learned per source.

A generic extractor sees one page at a time, so a paragraph the template puts inside
every body ("Sign up for our daily newsletter", "This story is part of our reporting
project", "Have a story? Contact our newsroom") looks like content. Across many
articles of one source it does not. What is learned must be provably template, because
whatever is learned is cut out of later records:

- a line is a paragraph's exact text (only case and spacing folded: digits, names and
  punctuation are content, so a market report whose figures change is a new line each day);
- a paragraph made of a short label and a link to another page ("More from the Gazette:
  <a>another headline</a>", marked by the extraction) is also counted by its label, and
  only such a paragraph is ever removed by its label: a label followed by the article's
  own prose ("Why it matters: ...") is the article's structure, never template;
- only written articles count, each once (the pipeline counts a record after the dedupe
  step and the sink let it through, as its first version: never an unchanged refetch, a
  duplicate, a copy or a new version of the same article);
- a line is template once it was in at least ``min_pages`` articles making up at least
  ``min_share`` of the source's recent articles, and only once the source has a history
  of at least ``min_articles`` counted articles (a handful of pages of a new source, of
  one just reset, or of an attacker, teaches nothing).

Counts age: when a source's article count reaches ``window`` every count is halved (so
"recent" means about the last ``window`` articles), and a source keeps at most
``max_lines`` lines (the rarest and oldest go first). The counts live in the state store
and survive restarts; memory holds at most ``memory_lines`` lines and counted articles
across all sources (the least recently used source is saved and let go first), and the
small set of each source's template lines, which is all that cleaning a record needs.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from crawler.state.access import store_for

logger = logging.getLogger(__name__)

PARAGRAPH = "paragraph"
LEAD_IN = "lead-in"

# "Read more: ...", "ALSO READ | ...", "Related » ...": a few words, then a separator.
_LEAD_IN = re.compile(r"^\s*([^\W\d][^:|»\n]{0,38}?)\s*(?::|\||»)\s*(\S.*)$", re.S)
_LEAD_IN_MAX_WORDS = 4
# Only a short paragraph is a "Read more: <headline>" insert; a long one is reporting.
_LEAD_IN_MAX_PARAGRAPH_WORDS = 30
# "He said: ...", "A spokesperson told: ...": a quote, whoever says it and however often.
_SPEECH = re.compile(r"\b(?:said|says|say|told|tells|added|adds|asked|asks|wrote|writes|explained|noted)$")
_SAMPLE_CHARS = 160
# Paragraphs of one article that are counted: a bound on an article's cost.
_MAX_PARAGRAPHS = 300
# What was counted is saved to the store every so many counted articles (and at the end): a
# killed run loses at most that much counting, and what is waiting to be saved stays small.
SAVE_EVERY = 200
# Punctuation and quotes around a link's text that a paragraph may render differently
_EDGE = " \t\"'\u201c\u201d\u2018\u2019\u00ab\u00bb.,;:!?()[]"

# A line in memory is one int: when it was last seen, in how many articles, and its kind.
_KIND_BITS = 1
_COUNT_BITS = 24
_COUNT_MAX = (1 << _COUNT_BITS) - 1
_COUNT_SHIFT = _KIND_BITS
_TIME_SHIFT = _KIND_BITS + _COUNT_BITS
_KINDS = (PARAGRAPH, LEAD_IN)


def normal_text(text: str) -> str:
    """Only case and spacing do not make two lines different."""
    return " ".join(text.casefold().split())


def _fingerprint(kind: str, normal: str) -> int:
    # 60 bits: two digits of a Python int, and no collision in any source's few thousand lines
    digest = hashlib.blake2b(f"{kind}\x00{normal}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 4


def paragraph_fingerprint(paragraph: str) -> int | None:
    normal = normal_text(paragraph)
    return _fingerprint(PARAGRAPH, normal) if normal else None


def split_lead_in(paragraph: str) -> tuple[str, str] | None:
    """The label (normalised) and the rest of a short "Read more: <headline>" shaped paragraph, or None."""
    match = _LEAD_IN.match(paragraph)
    if match is None or len(paragraph.split()) > _LEAD_IN_MAX_PARAGRAPH_WORDS:
        return None
    lead = normal_text(match.group(1))
    # "Q:" and "A:" are shorter than any insert's label; "He said:" opens a quote
    if len(lead) < 3 or len(lead.split()) > _LEAD_IN_MAX_WORDS or _SPEECH.search(lead):
        return None
    return lead, match.group(2)


def link_text_key(text: str) -> str:
    """A link's text and a paragraph's tail compared as equal when they read the same."""
    return normal_text(text).strip(_EDGE)


def _epoch(when: str) -> int:
    try:
        return max(0, int(datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp()))
    except (ValueError, TypeError, OverflowError):
        return 0


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _pack(epoch: int, count: int, kind: str) -> int:
    return (epoch << _TIME_SHIFT) | (min(count, _COUNT_MAX) << _COUNT_SHIFT) | _KINDS.index(kind)


def _count_of(packed: int) -> int:
    return (packed >> _COUNT_SHIFT) & _COUNT_MAX


def _seen_of(packed: int) -> int:
    return packed >> _TIME_SHIFT


def _kind_of(packed: int) -> str:
    return _KINDS[packed & 1]


def article_fingerprint(article_key: str) -> int:
    return _fingerprint("article", article_key)


class Keys(NamedTuple):
    """What a paragraph is counted and recognised by."""

    paragraph: int | None
    lead: int | None = None  # only for a label followed by a link to another page
    lead_text: str | None = None


@dataclass
class Line:
    """One line of a source as the store and ``news-ingest sources`` show it."""

    kind: str
    count: int
    first_seen: str
    last_seen: str
    learned_at: str | None = None  # when it first counted as template
    sample: str | None = None  # the text, kept once it repeats


@dataclass(slots=True)
class _Rich:
    """What only a line in more than one article keeps: its first sighting and its text."""

    first_seen: str
    learned_at: str | None = None
    sample: str | None = None


@dataclass(eq=False)
class SourceLines:
    source: str
    generation: int = 0  # the source's reset count in the store when loaded
    articles: int = 0  # recent articles counted (aged like the counts)
    lines: dict[int, int] = field(default_factory=dict)  # fingerprint -> packed (last seen, count, kind)
    rich: dict[int, _Rich] = field(default_factory=dict)
    recent: OrderedDict[int, None] = field(default_factory=OrderedDict)  # articles counted, oldest first
    candidates: set[int] = field(default_factory=set)  # lines in at least min_pages articles
    template: frozenset[int] = frozenset()
    changed: set[int] = field(default_factory=set)
    deleted: set[int] = field(default_factory=set)
    recent_added: dict[int, str] = field(default_factory=dict)
    recent_removed: set[int] = field(default_factory=set)
    dirty: bool = False

    @property
    def held(self) -> int:
        return len(self.lines) + len(self.recent)

    def line(self, key: int) -> Line:
        packed = self.lines[key]
        last = _iso(_seen_of(packed))
        rich = self.rich.get(key)
        if rich is None:
            return Line(_kind_of(packed), _count_of(packed), last, last)
        return Line(_kind_of(packed), _count_of(packed), rich.first_seen, last, rich.learned_at, rich.sample)


@dataclass(frozen=True)
class LearningConfig:
    min_pages: int = 10
    min_share: float = 0.3
    min_articles: int = 20
    window: int = 400
    max_lines: int = 5000
    memory_lines: int = 200_000

    def is_template(self, count: int, articles: int) -> bool:
        return (
            articles >= self.min_articles and count >= self.min_pages and count >= self.min_share * articles
        )


@dataclass
class Cleaned:
    paragraphs: list[str]
    removed: list[str]
    learned: list[Line] = field(default_factory=list)


class TemplateLearner:
    """Learns each source's template lines from its written articles and takes them out of bodies.

    ``store`` holds the counts between runs; this object keeps the sources in use in memory
    (at most ``config.memory_lines`` lines and counted articles in all, the least recently
    used source saved and let go first) and saves what changed on ``flush``. A source reset
    in the store meanwhile (``news-ingest sources --reset``) is not written back: its
    counting in this run is dropped at the next save.
    """

    def __init__(self, store: Any, config: LearningConfig):
        self.store = store
        self.config = config
        self._sources: OrderedDict[str, SourceLines] = OrderedDict()
        # every source's template lines, kept when its table leaves memory: cleaning needs no load
        self._templates: dict[str, frozenset[int]] = {}
        self._held = 0
        self._unsaved = 0
        self.loads = 0  # tables read from the store (a source read again after it was let go counts again)
        self.learned_this_run: list[dict[str, Any]] = []

    @property
    def held(self) -> int:
        """Lines and counted articles in memory, over every source."""
        return self._held

    # --- reading a body -------------------------------------------------------------

    @staticmethod
    def keys(paragraphs: list[str], links: frozenset[int] | set[int] = frozenset()) -> list[Keys]:
        """Each paragraph's keys; ``links`` are the fingerprints of the paragraphs the extraction
        found to be a label and a link to another page (``pipelines/extraction/article.py``)."""
        found = []
        for index, paragraph in enumerate(paragraphs):
            fingerprint = paragraph_fingerprint(paragraph)
            # the body's first paragraph opens with a dateline ("NEW DELHI: ..."), not an insert
            if index > 0 and fingerprint in links and (split := split_lead_in(paragraph)) is not None:
                found.append(Keys(fingerprint, _fingerprint(LEAD_IN, split[0]), split[0]))
            else:
                found.append(Keys(fingerprint))
        return found

    def remove(self, source: str, paragraphs: list[str], keys: list[Keys]) -> Cleaned:
        """The body without the source's template lines, as learned so far."""
        template = self.template_of(source)
        if not template:
            return Cleaned(list(paragraphs), [])
        kept, removed = [], []
        for paragraph, key in zip(paragraphs, keys, strict=True):
            if key.paragraph in template or (key.lead is not None and key.lead in template):
                removed.append(paragraph)
            else:
                kept.append(paragraph)
        return Cleaned(kept, removed)

    def clean(
        self,
        source: str,
        article_key: str,
        paragraphs: list[str],
        now: str,
        links: frozenset[int] = frozenset(),
    ) -> Cleaned:
        """``remove`` then ``count``: for a body that is written as it is cleaned."""
        keys = self.keys(paragraphs, links)
        cleaned = self.remove(source, paragraphs, keys)
        cleaned.learned = self.count(source, article_key, paragraphs, keys, now)
        return cleaned

    def template_of(self, source: str) -> frozenset[int]:
        found = self._templates.get(source)
        return found if found is not None else self._load(source).template

    # --- counting a written article ---------------------------------------------------

    def count(
        self, source: str, article_key: str, paragraphs: list[str], keys: list[Keys], now: str
    ) -> list[Line]:
        """Count a written article's lines, once per article; the lines that became template with it."""
        known = self._load(source)
        article = article_fingerprint(article_key)
        if article in known.recent:
            return []
        held = known.held
        when = _epoch(now)
        seen: dict[int, tuple[str, str]] = {}
        for paragraph, key in list(zip(paragraphs, keys, strict=True))[:_MAX_PARAGRAPHS]:
            if key.paragraph is not None:
                seen.setdefault(key.paragraph, (PARAGRAPH, paragraph))
            if key.lead is not None:
                seen.setdefault(key.lead, (LEAD_IN, key.lead_text or ""))
        known.articles += 1
        promote = min(2, self.config.min_pages)
        for key, (kind, text) in seen.items():
            packed = known.lines.get(key)
            count = 1 if packed is None else _count_of(packed) + 1
            if count >= promote and key not in known.rich:
                first = now if packed is None else _iso(_seen_of(packed))
                known.rich[key] = _Rich(first, sample=text[:_SAMPLE_CHARS])
            known.lines[key] = _pack(when, count, kind)
            if count >= self.config.min_pages:
                known.candidates.add(key)
            known.changed.add(key)
        known.recent[article] = None
        known.recent_added[article] = now
        while len(known.recent) > self.config.window:
            old, _ = known.recent.popitem(last=False)
            if known.recent_added.pop(old, None) is None:
                known.recent_removed.add(old)
        known.dirty = True
        if known.articles >= self.config.window:
            self._age(known)
        if len(known.lines) > self.config.max_lines:
            self._prune(known)
        learned = self._retemplate(known, now)
        self._held += known.held - held
        self._fit(known)
        self._unsaved += 1
        if self._unsaved >= SAVE_EVERY:
            self.flush()
        return learned

    def _retemplate(self, known: SourceLines, now: str) -> list[Line]:
        """The source's template lines after a change of its counts; those template for the first time."""
        config = self.config
        template = frozenset(
            key for key in known.candidates if config.is_template(_count_of(known.lines[key]), known.articles)
        )
        learned = []
        for key in template - known.template:
            rich = known.rich.setdefault(key, _Rich(now))
            if rich.learned_at is None:
                rich.learned_at = now
                known.changed.add(key)
                line = known.line(key)
                learned.append(line)
                self.learned_this_run.append(
                    {"source": known.source, "kind": line.kind, "text": line.sample, "articles": line.count}
                )
        known.template = template
        self._templates[known.source] = template
        return learned

    def _age(self, known: SourceLines) -> None:
        """Halve every count: what the template stopped saying fades out of the counts."""
        known.articles //= 2
        for key, packed in list(known.lines.items()):
            count = _count_of(packed) // 2
            if count == 0:
                self._forget(known, key)
                continue
            known.lines[key] = _pack(_seen_of(packed), count, _kind_of(packed))
            known.changed.add(key)
            if count < self.config.min_pages:
                known.candidates.discard(key)

    def _prune(self, known: SourceLines) -> None:
        """Down to 70 % of ``max_lines`` (so that it is not soon needed again): the rarest
        lines, the oldest of them first."""
        ranked = sorted(
            known.lines, key=lambda key: (_count_of(known.lines[key]), _seen_of(known.lines[key]))
        )
        for key in ranked[: len(known.lines) - int(self.config.max_lines * 0.7)]:
            self._forget(known, key)

    @staticmethod
    def _forget(known: SourceLines, key: int) -> None:
        del known.lines[key]
        known.rich.pop(key, None)
        known.candidates.discard(key)
        known.changed.discard(key)
        known.deleted.add(key)

    # --- memory and the store -----------------------------------------------------------

    def _load(self, source: str) -> SourceLines:
        known = self._sources.get(source)
        if known is not None:
            self._sources.move_to_end(source)
            return known
        articles, generation, rows, recent = self.store.load_template_state(source)
        self.loads += 1
        known = SourceLines(source, generation, articles)
        for hexed, (kind, count, first_seen, last_seen, learned_at, sample) in rows.items():
            try:
                key = int(hexed, 16)
                packed = _pack(_epoch(last_seen), int(count), kind)
            except (TypeError, ValueError):
                continue  # a row this version does not read: it ages out with the rest
            known.lines[key] = packed
            if count >= 2 or learned_at or sample:
                known.rich[key] = _Rich(first_seen, learned_at, sample)
            if count >= self.config.min_pages and key in known.rich:
                known.candidates.add(key)
        for hexed, _ in recent:
            try:
                known.recent[int(hexed, 16)] = None
            except ValueError:
                continue
        self._retemplate(known, _iso(int(time.time())))
        self._sources[source] = known
        self._held += known.held
        self._fit(known)
        return known

    def _fit(self, keep: SourceLines) -> None:
        """Let the least recently used sources go (saved first) until memory is within its bound."""
        while self._held > self.config.memory_lines and len(self._sources) > 1:
            name, oldest = next(iter(self._sources.items()))
            if oldest is keep:
                self._sources.move_to_end(name)
                continue
            self._save([oldest])
            self._let_go(oldest)

    def _let_go(self, known: SourceLines) -> None:
        if self._sources.get(known.source) is known:
            del self._sources[known.source]
            self._held -= known.held

    @staticmethod
    def _changes(known: SourceLines) -> dict[str, Any] | None:
        """What changed in a source since it was last saved (and marks it saved), or None."""
        if not known.dirty:
            return None
        changes = {
            "source": known.source,
            "generation": known.generation,
            "articles": known.articles,
            "lines": {format(key, "x"): _row(known, key) for key in known.changed if key in known.lines},
            "deleted": {format(key, "x") for key in known.deleted},
            "recent_added": {format(key, "x"): at for key, at in known.recent_added.items()},
            "recent_removed": {format(key, "x") for key in known.recent_removed},
        }
        known.changed, known.deleted = set(), set()
        known.recent_added, known.recent_removed = {}, set()
        known.dirty = False
        return changes

    def _save(self, sources: list[SourceLines]) -> None:
        pairs = [(known, changes) for known in sources if (changes := self._changes(known))]
        if not pairs:
            return
        try:
            discarded = self.store.save_templates([changes for _, changes in pairs]) or set()
        except Exception:
            for known, changes in pairs:  # not saved: still to save, at the next flush
                _unsaved(known, changes)
            raise
        for known in sources:
            if known.source in discarded:
                # reset in the store since it was loaded: what this run counted of it is dropped,
                # and the source is read again (as reset) when it is next needed
                logger.warning(
                    "What was learned of %(source)s's template was reset during the run: this run's "
                    "counting of it is dropped",
                    {"source": known.source},
                    extra={"source": known.source},
                )
                self._let_go(known)
                self._templates.pop(known.source, None)

    def flush(self) -> None:
        """Save what changed in every source in memory, in one write."""
        self._unsaved = 0
        self._save(list(self._sources.values()))


def _unsaved(known: SourceLines, changes: dict[str, Any]) -> None:
    """``changes`` (from ``_changes``) back on the source, merged with what changed since."""
    known.changed |= {int(key, 16) for key in changes["lines"]} & known.lines.keys()
    known.deleted |= {int(key, 16) for key in changes["deleted"]} - known.lines.keys()
    added = {int(key, 16): at for key, at in changes["recent_added"].items()}
    known.recent_added = {**{k: at for k, at in added.items() if k in known.recent}, **known.recent_added}
    known.recent_removed |= {int(key, 16) for key in changes["recent_removed"]}
    known.dirty = True


def _row(known: SourceLines, key: int) -> tuple[Any, ...]:
    line = known.line(key)
    return (line.kind, line.count, line.first_seen, line.last_seen, line.learned_at, line.sample)


def config_from(settings: Any) -> LearningConfig:
    return LearningConfig(
        min_pages=settings.getint("NEWS_BOILERPLATE_MIN_PAGES"),
        min_share=settings.getfloat("NEWS_BOILERPLATE_MIN_SHARE"),
        min_articles=settings.getint("NEWS_BOILERPLATE_MIN_ARTICLES"),
        window=settings.getint("NEWS_BOILERPLATE_WINDOW"),
        max_lines=settings.getint("NEWS_BOILERPLATE_MAX_LINES"),
        memory_lines=settings.getint("NEWS_BOILERPLATE_MEMORY_LINES"),
    )


def learner_for(crawler: Any) -> TemplateLearner:
    """One learner per crawl, on the crawl's state store: the pipeline cleans and counts with it,
    the run summary lists what it learned."""
    learner = getattr(crawler, "_news_template_learner", None)
    if learner is None:
        learner = crawler._news_template_learner = TemplateLearner(
            store_for(crawler), config_from(crawler.settings)
        )
    return learner
