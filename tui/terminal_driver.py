"""Textual's Linux terminal driver, with two changes for an app that runs all day.

Input: LinuxDriver's input thread woke ten times a second (select(0.1)) to see whether the
app was exiting and whether a lone Escape had timed out: idle wake-ups, 0.1-0.25 % of a core
(bench/RESULTS.md). Here it sleeps until a key comes, its parser's timeout is due, or
exit_event.set() writes to a wake-up pipe.

Output: Textual writes through a thread that dies at the first failed write (the terminal
closed under it) and then blocks the app forever once its queue of 30 is full: a captioner
whose terminal vanished while it waited for its last turns never exited. Here the loop's own
writes are joined and written once per loop iteration, from the loop (no thread hop, two
thread wake-ups less per repaint); a failed write marks the terminal gone and later output
is dropped. A stalled terminal blocks the loop, as Textual's full queue did a second later.

Written for Textual 8.2.8 (textual_hacks.WRITTEN_FOR); a release without these private names
gets LinuxDriver itself, and the name lands in textual_hacks.FALLBACKS.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import threading
from codecs import getincrementaldecoder

from tui.textual_hacks import fallback


class TerminalWriter:
    """In WriterThread's place: write() from any thread; the loop's writes are flushed once
    per loop iteration, another thread's at once."""

    def __init__(self, file) -> None:
        self._file = file
        self._lock = threading.Lock()
        self._parts: list[str] = []
        self._flush_due = False
        self.gone = False  # a write failed: the terminal has closed

    def write(self, text: str) -> None:
        with self._lock:
            if self.gone:
                return
            self._parts.append(text)
            if self._flush_due:
                return
            self._flush_due = True
        try:
            asyncio.get_running_loop().call_soon(self.flush)
        except RuntimeError:  # not the loop's thread (Textual's input thread answers queries)
            self.flush()

    def flush(self) -> None:
        with self._lock:
            self._flush_due = False
            if self.gone or not self._parts:
                return
            data = "".join(self._parts)
            self._parts.clear()
            try:
                self._file.write(data)
                self._file.flush()
            except (OSError, ValueError):  # EIO on a hung-up terminal, or a closed file
                self.gone = True

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._file.fileno()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self.flush()


def captioner_driver(driver_class: type) -> type:
    """The driver the app runs with: for Textual's LinuxDriver, the one described above."""
    try:
        from textual._parser import ParseError
        from textual._time import get_time
        from textual._xterm_parser import XTermParser
        from textual.drivers._writer_thread import WriterThread
        from textual.drivers.linux_driver import LinuxDriver
    except ImportError:
        fallback("textual.drivers.linux_driver")
        return driver_class
    if driver_class is not LinuxDriver:
        return driver_class  # Windows, textual-serve's web driver, a test driver
    if not all(hasattr(LinuxDriver, n) for n in ("run_input_thread", "process_message",
                                                 "start_application_mode")):
        fallback("LinuxDriver.run_input_thread")
        return driver_class
    return _linux_driver(LinuxDriver, WriterThread, XTermParser, ParseError, get_time)


class _WakingEvent(threading.Event):
    """exit_event: set() also wakes the input thread's select()."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.wake_fd: int | None = None  # the pipe's write end while the input thread runs

    def set(self) -> None:
        super().set()
        with self.lock:
            if self.wake_fd is not None:
                os.write(self.wake_fd, b"x")


def _linux_driver(LinuxDriver, WriterThread, XTermParser, ParseError, get_time) -> type:
    class CaptionerDriver(LinuxDriver):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._quiet = (isinstance(getattr(self, "exit_event", None), threading.Event)
                           and isinstance(getattr(self, "fileno", None), int))
            if self._quiet:
                self.exit_event = _WakingEvent()
            else:
                fallback("LinuxDriver.exit_event")

        def start_application_mode(self) -> None:
            super().start_application_mode()
            thread = getattr(self, "_writer_thread", None)
            if isinstance(thread, WriterThread) and hasattr(thread, "_file"):
                thread.stop()  # writes what it holds: the terminal set-up
                self._writer_thread = TerminalWriter(thread._file)
            else:
                fallback("LinuxDriver._writer_thread")

        def run_input_thread(self) -> None:
            """Textual 8.2.8's loop, with select() waiting as long as nothing is due."""
            if not self._quiet:
                return super().run_input_thread()
            wake_r, wake_w = os.pipe()
            with self.exit_event.lock:
                self.exit_event.wake_fd = wake_w
            selector = selectors.SelectSelector()
            selector.register(self.fileno, selectors.EVENT_READ)
            selector.register(wake_r, selectors.EVENT_READ)
            parser = XTermParser(getattr(self, "_debug", False))
            decode = getincrementaldecoder("utf-8")().decode

            def process(ready, final: bool = False) -> None:
                for key, _mask in ready:
                    if key.fd == wake_r:
                        os.read(wake_r, 64)
                        continue
                    data = decode(os.read(self.fileno, 1024 * 4), final=final)
                    if not data:  # stdin is a pipe at its end
                        break
                    for event in parser.feed(data):
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)

            def timeout() -> float | None:
                due = getattr(parser, "_timeout_time", 0.0)  # a lone Escape waits for more
                return None if due is None else max(due - get_time(), 0.0)

            try:
                while not self.exit_event.is_set():
                    process(selector.select(timeout()))
                selector.unregister(self.fileno)
                process(selector.select(0.1), final=True)
            finally:
                with self.exit_event.lock:
                    self.exit_event.wake_fd = None
                selector.close()
                os.close(wake_r)
                os.close(wake_w)
                try:
                    for _ in parser.feed(""):
                        pass
                except (EOFError, ParseError):
                    pass

    return CaptionerDriver
