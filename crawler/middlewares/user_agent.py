"""A User-Agent that names the product and, when configured, how to reach the operator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.useragent import UserAgentMiddleware

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def build_user_agent(template: str, contact: str) -> str:
    """``USER_AGENT`` with ``{contact}`` filled in, or its ``; +{contact}`` part removed."""
    if contact:
        return template.replace("{contact}", contact)
    return template.replace("; +{contact}", "").replace(" +{contact}", "").replace("{contact}", "")


class ContactUserAgentMiddleware(UserAgentMiddleware):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContactUserAgentMiddleware:
        settings = crawler.settings
        return cls(build_user_agent(settings["USER_AGENT"], settings.get("NEWS_CONTACT_URL", "")))
