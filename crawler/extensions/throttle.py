"""AutoThrottle that a host's fast "not found" answers may speed up, as its pages do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.extensions.throttle import AutoThrottle

if TYPE_CHECKING:
    from scrapy.core.downloader import Slot
    from scrapy.http import Response

# Answers that say the URL is gone, not that the server struggles: a sitemap or feed that
# moved, an old article. Scrapy lets only a 200 lower the delay, since error pages are small
# and would make an overloaded server look fast; but a host whose sources all answer 404
# then keeps the start delay for the whole run (3,000 sources with a missing sitemap on one
# host: 25 minutes of waiting). A 429 or a 5xx still never lowers it.
_GONE = frozenset({404, 410})


class NewsAutoThrottle(AutoThrottle):
    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        if response.status not in _GONE:
            super()._adjust_delay(slot, latency, response)
            return
        # Scrapy's rule for a 200 (scrapy/extensions/throttle.py), applied to the gone answers
        target_delay = latency / self.target_concurrency
        new_delay = max(target_delay, (slot.delay + target_delay) / 2.0)
        slot.delay = min(max(self.mindelay, new_delay), self.maxdelay)
