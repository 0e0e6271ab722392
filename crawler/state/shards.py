"""Shards: which sources a `crawlall --shard I/N` worker crawls.

N workers (a Kubernetes Indexed Job, or cron on N hosts) each own a fixed part of the
sources file and share one state store. Sources that share a host or a registrable
domain (``news.bbc.co.uk`` and ``www.bbc.co.uk``) form one site group, so that a site's
politeness limits hold across the cluster: a site is only ever crawled by one worker.
Groups are assigned to shards by weight (the sum of their ``max_pages``), heaviest first,
each to the least loaded shard, ties broken by name: every worker computes the same
plan from the same sources file, with no coordinator.

Shard indexes count from 0, as Kubernetes' ``JOB_COMPLETION_INDEX`` does: ``0/4`` to ``3/4``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import tldextract

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crawler.discovery.sources import Source

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
# Kubernetes' own bound on an Indexed Job's completions; the sources' site groups bound it further
MAX_SHARDS = 100_000


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def tag(self) -> str:
        """The run-id suffix: ``s03of16``, so that parts and summaries of shards never collide."""
        width = len(str(self.count))
        return f"s{self.index:0{max(2, width)}d}of{self.count:0{max(2, width)}d}"


def parse_shard(text: str) -> Shard:
    """``I/N`` with 0 <= I < N <= ``MAX_SHARDS``; a ValueError that says what is wrong otherwise."""
    match = _SHARD.fullmatch(text or "")
    if match is None:
        raise ValueError(f"shard {text!r}: expected I/N, e.g. 0/4 (indexes count from 0)")
    if max(len(match.group(1).lstrip("0")), len(match.group(2).lstrip("0"))) > len(str(MAX_SHARDS)):
        raise ValueError(f"shard {text[:40]!r}: the count is at most {MAX_SHARDS}")
    index, count = int(match.group(1)), int(match.group(2))
    if count > MAX_SHARDS:
        raise ValueError(f"shard {text!r}: the count is at most {MAX_SHARDS}")
    if count < 1 or index >= count:
        raise ValueError(f"shard {text!r}: the index must be at least 0 and below the count {count}")
    return Shard(index, count)


@cache
def _extractor() -> tldextract.TLDExtract:
    # the public suffix list bundled with tldextract: no download, no cache files
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def site_of(host: str) -> str:
    """The registrable domain of a host (``bbc.co.uk``); an IP address or a bare name as it is."""
    host = host.lower().strip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    found = _extractor()(host)
    return found.top_domain_under_public_suffix or host


def sites_of(source: Source) -> set[str]:
    hosts = set(source.allowed_domains)
    for url in (*source.start_urls, *source.feeds, *source.sitemaps):
        hosts.add(urlsplit(url).hostname or "")
    return {site_of(host) for host in hosts if host}


def site_groups(sources: Iterable[Source]) -> dict[str, list[str]]:
    """Sources that share a site, transitively, as one group: its name (the group's first
    site in sorted order) to its source names."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    members: dict[str, list[str]] = {}
    for source in sources:
        sites = sorted(sites_of(source)) or [f"source:{source.name}"]
        for site in sites:
            parent.setdefault(site, site)
        first = root(sites[0])
        for site in sites[1:]:
            other = root(site)
            if other != first:
                parent[max(first, other)] = min(first, other)
                first = min(first, other)
        members.setdefault(sites[0], []).append(source.name)
    groups: dict[str, list[str]] = {}
    for site, names in members.items():
        groups.setdefault(root(site), []).extend(names)
    return {name: sorted(names) for name, names in sorted(groups.items())}


def plan(sources: dict[str, Source], count: int) -> list[dict[str, list[str]]]:
    """The site groups of each of ``count`` shards, balanced by the groups' ``max_pages``.

    Only shards that get a group are listed: with more shards than groups, each group has a
    shard of its own (the first ones) and the rest have nothing, so nothing is made per shard
    beyond the groups."""
    return _plan(sources, site_groups(sources.values()), count)


def _plan(sources: dict[str, Source], groups: dict[str, list[str]], count: int) -> list[dict[str, list[str]]]:
    count = min(count, len(groups))
    weight = {group: sum(sources[name].max_pages for name in names) for group, names in groups.items()}
    shards: list[dict[str, list[str]]] = [{} for _ in range(count)]
    load = [0] * count
    for group in sorted(groups, key=lambda g: (-weight[g], g)):
        target = min(range(count), key=lambda index: (load[index], index))
        shards[target][group] = groups[group]
        load[target] += weight[group]
    return shards


def groups_of(sources: dict[str, Source], shard: Shard) -> tuple[dict[str, list[str]], int]:
    """The site groups shard ``shard`` crawls, and the number of site groups of the sources.

    With more shards than groups, the plan is that of as many shards as there are groups: shard
    I below that keeps what it has, and the shards beyond have nothing. They are not an error:
    a sources file that loses a site must not stop every worker of an Indexed Job whose
    completions are fixed; the memory of a plan is bounded by the groups, whatever N."""
    groups = site_groups(sources.values())
    if shard.index >= len(groups):
        return {}, len(groups)
    return _plan(sources, groups, shard.count)[shard.index], len(groups)
