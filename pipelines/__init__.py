"""Item pipelines, one module per step: extract → dates → validate → template lines →
dedupe → sink → template count; the work of one page in a worker process (``work.py``),
the Python API (``api.py``), and the extraction domain in ``extraction/``."""
