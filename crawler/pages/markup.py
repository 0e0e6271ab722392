"""What a hostile page's markup may cost before and after it is parsed: its size, its nodes, its depth.

Each bound reads the markup once, with C-speed counts deciding whether an ordinary page
needs reading at all, and cuts what holds no article text first: what is never text
(scripts, styles, inline ``data:`` images), repeats (a wall of tag links or ``<meta>``),
tags nested beyond any use. Text that stays keeps its paragraph breaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lxml import etree

# An attribute value of 4 KB or more (an inline data: image): the first thing cut from a page over
# the parse window. Unquoted values too; a quoted one never holds "<" or ">" in such markup.
_BULK_ATTRIBUTE = re.compile(r"""=\s*(?:"([^"<>]{4096,})"|'([^'<>]{4096,})'|([^\s"'<>=`]{4096,}))""")
_SPACE = frozenset(">/ \t\n\r\f")


def raw_text_contents(markup: str) -> Iterator[tuple[int, int, bool]]:
    """The contents of every ``<script>`` and ``<style>``: start, end, and whether it is JSON-LD."""
    lowered = markup.lower()  # same length: ASCII tags, positions shared
    position = lowered.find("<s")
    while position != -1:
        name = "script" if lowered.startswith("script", position + 1) else "style"
        after = position + 1 + len(name)
        named = lowered.startswith(name, position + 1) and lowered[after : after + 1] in _SPACE
        opened = lowered.find(">", position) if named else -1
        if opened == -1:
            position = lowered.find("<s", position + 2)
            continue
        closing = lowered.find("</" + name, opened)
        end = len(markup) if closing == -1 else closing
        yield opened + 1, end, "ld+json" in lowered[position:opened]
        if closing == -1:
            return
        position = lowered.find("<s", closing + 2)


@dataclass
class Window:
    """What ``fit_window`` made of a page's markup."""

    markup: str
    json_ld_skipped: int = 0  # JSON-LD blocks emptied
    truncated: bool = False


def fit_window(markup: str, limit: int, max_json_ld_chars: int) -> Window:
    """``markup`` made to fit ``limit`` characters, losing as little text as possible.

    What is never text goes first: ``<script>`` blocks over ``max_json_ld_chars`` (read by
    no one), then, largest first, other scripts, styles and attribute values of 4 KB or
    more, JSON-LD last. Only then is the markup cut: a 4 MB inline image or a row of
    near-limit scripts in front of the article must not push it past the cut.
    """
    window = Window(markup)
    spans: list[tuple[int, int, int]] = []  # (priority, start, end) of content that may go
    for start, end, json_ld in raw_text_contents(markup):
        if end - start > max_json_ld_chars:
            spans.append((-1, start, end))
            window.json_ld_skipped += json_ld
        elif end > start:
            spans.append((1 if json_ld else 0, start, end))
    raw = sorted((start, end) for _, start, end in spans)
    between = zip([0] + [end for _, end in raw], [start for start, _ in raw] + [len(markup)], strict=True)
    for begin, stop in between:  # attribute values, outside the scripts and styles
        for match in _BULK_ATTRIBUTE.finditer(markup, begin, stop):
            group = match.lastindex or 0
            spans.append((0, match.start(group), match.end(group)))
    excess = len(markup) - limit
    chosen: list[tuple[int, int]] = []
    for priority, start, end in sorted(spans, key=lambda span: (span[0], span[1] - span[2])):
        if priority >= 0 and excess <= 0:
            break
        chosen.append((start, end))
        excess -= end - start
        window.json_ld_skipped += priority == 1
    markup = _without(markup, sorted(chosen))
    if len(markup) > limit:
        markup = markup[:limit]
        window.truncated = True
    window.markup = markup
    return window


def _without(markup: str, spans: list[tuple[int, int]]) -> str:
    """``markup`` less the (sorted, disjoint) ``spans``."""
    if not spans:
        return markup
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces.append(markup[last:start])
        last = end
    pieces.append(markup[last:])
    return "".join(pieces)


