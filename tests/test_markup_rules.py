"""trafilatura's author, category and tag rules as ``pipelines/extraction/markup_rules.py`` reads them
give what trafilatura's own functions give: on every page of the demo site and of the test
pages, and on pages written for each rule (made-up sites). trafilatura is the reference;
the hand-written cases also state the answer a reader of the markup expects."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

import pytest
from lxml import html as lxml_html
from trafilatura.metadata import extract_author, extract_catstags

from crawler.pages.naming import NamedElements
from crawler.pages.page import _PARSER
from pipelines.extraction.markup_rules import catstags_candidates, find_author, find_catstags
from pipelines.extraction.prune import pruned_copy

REPO = Path(__file__).resolve().parent.parent
PAGES = [
    path
    for path in sorted([*REPO.glob("demo/site/**/*.html"), *REPO.glob("tests/pages/**/*.html")])
    if path.read_bytes().strip()
]


def _tree(markup: str | bytes) -> object:
    return lxml_html.document_fromstring(markup, parser=_PARSER)


def _ours(tree: object) -> tuple[object, list[str], list[str]]:
    return (
        find_author(tree, NamedElements(tree)),
        find_catstags("category", tree, catstags_candidates(NamedElements(tree, ("class", "id")))),
        find_catstags("tag", tree, catstags_candidates(NamedElements(tree, ("class", "id")))),
    )


def _theirs(tree: object) -> tuple[object, list[str], list[str]]:
    return extract_author(tree), extract_catstags("category", tree), extract_catstags("tag", tree)


def test_the_pages_have_what_the_rules_look_for() -> None:
    # else the comparison below would compare empty answers
    found = [_theirs(_tree(path.read_bytes())) for path in PAGES]
    assert len(PAGES) >= 40
    assert sum(author is not None for author, _, _ in found) >= 10
    assert sum(bool(categories) for _, categories, _ in found) >= 1


@pytest.mark.parametrize("path", PAGES, ids=lambda path: str(path.relative_to(REPO)))
def test_same_answers_as_trafilatura_on_real_markup(path: Path) -> None:
    tree = _tree(path.read_bytes())
    assert _ours(tree) == _theirs(tree)
    pruned = pruned_copy(tree)
    assert _ours(pruned) == _theirs(pruned)


def _page(body: str) -> str:
    return f"<html><head><title>Harbour news</title></head><body>{body}</body></html>"


CASES = {
    # rule 1: rel="author" on a link
    "rel author": (_page('<p>By <a rel="author" href="/staff/ana">Ana Reyes</a></p>'), "Ana Reyes"),
    # rule 1 before rule 3: the class "author-name" wins over an earlier "writer" box
    "rules in order": (
        _page('<div class="writer-box">Team Harbour</div><span class="author-name">Ola Berg</span>'),
        "Ola Berg",
    ),
    # a name of 2 characters is too short, the next element counts
    "too short": (_page('<span class="author">Al</span><span class="author">Mia Holt</span>'), "Mia Holt"),
    # an <author> element
    "author tag": (_page("<author>Ines Vidal</author>"), "Ines Vidal"),
    # a <rel>me</rel> child, in trafilatura's rule since its early days (a name that starts
    # with a capital is left as it is)
    "rel me child": (_page("<p>Kai Lund<rel>me</rel></p>"), "Kai Lund me"),
    # the <rel> child compared as it reads without what the discard rule removes from it
    "rel me child, a quote in it": (
        _page('<p>Kai Lund<rel>me<span class="quote">!</span></rel></p>'),
        "Kai Lund me",
    ),
    # a byline inside comments is a commenter's
    "in comments": (_page('<div id="comments"><span class="author">Troll Anon</span></div>'), None),
    # a removed <time> inside the byline: its tail stays, joined to the name before it
    "time removed": (
        _page('<div class="byline"><span>Noor Haddad</span><time>May 3</time> and Leo Park</div>'),
        "Noor Haddad; Leo Park",
    ),
    # a removed share box inside the byline, between two names
    "share removed": (
        _page('<p class="byline">Eva Stone<span class="article-share">Share</span>, Max Rott</p>'),
        "Eva Stone; Max Rott",
    ),
    # itemprop="author" on a div, rule 2
    "itemprop": (_page('<div itemprop="author">Sara Lind</div>'), "Sara Lind"),
    # data-component="Byline", rule 3
    "data-component": (_page('<section data-component="Byline">Ben Okafor</section>'), "Ben Okafor"),
}


@pytest.mark.parametrize("name", CASES)
def test_author_rules(name: str) -> None:
    markup, expected = CASES[name]
    tree = _tree(markup)
    before = lxml_html.tostring(tree)
    assert find_author(tree, NamedElements(tree)) == expected
    assert extract_author(tree) == expected
    assert lxml_html.tostring(tree) == before  # the page itself is never changed


def test_content_after_the_documents_end_is_not_in_trafilaturas_copy() -> None:
    # libxml2 places a second <html> after the first one's end; a copy of the root leaves it out
    markup = _page("<p>Story</p>") + '<html><div class="author">Late Name</div></html>'
    tree = _tree(markup)
    assert len(tree.getroottree().xpath("//div[@class='author']")) == 1
    assert find_author(tree, NamedElements(tree)) == extract_author(deepcopy(tree))


CATSTAGS = {
    "entry-meta div": (
        _page(
            '<div class="entry-meta"><a href="/category/harbour/">Harbour</a><a href="/about/">About</a></div>'
        ),
        ["Harbour"],
        [],
    ),
    "nested matches, once each": (
        _page(
            '<div class="post-meta"><div class="meta-x"><a href="/category/ferries/">Ferries</a></div>'
            '<a href="/tag/boats/">Boats</a></div>'
        ),
        ["Ferries"],
        [],  # "post-meta" and "meta-x" are category rules' words; no tag rule takes them
    ),
    "cat-links span": (
        _page('<span class="cat-links"><a href="/categories/port/">Port</a></span>'),
        ["Port"],
        [],
    ),
    "tags-links": (_page('<span class="tags-links"><a href="/tags/tide/">Tide</a></span>'), [], ["Tide"]),
    "section meta": (
        '<html><head><meta property="article:section" content="Coast"></head><body><p>x</p></body></html>',
        ["Coast"],
        [],
    ),
}


@pytest.mark.parametrize("name", CATSTAGS)
def test_category_and_tag_rules(name: str) -> None:
    markup, categories, tags = CATSTAGS[name]
    tree = _tree(markup)
    candidates = catstags_candidates(NamedElements(tree, ("class", "id")))
    assert find_catstags("category", tree, candidates) == categories == extract_catstags("category", tree)
    assert find_catstags("tag", tree, candidates) == tags == extract_catstags("tag", tree)
