"""The Textual app: CSS, app-wide keys, keymap, theme, signals and error routing.

The captioning itself (widgets, session worker) lives in tui.screens.main.MainScreen.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from types import SimpleNamespace

from textual.app import App
from textual.binding import Binding
from textual.messages import ExitApp

from tui import textual_hacks
from tui.config import Settings
from tui.captioning import EXIT_BAD_INPUT, EXIT_FAILED, RunOptions, SetupError
from tui.early_start import Started
from tui.screens.commands import CaptionCommands
from tui.screens.help import HelpScreen
from tui.screens.main import SYSTEM_CLOCK, MainScreen
from tui.terminal_driver import captioner_driver
from tui.ui_errors import ErrorGuard, closed_screen_race

log = logging.getLogger(__name__)


class CaptionerApp(textual_hacks.RoutedErrors, App[None]):
    CSS_PATH = "captioner.tcss"
    TITLE = "captioner"
    COMMANDS = App.COMMANDS | {CaptionCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+c", "interrupt", "Quit (twice: now)", show=False, priority=True, id="interrupt"),
        Binding("question_mark,f1", "help", "Help", id="help"),
    ]
    #: A bug in a handler is logged and shown, and captioning goes on (tui.ui_errors).
    #: tests/app turn this off, so that a bug there fails the test with its traceback.
    contain_errors = True

    def __init__(self, settings: Settings, options: RunOptions | None = None, *, autostart: bool = True,
                 clock: SimpleNamespace = SYSTEM_CLOCK, started: Started | None = None) -> None:
        super().__init__()
        self.driver_class = captioner_driver(self.driver_class)
        self.settings, self.options = settings, options or RunOptions()
        self.autostart, self.clock = autostart, clock
        self.started = started  # a session already running (tui/early_start.py)
        self.keys_in_force: dict[str, str] = {}  # binding id -> keys, after the config keymap
        self.main: MainScreen | None = None
        self.keymap_errors: list[str] = []
        self._signals: list[int] = []
        self._exit_asked = False  # the app itself called exit()
        self.error_guard = ErrorGuard(self._error_toast, self.abort)
        textual_hacks.contain_handler_errors()
        textual_hacks.ignore_presses_on_removed_widgets()
        textual_hacks.dismiss_only_the_top_screen()
        textual_hacks.ignore_clicks_on_stale_options()

    def on_mount(self) -> None:
        try:
            self.theme = self.settings["ui.theme"]
        except Exception:  # noqa: BLE001 - an unknown theme name must not stop captioning
            self.notify(f"unknown theme {self.settings['ui.theme']!r}; using the default",
                        severity="warning", markup=False)
        self.apply_keymap(self.settings.keymap)
        try:
            self.main = MainScreen(self.settings, self.options, autostart=self.autostart, clock=self.clock,
                                   started=self.started)
        except SetupError as exc:
            self.exit(return_code=EXIT_BAD_INPUT, message=f"captioner: {exc}")
            return
        self.push_screen(self.main)
        self._install_signals()

    def apply_keymap(self, keymap: dict[str, str]) -> None:
        known = {b.id for b in self.all_bindings()}
        unknown = sorted(set(keymap) - known)
        if unknown:
            self.keymap_errors = unknown
            self.notify(f"[keymap] has unknown binding ids: {', '.join(unknown)} (see ? for the ids)",
                        severity="warning", markup=False, timeout=10)
        self.keys_in_force = {k: v for k, v in keymap.items() if k in known}
        self.set_keymap(self.keys_in_force)

    @staticmethod
    def all_bindings() -> list[Binding]:
        return [b for b in (*CaptionerApp.BINDINGS, *MainScreen.BINDINGS) if isinstance(b, Binding)]

    def key_help(self) -> list[tuple[str, str, str]]:
        """(keys in force, description, binding id) for every binding, after the keymap."""
        rows = []
        for b in self.all_bindings():
            keys = self.keys_in_force.get(b.id, b.key) if b.id else b.key
            rows.append((keys, b.description, b.id or ""))
        rows.append(("ctrl+p", "Command palette (everything else)", ""))
        return rows

    # ---------------------------------------------------------------- errors

    def contain_error(self, error: Exception, where: str, fatal: bool = False) -> bool:
        """An unhandled exception anywhere in the UI (textual_hacks routes them here)."""
        if not self.contain_errors:
            return False
        if closed_screen_race(error):
            log.warning("a background task of a closed dialog failed (Textual): %s", error)
            return True
        self.error_guard.handle(error, where, fatal)
        return True

    def _error_toast(self, text: str) -> None:
        self.notify(text, title="Internal error", severity="error", markup=False, timeout=10)

    def abort(self, reason: str) -> None:
        """End the app because of an internal error: cleanly, exit status 1, one line."""
        try:
            if self.main is not None and self.main.is_attached:
                self.main.abort(reason)
                return
        except Exception:  # noqa: BLE001 - the screen is too broken to finish: exit now
            log.exception("the captioning screen could not finish")
        self.exit(return_code=EXIT_FAILED, message=f"captioner: {reason}")

    # --------------------------------------------------------------- signals

    def _install_signals(self) -> None:
        """SIGHUP (the SSH connection dropped) and SIGTERM: stop, flush, exit."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._on_signal)
                self._signals.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        self._guard_sigcont()

    @staticmethod
    def _guard_sigcont() -> None:
        """A hang-up comes with SIGCONT, on which Textual restarts terminal output; on the dead
        terminal that new writer dies and the exit then blocks forever: ignore SIGCONT once
        the terminal is gone (os.isatty fails on a hung-up terminal)."""
        textual_handler = signal.getsignal(signal.SIGCONT)
        try:
            fd = sys.__stdout__.fileno()
        except (AttributeError, ValueError, OSError):
            return
        if not callable(textual_handler) or not os.isatty(fd):
            return

        def on_sigcont(signum, frame) -> None:
            if os.isatty(fd):
                textual_handler(signum, frame)

        signal.signal(signal.SIGCONT, on_sigcont)

    def _on_signal(self) -> None:
        self.call_later(self.action_quit)

    def exit(self, *args, **kwargs) -> None:
        self._exit_asked = True
        super().exit(*args, **kwargs)

    def on_exit_app(self, message: ExitApp) -> None:
        """An exit the app did not ask for (textual serve: the browser tab closed): quit cleanly,
        as on SIGHUP, so the open turn is flushed; without this the session was cancelled."""
        if not self._exit_asked and self.main is not None and self.main.worker is not None:
            message.prevent_default()
            self._on_signal()

    def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.remove_signal_handler(sig)

    # --------------------------------------------------------------- actions

    async def action_quit(self) -> None:
        if self.main is None:
            self.exit()
        else:
            self.main.request_quit()

    def action_interrupt(self) -> None:
        if self.main is None:
            self.exit()
        else:
            self.main.request_quit(force=self.main.quitting)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))


# Young-generation size of the cyclic garbage collector (Python's default is 700 allocations).
# Textual allocates briskly (strips, segments, styles, messages); at 700 many short-lived
# objects got promoted, which set off full collections every few seconds, and a full
# collection walks the whole transcript (a long session: 100-300 ms frozen screen, see
# bench/longsession.py). At 10,000 they die young instead; a full collection becomes rare.
GC_THRESHOLDS = (10_000, 20, 10)


def tune_gc() -> None:
    gc.set_threshold(*GC_THRESHOLDS)


def run_tui(settings: Settings, options: RunOptions) -> int:
    """Run the full-screen captioner; returns the exit status."""
    tune_gc()
    app = CaptionerApp(settings, options)
    app.run()
    return app.return_code or 0


async def run_tui_async(settings: Settings, options: RunOptions, started: Started) -> int:
    """Run the full-screen captioner on a session already started; returns the exit status."""
    tune_gc()
    app = CaptionerApp(settings, options, started=started)
    await app.run_async()
    return app.return_code or 0
