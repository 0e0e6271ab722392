"""Refuses requests to hosts that resolve to non-public addresses.

A crawler that follows links from the open web must not be turned against the
machine it runs on or its private network (loopback, RFC 1918, link-local and
cloud metadata endpoints such as 169.254.169.254). Requests whose host resolves
to any such address are dropped and counted as ``news/dropped/blocked_address``,
unless ``NEWS_ALLOW_PRIVATE_NETWORKS`` is true (the demo and the tests set it).
Redirects pass through here again, so a public page cannot redirect inward.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.drops import count_drop

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

_CACHE_SECONDS = 300.0


class BlockedAddress(IgnoreRequest):
    """The request's host resolves to a loopback, private, link-local or reserved address."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class AddressGuardMiddleware:
    def __init__(self, stats: StatsCollector):
        self.stats = stats
        self._cache: dict[str, tuple[float, bool, str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        if crawler.settings.getbool("NEWS_ALLOW_PRIVATE_NETWORKS"):
            raise NotConfigured("NEWS_ALLOW_PRIVATE_NETWORKS is on")
        return cls(crawler.stats)

    async def process_request(self, request: Request) -> None:
        host = urlsplit(request.url).hostname
        if not host:
            return
        public, detail = await self._check(host)
        if not public:
            count_drop(
                self.stats, "blocked_address", request.url, detail, source=request.meta.get("news_source")
            )
            raise BlockedAddress(f"{host} resolves to a non-public address ({detail})")

    async def _check(self, host: str) -> tuple[bool, str]:
        cached = self._cache.get(host)
        if cached and cached[0] > time.monotonic():
            return cached[1], cached[2]
        try:
            addresses = [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except OSError:
                # unresolvable: let the download fail and be counted as a fetch error
                return True, "unresolved"
            addresses = sorted({info[4][0] for info in infos})
        blocked = [address for address in addresses if not is_public(address)]
        result = (not blocked, ", ".join(blocked) or ", ".join(addresses))
        self._cache[host] = (time.monotonic() + _CACHE_SECONDS, *result)
        return result
