"""The page model both sides share: a fetched page decoded and parsed once, what its markup
may cost, its elements by their naming values, and dates read from text."""
