"""The Scrapy package of the news pipeline: spiders, page model, extensions.

Also what the item pipelines share with it (date parsing, the output tree, parts, S3
uploads): ``pipelines`` imports ``crawler``, never the reverse.
"""
