"""``scrapy flush``: upload what waits in the S3 spool (parts of failed or killed runs).

Completes the parts a dead run left, records their articles in the state store,
and uploads every completed file of the spool for ``NEWS_OUTPUT``. Keys are the
same the run would have used, so an object that did reach S3 is overwritten,
never doubled. Exit code 0 when the spool is empty afterwards, 3 when files are
still waiting or S3 cannot be reached (an outage: try again later), 2 when the output is
not S3 or S3 refuses it (missing bucket, wrong credentials).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands._base import NewsCommand
from crawler.extensions.summary import EXIT_OK, EXIT_UPLOADS_PENDING, EXIT_USAGE
from crawler.output.parts import recover_parts
from crawler.output.s3 import S3ConfigurationError, S3UnreachableError, S3Uploader, describe, pending_uploads
from crawler.output.tree import (
    is_s3,
    prune_empty_dirs,
    recover,
    register_salvaged,
    spool_root,
    upload_confirmed,
    upload_order,
)
from crawler.run.runid import new_run_id
from crawler.run.settings_check import settings_problems
from crawler.state.access import open_store
from crawler.state.dsn import display, scrub
from crawler.state.store import is_database_url

if TYPE_CHECKING:
    import argparse


class Command(NewsCommand, ScrapyCommand):
    command_name = "flush"
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Upload the parts that wait in the S3 spool (after an S3 outage or a killed run)"

    def long_desc(self) -> str:
        return (__doc__ or "").strip()

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("flush takes no arguments")
        assert self.settings is not None
        settings = self.settings
        problems = self.start_problems + settings_problems(settings)
        if problems:
            print(
                f"flush: cannot start: {scrub('; '.join(problems), settings.get('NEWS_STATE'))}",
                file=sys.stderr,
            )
            self.exitcode = EXIT_USAGE
            return
        if not is_s3(settings.get("NEWS_OUTPUT")):
            print(
                f"flush: NEWS_OUTPUT={display(str(settings.get('NEWS_OUTPUT')))!r} is not s3://...; nothing to do",
                file=sys.stderr,
            )
            self.exitcode = EXIT_USAGE
            return
        root = spool_root(settings)
        try:
            uploader = S3Uploader.from_settings(settings)
            uploader.preflight(new_run_id())
        except S3ConfigurationError as exc:
            print(f"flush: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        except S3UnreachableError as exc:  # an outage, not a configuration error: try again later
            waiting = len(pending_uploads(root))
            print(f"flush: {exc}; {waiting} file(s) wait in {root}; try again later", file=sys.stderr)
            self.exitcode = EXIT_UPLOADS_PENDING
            return
        try:
            store = open_store(settings.get("NEWS_STATE")) if settings.getbool("NEWS_STATE_ENABLED") else None
        except ValueError as exc:  # the state cannot be opened: one line, never its password
            print(f"flush: cannot start: {scrub(str(exc), settings.get('NEWS_STATE'))}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        # a state shared by throwaway workers: articles count as emitted once the bucket has their part
        confirmed = store is not None and is_database_url(settings.get("NEWS_STATE"))
        if confirmed:
            assert store is not None
            recovered = recover_parts(root, register_salvaged(store, uploader, root))
        else:
            recovered = recover(root, store)
        uploaded = failed = 0
        for path in pending_uploads(root):
            try:
                for file in upload_order(path):  # a part after the WARC file of its pages
                    if confirmed:
                        assert store is not None
                        upload_confirmed(store, uploader, root, file, registered=False)
                    else:
                        uploader.upload(file, file.relative_to(root).as_posix())
                    uploaded += 1
                prune_empty_dirs(path.parent, root)
            except Exception as exc:
                failed += 1
                print(f"flush: {path.relative_to(root)}: {describe(exc, uploader.location)}", file=sys.stderr)
        left = len(pending_uploads(root))
        print(
            f"flush: {uploaded} uploaded to {uploader.location}, {failed} failed, {left} waiting in {root}"
            + (f" ({len(recovered)} interrupted parts completed)" if recovered else "")
        )
        self.exitcode = EXIT_OK if left == 0 else EXIT_UPLOADS_PENDING
