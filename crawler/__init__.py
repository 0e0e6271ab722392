"""The Scrapy package of the news pipeline: spiders, page model, extensions."""
