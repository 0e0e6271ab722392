"""The fair title metric of the quality benchmark: a page's own headline forms.

Corpora differ on which of a page's headlines is "the" title: one annotator took the
``<h1>``, another ``og:title``. Where the page itself gives both, either is fair. So a
predicted title counts as fair when it equals the true one after folding case,
punctuation and quotes, or when the truth and the prediction are both among the page's
headline forms: each ``<h1>`` outside the site's navigation, header, footer and asides,
``og:title``, ``twitter:title``, JSON-LD ``headline`` and ``<title>``, each also with one
leading or trailing segment taken off where that segment is the site's name (its
``og:site_name``, its host name) or what is left is another of the forms ("Headline | Brand"
beside an ``<h1>`` "Headline"): the whole string is then no form, as it holds the site
name. A form that is only the site's name, or a label of at most three words that shares no word with
the page's other forms (a section name, a brand), is no headline.

A clear error is a prediction that is none of the page's headline forms and not the
truth either (the site name left in or taken as the title, a section label, another
string), or no title at all (a dropped page).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import lxml.html

from crawler.pages.page import decode_body

# separators between a headline and a site name in <title> and og:title
_SEPARATOR = re.compile(r"\s+(?:[|\-\u2013\u2014\u00b7\u2022\u00bb/]|::)\s+|\s*[|\u00b7\u2022\u00bb]\s*")
_WORD = re.compile(r"\w+")
_LABEL_WORDS = 3
_PARSER = lxml.html.HTMLParser(encoding="utf-8")
# an <h1> inside these is the site's chrome, not the page's headline
_CHROME = ("nav", "footer", "aside")
_CONTENT = ("article", "main")


def fair_fold(text: str | None) -> str:
    """Words only, case and Unicode compatibility forms folded: punctuation and quotes out."""
    folded = unicodedata.normalize("NFKC", (text or "").replace("\u00ad", "")).casefold()
    return " ".join(_WORD.findall(folded))


def _json_ld_headlines(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        headline = value.get("headline")
        if isinstance(headline, str):
            yield headline
        for item in value.values():
            if isinstance(item, (dict, list)):
                yield from _json_ld_headlines(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_ld_headlines(item)


def _in_chrome(element: Any) -> bool:
    ancestors = [parent.tag for parent in element.iterancestors() if isinstance(parent.tag, str)]
    if any(tag in _CHROME for tag in ancestors):
        return True
    # the site's header, not an article's own <header>
    return "header" in ancestors and not any(tag in _CONTENT for tag in ancestors)


def raw_forms(html: bytes | str) -> tuple[list[str], list[str]]:
    """The page's headline strings as written, and the names it gives the site."""
    if isinstance(html, bytes):  # as the crawl decodes it: the charset declared, sniffed, corrected
        html = decode_body(html, None)[0]
    try:
        tree = lxml.html.fromstring(html.encode("utf-8"), parser=_PARSER)
    except (ValueError, lxml.etree.ParserError):
        return [], []
    forms: list[str] = []
    for h1 in tree.iter("h1"):
        if not _in_chrome(h1):
            forms.append(h1.text_content())
    for key in ("og:title", "twitter:title"):
        for meta in tree.xpath(f'//meta[@property="{key}" or @name="{key}"]/@content'):
            forms.append(str(meta))
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            forms += _json_ld_headlines(json.loads(script.text_content()))
        except ValueError:
            continue
    forms += [title.text_content() for title in tree.iter("title")][:1]
    names = [
        str(value)
        for value in tree.xpath(
            '//meta[@property="og:site_name" or @name="application-name" or @name="og:site_name"]/@content'
        )
    ]
    return [" ".join(form.split()) for form in forms if form.strip()], names


def headline_forms(html: bytes | str, url: str = "") -> set[str]:
    """The page's headline forms, folded (see the module docstring)."""
    raw, names = raw_forms(html)
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    labels = [label for label in host.replace("-", ".").split(".")[:-1] if len(label) > 3]
    site = {fair_fold(name) for name in names} - {""}
    site_words = {word for name in site for word in name.split()} | set(labels)

    def is_site(segment: str) -> bool:
        folded = fair_fold(segment)
        squashed = folded.replace(" ", "")
        return bool(folded) and (
            folded in site
            or set(folded.split()) <= site_words
            or any(label in squashed or (len(squashed) > 3 and squashed in label) for label in labels)
        )

    folded_raw = [fair_fold(form) for form in raw]
    variants: set[str] = set()
    for index, form in enumerate(raw):
        others = set(folded_raw[:index] + folded_raw[index + 1 :])
        segments = _SEPARATOR.split(form)
        if len(segments) > 1:
            # "Headline | Brand": only the headline is a form, the whole string is the site name left in
            # (folding takes the separators out with the rest of the punctuation)
            stripped = [
                (fair_fold(" ".join(segments[1:])), segments[0]),
                (fair_fold(" ".join(segments[:-1])), segments[-1]),
            ]
            named = [rest for rest, segment in stripped if rest in others or is_site(segment)]
            if named:
                variants.update(named)
                continue
        variants.add(folded_raw[index])
    # a whole form is the site's name only when it is that name, not when it holds a host label
    variants = {
        form for form in variants if form and form not in site and form.replace(" ", "") not in labels
    }
    words = {form: set(form.split()) for form in variants}
    return {
        form
        for form in variants
        if len(words[form]) > _LABEL_WORDS
        or len(variants) == 1
        or any(words[form] & words[other] for other in variants if other != form)
    }


def fair_match(truth: str, predicted: str | None, forms: set[str]) -> bool:
    if not predicted:
        return False
    mine, true = fair_fold(predicted), fair_fold(truth)
    return mine == true or (mine in forms and true in forms)


def clear_error(truth: str, predicted: str | None, forms: set[str]) -> bool:
    """No title, or one that is neither the truth nor any of the page's headline forms."""
    if not predicted:
        return True
    mine = fair_fold(predicted)
    return mine != fair_fold(truth) and mine not in forms
