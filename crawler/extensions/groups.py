"""Takes the site group locks of a crawl (``crawlall --shard``, and any run over a shared state)
while it starts.

An extension, built after the run banner and before the engine: locks that cannot be taken at
all (the state unreachable, the lock file's folder not writable) raise a ValueError out of the
crawl's start, which the commands report as one line and exit code 2, not a traceback in the
middle of a run that then fetches nothing. The spider says which groups and drops the sources
of the groups another worker holds (``NewsDiscoverySpider.claim_groups``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class GroupClaim:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GroupClaim:
        claim = getattr(crawler.spider, "claim_groups", None)
        if claim is None:  # a spider without site groups (`crawl article`)
            raise NotConfigured
        claim()
        return cls()
