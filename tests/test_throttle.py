"""AutoThrottle's delay after the answers of a host: a fast 404 lowers it, a 503 or 429 never does."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.extensions.throttle import NewsAutoThrottle

START = 0.5  # settings/base.py's AUTOTHROTTLE_START_DELAY
LATENCY = 0.01  # a host that answers in 10 ms


def _delay_after(status: int, answers: int = 1) -> float:
    crawler = get_crawler(
        settings_dict={
            "AUTOTHROTTLE_ENABLED": True,
            "AUTOTHROTTLE_START_DELAY": START,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
            "DOWNLOAD_DELAY": 0,
        }
    )
    throttle = NewsAutoThrottle(crawler)
    throttle.mindelay, throttle.maxdelay = 0.0, 60.0
    slot = Slot(concurrency=4, delay=START, randomize_delay=False)
    for _ in range(answers):
        request = Request("http://127.0.0.1/s1/sitemap.xml", meta={"download_latency": LATENCY})
        throttle._adjust_delay(slot, LATENCY, Response(request.url, status=status, request=request))
    return slot.delay


@pytest.mark.parametrize("status", [200, 404, 410])
def test_a_fast_answer_that_the_page_is_there_or_gone_lowers_the_delay(status: int) -> None:
    # Scrapy's rule: halfway to latency / target concurrency, (0.5 + 0.005) / 2
    assert _delay_after(status) == pytest.approx(0.2525)
    # and after a dozen such answers the host is asked at the pace its latency allows
    assert _delay_after(status, answers=12) < 0.01


@pytest.mark.parametrize("status", [429, 500, 503, 403, 301])
def test_an_answer_of_a_struggling_or_refusing_server_never_lowers_it(status: int) -> None:
    assert _delay_after(status) == START
    assert _delay_after(status, answers=12) == START


def test_the_project_uses_it_in_place_of_scrapys() -> None:
    from settings import base  # noqa: PLC0415

    assert base.EXTENSIONS["scrapy.extensions.throttle.AutoThrottle"] is None
    assert "crawler.extensions.throttle.NewsAutoThrottle" in base.EXTENSIONS
