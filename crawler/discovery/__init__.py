"""Where pages come from: the sources file, feeds, sitemaps, web archives, the URL rules,
and whether a page is an article or a listing."""
