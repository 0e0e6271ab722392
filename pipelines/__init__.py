"""Item pipelines: extract, dates, validate, sink."""
