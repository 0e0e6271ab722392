"""Peer (c2): newspaper4k's own multi-threaded download-and-parse over a list of URLs.

Run by bench/run.py with the Python of the peers' virtual environment
(bench/.peers/), never ours: newspaper4k's pins are its own. Usage:

    bench/.peers/bin/python bench/newspaper_peer.py URLS_FILE THREADS

Prints {"done": N}, the number of pages that gave a non-empty text.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import tldextract.tldextract
from newspaper import Article
from newspaper.mthreading import fetch_news

# Loopback only: tldextract would fetch the public suffix list from the internet; its
# bundled snapshot does the same job.
tldextract.tldextract.TLD_EXTRACTOR = tldextract.tldextract.TLDExtract(suffix_list_urls=())

# fetch_news keeps every parsed article (HTML and trees) until it returns: a user with
# thousands of URLs hands them over in batches, and so does this.
BATCH = 200


def main() -> None:
    urls = Path(sys.argv[1]).read_text(encoding="utf-8").split()
    threads = int(sys.argv[2])
    done = 0
    for start in range(0, len(urls), BATCH):
        # no image downloads to pick the top image: the fastest configuration it offers
        articles = [Article(url, fetch_images=False) for url in urls[start : start + BATCH]]
        done += sum(1 for article in fetch_news(articles, threads=threads) if article.text.strip())
    print(json.dumps({"done": done}))


if __name__ == "__main__":
    main()
