"""news-ingest: news articles from feeds, sitemaps and sites, as clean JSONL on disk or S3.

Installed from the wheel, the product's packages live inside this one (``news_ingest.crawler``,
``news_ingest.pipelines``, ``news_ingest.settings``), so that they never meet another
distribution's ``settings`` or ``crawler`` in a user's environment (``setup.py`` moves them
there when it builds the wheel). In a checkout they are the folders at the top of the repository.
"""
