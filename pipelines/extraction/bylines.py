"""The article's own byline, as the page shows it under (or above) the headline.

A page lists many names: the article's authors, the authors of the related stories
beside it, commenters, the editor of a newsletter box. Only the byline that belongs
to the headline counts: the first byline after the page's main ``<h1>``, and whatever
sits in the same block as it ("By <a>Jane Doe</a> and <a>Tom Roe</a>"). Some themes
give that line no class at all (``<p class="dateline">By Jane Doe | Published ...``):
a short line right after the headline that starts with "By" is a byline too.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree
from lxml.etree import XPath

from crawler.pages.naming import NamedElements
from pipelines.extraction.authors import clean_authors
from pipelines.extraction.placement import LowercaseWords, elements_named, in_document_order, in_other_box
from pipelines.extraction.text import normalized_length

# a class, id, rel or itemprop word that names the author
_BYLINE_WORDS = LowercaseWords(
    r"(?:^|[-_ ])(?:byline|author|authors|author-name|autor|autoren|auteur|signature|firma|writer|"
    r"news-author|story-author|contributor)(?:[-_ ]|$)"
)
_FIGURES = frozenset({"figure", "figcaption"})
_BYLINE_CHARS = 120
# a line that opens with "By ..." in the languages we see most, followed by a capital
_BY_LINE = re.compile(
    r"^\s*(?i:(?:written|posted|reported|words)\s+by|by|von|par|por|di|door|av|af|автор|от)"
    r"(?:\s*:\s*|\s+)[A-ZÀ-ÞА-ЯĀ-Ž]"
)
_H1S = XPath("//h1")
# The short lines that follow the headline, the first of them only: a byline sits right under it.
_HEADER_LINES = 80
_LINE_TAGS = frozenset({"p", "div", "span", "li", "address", "section"})
_BLOCK_TAGS = frozenset({"p", "div", "li"})


def following(element: Any) -> Any:
    """The elements after ``element`` in document order, its own descendants left out: XPath's
    ``following::*``, walked lazily, so that a caller who needs the first few stops there."""
    node = element
    while node is not None:
        for sibling in node.itersiblings(etree.Element):
            yield sibling
            yield from sibling.iterdescendants(etree.Element)
        node = node.getparent()


def _lines_after(headline: Any, prose: frozenset[Any] = frozenset()) -> list[Any]:
    """The first short lines after the headline: elements of a line's tag, holding no block,
    with 5 to 159 characters of text (as XPath's ``normalize-space`` counts them); up to the
    header's end, the second paragraph of ``prose`` (none after it is read as a byline)."""
    lines: list[Any] = []
    paragraphs = 0
    for element in following(headline):
        if element in prose:
            paragraphs += 1
            if paragraphs >= _HEADER_PARAGRAPHS:
                break
        if element.tag not in _LINE_TAGS or any(child.tag in _BLOCK_TAGS for child in element):
            continue
        if 4 < normalized_length(element.text_content()) < 160:
            lines.append(element)
            if len(lines) >= _HEADER_LINES:
                break
    return lines


# where the article's text begins: the header, and its byline, end there
_LONG_PARAGRAPHS = XPath("//p[string-length(normalize-space(.)) >= 120]")
_HEADER_PARAGRAPHS = 2


def main_headline(tree: Any) -> Any | None:
    """The page's first ``<h1>`` outside navigation, sidebars and boxes of other stories."""
    return next((h1 for h1 in _H1S(tree) if not in_other_box(h1)), None)


def _is_byline(element: Any) -> bool:
    """Whether an element named as a byline reads as the article's: a short line, outside the
    boxes of other stories and outside a figure."""
    return (
        len(" ".join(element.text_content().split())) < _BYLINE_CHARS
        and not in_other_box(element)
        and not _in_figure(element)
    )


def _in_figure(element: Any) -> bool:
    """A byline in a figure's caption credits the photo or the audio, not the article."""
    return any(ancestor.tag in _FIGURES for ancestor in element.iterancestors())


def element_text(element: Any) -> str:
    """Text with a space between the pieces of different elements: "By<a>Jane Doe</a>"
    reads "By Jane Doe", and "Jane Doe<span>Washington Post</span>" two names, not one."""
    return " ".join(" ".join(piece.split()) for piece in element.itertext() if piece.strip())


def _names(element: Any) -> bool:
    return bool(clean_authors([element_text(element)], lowercase=True))


def _inside(element: Any, block: Any) -> bool:
    return any(ancestor is block for ancestor in element.iterancestors())


def _same_block(first: Any, other: Any, levels: int = 3) -> bool:
    ancestors = set()
    node = first
    for _ in range(levels + 1):
        if node is None:
            break
        ancestors.add(node)
        node = node.getparent()
    node = other
    for _ in range(levels + 1):
        if node is None:
            return False
        if node in ancestors:
            return True
        node = node.getparent()
    return False


def visible_bylines(tree: Any, named: NamedElements | None = None) -> list[str]:
    """The texts of the article's byline elements, nearest to the headline first; ``named``
    is the tree's (``Page.named``), made here when not given."""
    # only elements that hold a name: a "By" label, a job title or the date in a byline
    # element of its own says nothing about who wrote the piece, its wrapper does
    candidates = elements_named(named or NamedElements(tree), _BYLINE_WORDS, rel_and_itemprop=True)
    matches = [element for element in candidates if _is_byline(element) and _names(element)]
    inner = set(matches)
    # of nested byline elements only the innermost, so that wrappers do not repeat them
    bylines = {m for m in matches if not any(d in inner for d in m.iterdescendants())}
    headline = main_headline(tree)
    prose = [p for p in _LONG_PARAGRAPHS(tree)[:50] if not in_other_box(p)]
    prose_set = frozenset(prose)
    # a byline element long enough to be prose still counts as the byline, below
    header_end = prose_set - bylines
    lines_after = (
        [] if headline is None else [e for e in _lines_after(headline, header_end) if not in_other_box(e)]
    )
    line_set = set(lines_after)
    started = headline is None
    in_header = True
    prose_seen = 0
    before: list[Any] = []
    after: list[Any] = []
    lines: list[Any] = []
    order: dict[Any, int] = {}
    heads = [headline] if headline is not None else []
    for index, element in enumerate(in_document_order(tree, heads, list(bylines), lines_after, prose)):
        order[element] = index
        if element is headline:
            started = True
        elif element in bylines:
            (after if started else before).append(element)
        elif started and element in prose_set:
            # a byline may follow the lead paragraph; none follows the second
            prose_seen += 1
            in_header = prose_seen < _HEADER_PARAGRAPHS
        elif in_header and element in line_set and _BY_LINE.match(element_text(element)):
            lines.append(element)
    # the innermost "By" line: a wrapper also holds the date and the section links
    found = set(lines) | bylines
    lines = [line for line in lines if not any(d in found for d in line.iterdescendants())]
    candidates = after or before
    if lines and (not after or order[lines[0]] < order[after[0]] or _inside(lines[0], after[0])):
        # a "By ..." line under the headline comes before any author box further down; inside
        # the byline block it is the name alone, without the desk and the date beside it
        return [element_text(lines[0])]
    if not candidates:
        return []
    first = candidates[0]
    texts: list[str] = []
    for element in candidates:
        if element is first or _same_block(first, element):
            text = element_text(element)
            if text and text not in texts:
                texts.append(text)
    return texts


# An explicit author label, anywhere in the article: "Written by Jane Doe" in an author box
# under the text ("By" alone is left out: "Photos by", "Sponsored by" end in it too)
_LABEL_TEXTS = XPath(
    "//text()[starts-with(normalize-space(), 'Written by') or starts-with(normalize-space(), 'Written By')"
    " or starts-with(normalize-space(), 'WRITTEN BY') or starts-with(normalize-space(), 'Article by')"
    " or starts-with(normalize-space(), 'Article By') or starts-with(normalize-space(), 'Authored by')]"
)
_LABELLED_LINES = 3
# what every such text holds; the document's text is searched once before the costly XPath,
# which normalises every text node of the page six times
_LABEL_WORDS = re.compile(r"(?:Written|WRITTEN|Article|Authored)[ \t\r\n]+(?:by|By|BY)")
_DOCUMENT_TEXT = XPath("string(/)")


def labelled_lines(tree: Any) -> list[str]:
    """The lines that name the author with an explicit label ("Written by Jane Doe"), in page
    order, outside boxes of other stories: the byline of last resort, under the text or not."""
    found: list[str] = []
    if not _LABEL_WORDS.search(_DOCUMENT_TEXT(tree)):
        return found
    for text in _LABEL_TEXTS(tree):
        element = text.getparent()
        if element is not None and text.is_tail:
            # text after a child ("<b>Opinion</b> Written by ...") is its parent's, and the line
            # starts at the label
            element = element.getparent()
        if element is None or not isinstance(element.tag, str) or element.tag in ("script", "style"):
            continue
        # "Written by" in a label element of its own: the name is beside it, in the parent
        line = element_text(element)
        if text.is_tail:
            label = " ".join(text.split())
            line = line[line.find(label) :] if label in line else line
        if line.rstrip(" :").casefold() in {"written by", "article by", "authored by"}:
            element = element.getparent()
            line = element_text(element) if element is not None else ""
        if line and len(line) < _BYLINE_CHARS and not in_other_box(element) and line not in found:
            found.append(line)
        if len(found) >= _LABELLED_LINES:
            break
    return found
