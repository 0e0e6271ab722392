"""The product's Scrapy commands: crawlall, crawl, archive, reprocess, flush and sources."""
