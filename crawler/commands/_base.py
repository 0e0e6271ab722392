"""What every command of the product shares: the checks of its command line before anything
starts (the log file, ``-o``/``-O`` targets), and one line instead of a traceback when it fails.

A check that fails is kept in ``start_problems``: the command reports it as its other start
problems (``<command>: cannot start: ...``, exit code 2). An unwritable ``LOG_FILE`` is
dropped at once, so that the line reaches stderr instead of a traceback from the log setup.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from scrapy.exceptions import UsageError

from crawler.extensions.summary import EXIT_FAILED

if TYPE_CHECKING:
    import argparse

logger = logging.getLogger(__name__)


def unwritable(path: str, keep: bool = True) -> str | None:
    """Why ``path`` cannot be opened for appending, or None. A file that did not exist before is
    removed again unless ``keep`` (a log file is created by the run anyway)."""
    target = Path(path).expanduser()
    if not target.parent.is_dir():
        return f"its folder {target.parent} does not exist"
    if target.is_dir():
        return "it is a folder"
    existed = os.path.lexists(target)  # a dangling link counts: opening it makes its target
    try:
        with open(target, "ab"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    if not existed and not keep:
        target.unlink(missing_ok=True)
    return None


def feed_problem(target: Path) -> str | None:
    """Why Scrapy's file storage could not write ``target``, found without making anything: it
    makes the missing folders itself, so the nearest existing one must be a writable folder."""
    if target.parent.is_dir():
        return unwritable(str(target), keep=False)
    folder = target.parent
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    return None


def local_feed_path(uri: str) -> str | None:
    """The file a ``-o``/``-O`` feed URI writes to, when it is a local file."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return parsed.path
    if not parsed.scheme or (len(parsed.scheme) == 1 and uri[1:2] == ":"):  # a path (or C:\...)
        return uri
    return None


class NewsCommand:
    """The product's part of a command (``crawlall``, ``crawl``, ``flush``, ``sources``), mixed in
    before Scrapy's command class: not a command itself, so Scrapy's command listing passes it by."""

    requires_project = True
    command_name = ""
    settings: Any
    exitcode: int

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)  # type: ignore[misc]
        assert self.settings is not None
        self.start_problems: list[str] = []
        log_file = self.settings.get("LOG_FILE")
        if log_file:
            problem = unwritable(str(log_file))
            if problem:
                self.start_problems.append(f"LOG_FILE={log_file}: cannot write the log there: {problem}")
                self.settings.set("LOG_FILE", None, priority="cmdline")
        for uri in self.settings.getdict("FEEDS"):
            path = local_feed_path(str(uri))
            if path is None or path == "-" or "%(" in path:  # %(time)s and the like: named at the start
                continue
            problem = feed_problem(Path(path).expanduser())
            if problem:
                self.start_problems.append(f"-o/-O {path}: cannot write there: {problem}")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            self.run_command(args, opts)
        except UsageError:  # Scrapy prints the usage for it
            raise
        except Exception as exc:
            self.exitcode = unexpected_error(self.command_name, exc, self.settings)

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        raise NotImplementedError


def unexpected_error(command: str, exc: BaseException, settings: object) -> int:
    """One line for a failure nobody planned for (a bug): the traceback goes to the log at DEBUG."""
    get = getattr(settings, "get", lambda name, default=None: default)
    log_file, level = get("LOG_FILE"), str(get("LOG_LEVEL", "INFO")).upper()
    where = f"in {log_file}" if log_file else "with -L DEBUG"
    line = (
        f"{command}: unexpected error: {type(exc).__name__}: {exc} "
        f"(the traceback is logged at DEBUG: see it {where})"
    )
    if logging.getLogger().handlers:
        logger.debug("%(command)s: traceback of the unexpected error", {"command": command}, exc_info=exc)
        logger.error("%s", line)
    else:  # a command that sets up no logging (flush, sources)
        if level == "DEBUG":
            traceback.print_exception(exc, file=sys.stderr)
        print(line, file=sys.stderr)
    return EXIT_FAILED
