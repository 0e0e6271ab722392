"""One run's frame: the settings check and limits, logs, run ids, stats and drop counts,
and a shutdown within a bounded time."""
