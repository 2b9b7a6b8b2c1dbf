"""A bug in the UI must not end the captioning.

An exception in a widget or screen handler, a timer or a repaint is logged with its
traceback, shown once as a toast, and the session goes on. Only a burst of them (the same
bug firing at every repaint) ends the app, and then through the clean path: the session
finishes as on q (the last turns, Terminate, the journal footer) and the app exits with
status 1 and a one-line reason, never a traceback on the user's terminal.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger("tui.ui")

BURST = 20  # this many errors ...
BURST_S = 10.0  # ... within this many seconds: the UI is not usable, end cleanly
TOAST_EVERY_S = 5.0  # the same error is shown again at most this often


def log_file() -> str | None:
    """Where the log goes, if to a file (tui.cli: the user state directory)."""
    for handler in logging.getLogger().handlers:
        name = getattr(handler, "baseFilename", None)
        if name and name != "/dev/null":
            return name
    return None


def closed_screen_race(error: BaseException) -> bool:
    """A worker's query found its widgets gone: the command palette's search still running as
    it closes (Textual 8.2.8, found by the monkey test). Nothing is broken; not worth a toast."""
    from textual.css.query import NoMatches
    from textual.worker import WorkerFailed

    return isinstance(error, WorkerFailed) and isinstance(error.error, NoMatches)


def summary(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


class ErrorGuard:
    """Decides what an unhandled exception in the UI does. `notify(text)` shows a toast,
    `abort(reason)` ends the app cleanly; both are the app's."""

    def __init__(self, notify: Callable[[str], None], abort: Callable[[str], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.notify, self.abort, self.clock = notify, abort, clock
        self.count = 0  # errors seen, contained or not
        self.ending: str | None = None  # the reason, once the app is ending because of them
        self._recent: deque[float] = deque()
        self._shown: dict[str, float] = {}
        self._busy = False

    def handle(self, error: BaseException, where: str, fatal: bool = False) -> None:
        """fatal: the UI cannot go on (a widget failed to build): end now."""
        self.count += 1
        log.error("internal error in %s: %s", where, summary(error), exc_info=error)
        if self._busy or self.ending is not None:
            return  # an error while reporting one, or the app is already ending
        self._busy = True
        try:
            self._decide(error, fatal)
        finally:
            self._busy = False

    def _decide(self, error: BaseException, fatal: bool) -> None:
        now = self.clock()
        self._recent.append(now)
        while self._recent and now - self._recent[0] > BURST_S:
            self._recent.popleft()
        where_log = log_file()
        details = f"details in {where_log}" if where_log else "details in the log (--debug)"
        if fatal or len(self._recent) >= BURST:
            count = "" if fatal else f"{len(self._recent)} in {BURST_S:.0f} s; "
            self.ending = f"internal error: {summary(error)} ({count}{details})"
            self.abort(self.ending)
            return
        text = summary(error)
        if now - self._shown.get(text, -TOAST_EVERY_S) >= TOAST_EVERY_S:
            self._shown[text] = now
            self.notify(f"{text}. Captioning goes on; {details}.")
