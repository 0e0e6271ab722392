from __future__ import annotations

from datetime import datetime, timezone

from crawler.pages.page import Page, decode_body

TEXT = "Économie : l'été à 12,5 millions d'€ – Bürgerbüro öffnet länger"


def test_utf8_bytes_declared_latin1_decode_as_utf8() -> None:
    text, encoding = decode_body(TEXT.encode("utf-8"), "iso-8859-1")
    assert text == TEXT and encoding == "utf-8"


def test_cp1252_bytes_declared_utf8_decode_as_cp1252() -> None:
    text, encoding = decode_body(TEXT.encode("cp1252"), "utf-8")
    assert text == TEXT and encoding == "cp1252"


def test_correct_declarations_are_kept() -> None:
    assert decode_body(TEXT.encode("utf-8"), "utf-8") == (TEXT, "utf_8")
    assert decode_body("Ελληνικά".encode("iso-8859-7"), "iso-8859-7")[0] == "Ελληνικά"


def test_empty_pages_have_no_tree_and_a_garbage_page_no_json_ld() -> None:
    now = datetime.now(timezone.utc)
    assert Page("http://127.0.0.1/", b"", now, "s").tree is None
    assert Page("http://127.0.0.1/", b"   \n", now, "s").tree is None
    binary = Page("http://127.0.0.1/", bytes(range(256)) * 10, now, "s")
    assert binary.json_ld == []
    # what keeps it out of the records: it is undecodable, and dropped so before extraction
    assert binary.undecodable is True


def test_json_ld_graph_is_flattened_and_bad_json_skipped() -> None:
    html = b"""<html><head><script type="application/ld+json">{"@graph": [{"@type": "WebSite"},
    {"@type": ["NewsArticle"], "headline": "H"}]}</script><script type="application/ld+json">{bad</script>
    </head><body></body></html>"""
    page = Page("http://127.0.0.1/", html, datetime.now(timezone.utc), "s")
    assert [obj["@type"] for obj in page.json_ld] == ["WebSite", ["NewsArticle"]]


def test_replacement_characters_the_page_holds_are_text_not_damage() -> None:
    now = datetime.now(timezone.utc)
    # valid UTF-8 whose CMS once lost an apostrophe: "that\ufffds" is in the page as written
    held = Page("http://127.0.0.1/", "<p>that\ufffds what it is</p>".encode(), now, "s", "utf-8")
    assert held.undecodable is False
    # bytes that are no UTF-8 and no other encoding either: every one of them replaced
    broken = Page("http://127.0.0.1/", b"<p>" + bytes(range(128, 256)) * 4 + b"</p>", now, "s", "utf-8")
    assert broken.undecodable is True


def test_content_after_a_premature_end_of_document_is_kept() -> None:
    # a header template that closes </body></html> before the article, as browsers forgive
    markup = (
        b"<html><head><title>T</title></head><body><nav><a href='/'>Home</a></nav></body></html>"
        b"<div class='post'><h1>Six types of outsourcing</h1><p>When defined simply, HR is about people.</p></div>"
    )
    page = Page("http://127.0.0.1/blog/six-types", markup, datetime.now(timezone.utc), "s", "utf-8")
    # libxml2 puts it beside the <html> element, out of the tree that extraction walks
    body = page.tree.find("body")
    assert body.xpath("string(.//h1)") == "Six types of outsourcing"
    assert body.xpath("string(.//div[@class='post']/p)") == "When defined simply, HR is about people."


def test_utf8_with_a_stray_cp1252_byte_stays_utf8() -> None:
    # a few accented words and one pasted cp1252 apostrophe (0x92): UTF-8 with one U+FFFD,
    # not a page in some other code page
    body = "Le café de la rue: l".encode() + b"\x92" + " ouverture du marché".encode()
    text, encoding = decode_body(body, "utf-8")
    assert encoding == "utf_8"
    assert text == "Le café de la rue: l\ufffd ouverture du marché"
    page = Page("http://127.0.0.1/", body, datetime.now(timezone.utc), "s", "utf-8")
    assert page.undecodable is False


def test_control_characters_leave_the_tree_and_the_text_around_them_stays() -> None:
    # U+0010 in a Latin page, U+FFFF in a Greek one (a string of two-byte characters), tab and
    # line feed (allowed in XML) kept; a page without any is parsed as it is
    now = datetime.now(timezone.utc)
    for paragraph, expected in (
        ("Ferry\x10 service resumes\x0b today", "Ferry service resumes today"),
        ("Το πλοίο\uffff επιστρέφει\ufffe σήμερα", "Το πλοίο επιστρέφει σήμερα"),
        ("Tabs\tand\nlines stay", "Tabs\tand\nlines stay"),
    ):
        html = f"<html><body><p>{paragraph}</p></body></html>".encode()
        tree = Page("http://127.0.0.1/a", html, now, "s", declared_encoding="utf-8").tree
        assert tree is not None
        assert tree.findtext(".//p") == expected
