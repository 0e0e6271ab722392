"""Scrapy middlewares: the loopback and private-address guard, counted offsite drops, the
contact User-Agent, Retry-After, bounded robots.txt and the seen-URL check."""
