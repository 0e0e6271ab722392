"""Shortcuts taken for speed give the answers of the plain forms they replace: the
case-insensitive class-word searches, the boilerplate rule words, the word count without
CJK characters, and the start of an element's text read piece by piece."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import lxml.html
import pytest

from crawler.pages.page import Page
from pipelines.extraction.bylines import _BYLINE_WORDS
from pipelines.extraction.datefind import _DATE_WORDS
from pipelines.extraction.placement import OTHER_STORIES, LowercaseWords
from pipelines.extraction.prune import _RULE_WORDS, _names_a_rule_word, pruned_copy
from pipelines.extraction.standfirst import _text_start
from pipelines.extraction.text import _WORD, count_words

REPO = Path(__file__).resolve().parent.parent


def _pages() -> list[Page]:
    """The test pages and the demo site's, parsed as a crawl parses them."""
    pages = []
    for path in sorted([*REPO.glob("tests/pages/**/*.html"), *REPO.glob("demo/site/**/*.html")]):
        now = datetime.now(timezone.utc)
        page = Page(f"http://127.0.0.1/{path.name}", path.read_bytes(), now, "t", declared_encoding="utf-8")
        if page.tree is not None:
            pages.append(page)
    assert len(pages) >= 40
    return pages


VALUES = [
    "post-date",
    "Post-Date entry",
    "ArticleByline",
    "article_byline",
    "BYLINE",
    "c-article-related-articles__item",
    "datetime",  # "date" inside a longer word: no date word for the class-word rules
    "meta-date has-comments",
    "Veröffentlicht datum",  # not ASCII: searched as it is
    "ſigned date",  # the long s folds to "s" only under IGNORECASE
    "KOMMENTARE",
    "",
    "NEWSLETTER-box",
    "newsletter_signup",
    "wp-caption-text",
    "auteur-Name",
]


@pytest.mark.parametrize("words", [_DATE_WORDS, _BYLINE_WORDS])
def test_lowercase_words_find_what_ignorecase_finds(words: LowercaseWords) -> None:
    reference = re.compile(words.pattern, re.IGNORECASE)
    found = [value for value in VALUES if words.search(value)]
    assert found == [value for value in VALUES if reference.search(value)]
    assert found  # else the comparison says nothing


def test_date_words_are_whole_words() -> None:
    # written down from the rule: a date word ("date", "byline", "meta") as a token or a
    # token's part between separators; "ArticleByline" has none before the word
    assert [value for value in VALUES if _DATE_WORDS.search(value)] == [
        "post-date",
        "Post-Date entry",
        "article_byline",
        "BYLINE",
        "meta-date has-comments",
        "Veröffentlicht datum",
        "ſigned date",
    ]


def test_rule_words_found_in_any_case() -> None:
    for value in VALUES:
        expected = any(word in value.casefold() for word in _RULE_WORDS) or bool(
            re.search("|".join(map(re.escape, _RULE_WORDS)), value, re.IGNORECASE)
        )
        assert _names_a_rule_word(value) == expected, value


@pytest.mark.parametrize(
    "text",
    [
        "It’s a well-known fact: 3 ferries, 12 crossings.",
        "日本語のテキストと English words",
        "abc日本",  # a Latin word running into CJK characters
        "Ελληνικά και русский текст",
        "",
        "___ --- '''",
    ],
)
def test_word_count_without_cjk_characters_counts_as_the_full_pattern(text: str) -> None:
    assert count_words(text) == len(_WORD.findall(text))


def test_word_count_counts_what_a_reader_counts() -> None:
    assert count_words("It’s a well-known fact: 3 ferries.") == 6
    assert count_words("日本語 text") == 4


def test_text_start_is_the_start_of_the_squeezed_text() -> None:
    checked = 0
    for page in _pages():
        tree = page.tree
        for element in tree.iter("div", "p", "article", "section", "h1", "body"):
            full = " ".join(element.text_content().split())
            for size in (0, 1, 40, 120, 10_000):
                start = _text_start(element, size)
                assert full.startswith(start)
                assert len(start) >= min(size, len(full))
                checked += 1
    assert checked > 1000


def test_other_stories_stems_rule_out_only_what_the_full_pattern_rules_out() -> None:
    values = [
        *VALUES,
        "related-posts",
        "relatedArticles",
        "post_comments",
        "has-comments",
        "content-sidebar-wrap",
        "RELATED-links",
        "Recommendations-box",
        "node--promoted",
        "c-teaser",
        "more-stories-widget",
        "Kommentare-newsletter",
        "sidebar",
    ]
    found = [value for value in values if OTHER_STORIES.search(value)]
    assert found == [value for value in values if OTHER_STORIES.pattern.search(value)]
    # written down from the rule: whole tokens, heads or tails of a token, not flags
    # ("has-comments") or middles ("c-article-related-articles__item", "content-sidebar-wrap")
    assert found == [
        "NEWSLETTER-box",
        "newsletter_signup",
        "related-posts",
        "relatedArticles",
        "post_comments",
        "RELATED-links",
        "Recommendations-box",
        "c-teaser",
        "more-stories-widget",
        "Kommentare-newsletter",
        "sidebar",
    ]


def test_pruned_copy_from_the_pages_values_removes_what_the_walk_over_every_element_removes() -> None:
    removed_any = False
    for page in _pages():
        plain = lxml.html.tostring(pruned_copy(page.tree))
        assert lxml.html.tostring(pruned_copy(page.tree, (), page.named)) == plain, page.url
        removed_any = removed_any or len(plain) < len(lxml.html.tostring(page.tree))
    assert removed_any
