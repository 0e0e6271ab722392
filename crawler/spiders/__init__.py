"""The spiders: news (sources, feeds, sitemaps, links), article (URLs given on the command
line) and archive (web archives), on one shared base."""
