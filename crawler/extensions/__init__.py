"""Scrapy extensions of a run: pacing per host, the start banner, progress, drop counts,
group claims, source health, the run summary and its metrics file."""
