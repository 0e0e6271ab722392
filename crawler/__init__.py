"""The Scrapy package of the news pipeline, grouped by job.

Scrapy's own kinds of component keep a folder each: ``spiders/``, ``middlewares/``,
``extensions/``, ``commands/``. The rest is grouped by what it does: ``pages/`` (the page
model, which the item pipelines use too), ``discovery/`` (where pages come from),
``state/`` (what is remembered between runs), ``output/`` (where records go) and ``run/``
(one run's settings, logs, stats and shutdown). ``pipelines`` imports ``crawler``, never
the reverse (``tests/test_layout.py``).
"""