# The start of what libxml2 makes a node of: a tag (its name, its attributes), a comment, or a
# doctype or processing instruction. What follows "<script>" and comments is found with str.find.
_MARKUP = re.compile(r"<(?:(/?)([a-zA-Z][a-zA-Z0-9:-]*)([^<>]*)>|(!--)|[!?])")
_RAW_TEXT = ("script", "style")
_ATTRIBUTE = re.compile(r"""[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>`]+))?""")
# libxml2 checks each attribute of a tag against all those before it: 40,000 attributes in one
# tag take 12 s to parse. A tag keeps this many; no real one has more than a few dozen.
MAX_ATTRIBUTES = 256
_UNCHECKED_ATTRIBUTES = 20_000  # "=" in a page read without a census (2 in the corpora have more)
_SPACES_COUNTED = 1_000_000  # characters of a page whose spaces are counted
_VOID = frozenset(
    [
        "area",
        "base",
        "basefont",
        "br",
        "col",
        "embed",
        "frame",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
# An element whose end tag may be left out ends where one of these starts (HTML's implied end tags;
# libxml2 closes a link where the next one starts, too).
_ENDED_BY = {
    "a": ("a",),
    "p": ("p",),
    "li": ("li",),
    "dt": ("dt", "dd"),
    "dd": ("dt", "dd"),
    "option": ("option",),
    "td": ("td", "th"),
    "th": ("td", "th"),
    "tr": ("tr", "td", "th"),
}
# How far down the open elements an end tag looks for its start tag (tag soup closes a few at once).
_CLOSE_SEARCH = 32


@dataclass(slots=True)
class _Open:
    """An element being read: where it starts, and what is inside it so far."""

    name: str
    start: int
    repeat: bool  # beyond max_siblings of its name under its parent
    nodes: int = 1  # itself, its attributes, its text and elements, less what was removed
    text: int = 0  # characters of text inside it, less what was removed
    children: dict[str, int] | None = None


def _tokens(markup: str) -> Iterator[tuple[int, int, str, str, bool]]:
    """Every tag and comment: start, end, name ("" for an end tag's closing slash: see below),
    attributes, whether it ends its element. An end tag comes as ("/" + name, ""); a comment
    as "#comment"; a script or style block whole, as one element."""
    lowered: str | None = None
    position = 0
    find, at = markup.find, _MARKUP.match  # str.find skips text in C, far faster than a regex search
    while (start := find("<", position)) != -1:
        match = at(markup, start)
        if match is None:  # a "<" in text
            position = start + 1
            continue
        position = match.end()
        if match.group(4):  # a comment
            end = markup.find("-->", position)
            position = len(markup) if end == -1 else end + 3
            yield start, position, "#comment", "", True
            continue
        name = match.group(2)
        if name is None:  # a doctype or processing instruction: no node that counts
            end = markup.find(">", position)
            position = len(markup) if end == -1 else end + 1
            continue
        name = name.lower()
        attributes = match.group(3)
        if match.group(1):
            yield start, position, "/" + name, "", False
            continue
        empty = attributes.endswith("/") and not attributes.endswith("=/")  # not <a href=/>
        if name in _RAW_TEXT and not empty:
            if lowered is None:
                lowered = markup.lower()  # same length: ASCII tags, positions shared
            end = lowered.find("</" + name, position)
            end = -1 if end == -1 else lowered.find(">", end)
            position = len(markup) if end == -1 else end + 1
            empty = True
        yield start, position, name, attributes, empty


@dataclass
class NodeCensus:
    """What ``cap_nodes`` found in a page's markup, and the markup it leaves."""

    markup: str
    nodes: int  # elements, comments, attributes and text nodes in the markup as it came
    kept: int  # of them, left
    depth: int  # the deepest nesting seen
    attributes_capped: bool = False
    flattened: bool = False
    truncated: bool = False


def needs_census(markup: str, max_nodes: int) -> bool:
    """Whether ``markup`` may hold more than ``max_nodes`` nodes, or a tag of too many attributes:
    one to three counts in C, none on a page of up to ``2 * max_nodes`` characters (a node takes
    two at least: "<b>x", " a").

    Each element starts with a "<" and may be followed by a text node, and most attributes
    hold a "=": a tag of 20,000 of them parses in about a second. Attributes without a value
    are told by spaces, far fewer than ``3 * max_nodes`` on a real page; it takes a page of
    a million characters for them to cost as much as the bound allows.
    """
    if len(markup) <= 2 * max_nodes:
        return False
    tags = markup.count("<")
    if 2 * tags > max_nodes:
        return True
    equals = markup.count("=")
    if equals > _UNCHECKED_ATTRIBUTES or 2 * tags + equals > max_nodes:
        return True
    return len(markup) > _SPACES_COUNTED and markup.count(" ") > 3 * max_nodes


def cap_nodes(
    markup: str, max_nodes: int, max_depth: int, *, max_siblings: int = 100, prose: int = 80
) -> NodeCensus:
    """``markup`` with at most ``max_nodes`` nodes (elements, attributes, text), before a tree is built.

    Every node costs memory in the tree, its pruned copy and each of trafilatura's copies:
    118,000 tag links (2.8 MB of markup) took a worker to 800 MB. A tag keeps its first
    ``MAX_ATTRIBUTES`` attributes; then, until the page is within the bound, what goes is:
    (1) repeats, the elements beyond the first ``max_siblings`` of their name under one
    parent, with what is inside them, unless that holds ``prose`` characters of text (a
    link cloud or a wall of ``<meta>``, never a paragraph of the article); (2) the tags
    nested deeper than ``max_depth`` (``flatten_markup``); (3) what follows the node that
    reaches the bound. A page within the bound comes back as it was.
    """
    root = _Open("", 0, False)
    stack = [root]
    cuts: list[tuple[int, int]] = []  # repeats, in document order
    rewrites: list[tuple[int, int, str]] = []  # tags with too many attributes: their first ones
    total = removed = depth = previous = 0

    def close(element: _Open, end: int) -> None:
        nonlocal removed
        parent = stack[-1]
        if element.repeat and element.text < prose:
            while cuts and cuts[-1][0] >= element.start:
                cuts.pop()  # inside this one
            if cuts and cuts[-1][1] == element.start:
                element.start = cuts.pop()[0]  # a row of repeats: one span
            cuts.append((element.start, end))
            removed += element.nodes
        else:
            parent.nodes += element.nodes
            parent.text += element.text

    def child(name: str, start: int) -> _Open:
        parent = stack[-1]
        if parent.children is None:
            parent.children = {}
        seen = parent.children.get(name, 0)
        parent.children[name] = seen + 1
        return _Open(name, start, seen >= max_siblings)

    for start, end, name, attributes, empty in _tokens(markup):
        if start > previous:  # a text node; stripped when it may count as prose
            parent = stack[-1]
            parent.text += (
                len(markup[previous:start].strip()) if start - previous >= prose else start - previous
            )
            parent.nodes += 1
            total += 1
        previous = end
        if name[0] == "/":
            name = name[1:]
            for index in range(len(stack) - 1, max(0, len(stack) - 1 - _CLOSE_SEARCH), -1):
                if stack[index].name == name:
                    while len(stack) > index + 1:
                        close(stack.pop(), start)
                    close(stack.pop(), end)
                    break
            else:
                if name in ("p", "br"):  # a stray </p> or </br> makes an element
                    total += 1
                    close(child(name, start), end)
            continue
        ended_by = _ENDED_BY.get(name)
        while ended_by and stack[-1].name in ended_by:
            close(stack.pop(), start)
        element = child(name, start)
        count = len(attributes.split()) if attributes else 0
        if count > MAX_ATTRIBUTES:
            kept = " ".join(
                m.group()
                for _, m in zip(range(MAX_ATTRIBUTES), _ATTRIBUTE.finditer(attributes), strict=False)
            )
            after_name = start + 1 + len(name)
            rewrites.append((after_name, after_name + len(attributes), " " + kept))
            count = MAX_ATTRIBUTES
        element.nodes += count
        total += element.nodes
        if empty or name in _VOID:
            close(element, end)
        else:
            stack.append(element)
            depth = max(depth, len(stack) - 1)
    while len(stack) > 1:
        close(stack.pop(), len(markup))
    census = NodeCensus(markup, total, total, depth, attributes_capped=bool(rewrites))
    if total <= max_nodes:
        census.markup = _rewritten(markup, [], rewrites)
        return census
    census.kept -= removed
    census.markup = _rewritten(markup, cuts, rewrites)
    if census.kept > max_nodes and depth > max_depth:
        census.markup, unwrapped = flatten_markup(census.markup, max_depth)
        census.kept -= unwrapped
        census.flattened = True
    if census.kept > max_nodes:
        census.markup = _first_nodes(census.markup, max_nodes)
        census.kept = max_nodes
        census.truncated = True
    return census


def _rewritten(markup: str, cuts: list[tuple[int, int]], rewrites: list[tuple[int, int, str]]) -> str:
    """``markup`` without the ``cuts``, its tags of too many attributes shortened."""
    if not rewrites:
        return _without(markup, cuts)
    edits = sorted([(start, end, "") for start, end in cuts] + rewrites)
    pieces: list[str] = []
    last = 0
    for start, end, replacement in edits:
        if start < last:
            continue  # a tag inside a removed repeat
        pieces += (markup[last:start], replacement)
        last = end
    pieces.append(markup[last:])
    return "".join(pieces)


def _first_nodes(markup: str, count: int) -> str:
    """``markup`` up to the node that makes ``count``."""
    seen = 0
    for start, _, name, attributes, _ in _tokens(markup):
        if name[0] != "/":
            seen += 2 + len(attributes.split())  # with its attributes and the text after it
            if seen > count:
                return markup[:start]
    return markup


# Elements without an end tag, or whose end tag may be left out: they are not followed as
# nesting in the markup (every other element is, custom ones included).
_NOT_NESTING = _VOID | frozenset(
    [
        "p",
        "li",
        "dt",
        "dd",
        "option",
        "optgroup",
        "tr",
        "td",
        "th",
        "thead",
        "tbody",
        "tfoot",
        "colgroup",
        "caption",
        "rb",
        "rt",
        "rtc",
        "rp",
        "html",
        "head",
        "body",
    ]
)
# Elements kept when the tree is flattened: links (discovery needs them) and embedded media.
_KEEP_WHEN_FLATTENED = frozenset(
    ["a", "img", "br", "hr", "picture", "source", "video", "audio", "iframe", "script", "style"]
)
# Block elements: where a line of text ends. Flattening keeps their boundaries.
_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
# libxml2 stops building the tree at this depth (2048 with huge_tree) and drops the rest of the page.
PARSER_DEPTH = 2000
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)\b[^<>]*>")


@lru_cache(maxsize=8)
def _deeper_than(max_depth: int) -> etree.XPath:
    """Whether an element sits below ``max_depth`` levels: one step per level, evaluated in C."""
    return etree.XPath("boolean(" + "/*" * (max_depth + 1) + ")")


def depth_exceeds(tree: Any, max_depth: int) -> bool:
    return bool(_deeper_than(max_depth)(tree))


def _leaf_blocks(markup: str) -> bytearray:
    """For each opening tag that nests (in order): 1 when it is a block holding no other block."""
    leaf = bytearray()
    nesting: list[int] = []  # per open element: its index in ``leaf``, or -1 for an inline one
    blocks: list[int] = []  # the open blocks among them
    for match in _TAG.finditer(markup):
        closing, name = match.group(1), match.group(2).lower()
        block = name in _BLOCKS
        if block and not closing and blocks:
            leaf[blocks[-1]] = 0  # the nearest enclosing block holds a block
        if name in _NOT_NESTING:
            continue
        if not closing:
            nesting.append(len(leaf) if block else -1)
            if block:
                blocks.append(len(leaf))
            leaf.append(block)
        elif nesting and nesting.pop() != -1:
            blocks.pop()
    return leaf


def flatten_markup(markup: str, max_depth: int) -> tuple[str, int]:
    """The markup without the opening and closing tags nested deeper than ``max_depth``, and
    how many elements lost their tags.

    A decoy of thousands of nested elements before the article makes libxml2 stop
    parsing at its depth limit, and the article after it is lost; the text inside the
    removed tags stays, in place. A block that holds no other block (a headline, a
    paragraph) keeps its tags, one level deeper, and a removed block's boundary stays a
    line break: the article inside 50,000 ``<div>``s keeps its headline and paragraphs
    apart. Only for such pages: a tag left open shifts the count.
    """
    leaf = _leaf_blocks(markup)
    kept: list[bool] = []  # per open element: whether its tags stay
    depth = opened = removed = 0  # opened: the nesting start tags so far, an index into ``leaf``
    pieces: list[str] = []
    last = 0  # end of the markup copied so far
    previous = 0  # end of the previous tag
    text_since_break = False
    for match in _TAG.finditer(markup):
        closing, name = match.group(1), match.group(2).lower()
        if not text_since_break and match.start() > previous:
            text_since_break = not markup[previous : match.start()].isspace()
        previous = match.end()
        block = name in _BLOCKS
        if name in _NOT_NESTING:
            text_since_break = text_since_break and not block
            continue
        if not closing:
            keep = depth < max_depth or bool(leaf[opened])
            opened += 1
            kept.append(keep)
            depth += keep
            removed += not keep
        elif kept:
            keep = kept.pop()
            depth -= keep
        else:
            continue
        if keep:
            text_since_break = text_since_break and not block
            continue
        pieces.append(markup[last : match.start()])
        last = match.end()
        if text_since_break and block:
            pieces.append("<br>")  # the block's boundary: its text and what follows stay apart
            text_since_break = False
    pieces.append(markup[last:])
    return "".join(pieces), removed


def flatten_tree(tree: Any, max_depth: int) -> int:
    """Unwrap the elements nested deeper than ``max_depth`` (their text and children move up;
    links and media stay): extractors take seconds on such trees, or give up on them.

    A block that holds no other block (a paragraph, a headline) stays, one level below the
    limit once its ancestors are unwrapped, and an unwrapped block's text is set apart by a
    ``<br>``: flattening must not glue a headline to the body or sentences together."""
    deep: list[Any] = []
    depth = 0
    holds_block: list[bool] = [False]  # per open element: whether a block is below it
    for event, element in etree.iterwalk(tree, events=("start", "end")):
        if event == "start":
            depth += 1
            holds_block.append(False)
            continue
        depth -= 1
        below = holds_block.pop()
        tag = element.tag
        block = tag in _BLOCKS
        if block or below:
            holds_block[-1] = True
        leaf = block and not below
        if depth >= max_depth and isinstance(tag, str) and tag not in _KEEP_WHEN_FLATTENED and not leaf:
            deep.append(element)  # children before their parent: innermost first
    for element in deep:
        if element.tag in _BLOCKS:
            if element.text and not element.text.isspace():
                boundary = etree.Element("br")
                boundary.tail, element.text = element.text, None
                element.insert(0, boundary)
            if element.tail and not element.tail.isspace():
                element.append(etree.Element("br"))
        element.drop_tag()
    return len(deep)
