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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from crawler.run.drops import count_drop

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

_CACHE_SECONDS = 300.0


class BlockedAddress(IgnoreRequest):
    """The request's host resolves to a loopback, private, link-local or reserved address."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address leads to: mapped, 6to4, Teredo, NAT64, IPv4-compatible."""
    embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _NAT64 or (int(ip) >> 32 == 0 and int(ip) > 1):
        embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in embedded if address is not None]


def is_public(address: str) -> bool:
    """A global unicast address that leads nowhere private, however it is written."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return all(is_public(str(inner)) for inner in _embedded_ipv4(ip))
    return True


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's resolver, refusing names that resolve to non-public addresses.

    The middleware below checks and counts before a request is sent; this checks
    the very address the connection will use (DNS answers can change between two
    look-ups), so a name that rebinds to an internal address cannot get through.
    """

    allow_private = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = crawler.settings.getbool("NEWS_ALLOW_PRIVATE_NETWORKS")
        return resolver

    def getHostByName(self, name: str, timeout: Any = ()) -> Deferred[str]:
        result = super().getHostByName(name, timeout)
        if not self.allow_private:
            result.addCallback(self._refuse_private, name)
        return result

    @staticmethod
    def _refuse_private(address: str, name: str) -> str:
        if not is_public(address):
            # Twisted reports this as a failed look-up; the log says why
            logger.warning("Refused %(name)s: it resolves to the non-public address %(address)s",
                           {"name": name, "address": address})  # fmt: skip
            raise DNSLookupError(f"{name} resolves to the non-public address {address}; refused")
        return address


class AddressGuardMiddleware:
    def __init__(self, stats: StatsCollector):
        self.stats = stats
        self._cache: dict[str, tuple[float, bool, str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        if crawler.settings.getbool("NEWS_ALLOW_PRIVATE_NETWORKS"):
            raise NotConfigured  # NEWS_ALLOW_PRIVATE_NETWORKS is on (off by choice: no warning)
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
