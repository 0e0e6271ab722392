"""The ``news-ingest`` command's entry point, the same in an installed wheel and in a checkout."""

from __future__ import annotations

from importlib.util import find_spec


def main() -> None:
    if find_spec("news_ingest.crawler") is not None:  # installed from the wheel
        from news_ingest.crawler.cli import main as run  # noqa: PLC0415
    else:  # a checkout (`make install`): crawler/, pipelines/ and settings/ at the top
        from crawler.cli import main as run  # noqa: PLC0415
    run()


if __name__ == "__main__":
    main()
