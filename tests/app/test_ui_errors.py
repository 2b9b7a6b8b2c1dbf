"""A bug in a widget or screen handler goes to the log and a toast; the captioning goes on.

A burst of them (a bug at every repaint) ends the app through the clean path: the last
turns, the journal footer, exit status 1 with a one-line reason.
"""

from __future__ import annotations

import logging

import pytest
from apphelpers import TURNS, options_for, scripted_server, settings_for, wait_for

from tui.app import CaptionerApp
from tui.core.transcript.journal import read_journal
from tui.screens.main import MainScreen
from tui.ui_errors import BURST
from tui.widgets.caption_log import CaptionLog
from tui.widgets.meter import LevelMeter

SIZE = (80, 24)


class Boom(RuntimeError):
    pass


def toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


@pytest.fixture
def contained(monkeypatch):
    monkeypatch.setattr(CaptionerApp, "contain_errors", True)


async def test_a_raising_handler_is_logged_and_shown_and_captioning_goes_on(tmp_path, monkeypatch,
                                                                           contained, caplog):
    def bad_click(self, event):
        raise Boom("the click handler broke")

    def bad_action(self):
        raise KeyError("timestamps")

    monkeypatch.setattr(CaptionLog, "on_click", bad_click)
    monkeypatch.setattr(MainScreen, "action_timestamps", bad_action)
    async with scripted_server() as server:
        app = CaptionerApp(settings_for(tmp_path, server.url), options_for(tmp_path, seconds=8, speed=2))
        async with app.run_test(size=SIZE) as pilot:
            main = app.main
            log = main.log_view
            await wait_for(pilot, lambda: log.entries, what="the first turn")
            await pilot.click(log, offset=(3, 0))
            assert app.error_guard.count == 1
            assert any("Boom: the click handler broke. Captioning goes on" in t for t in toasts(app))
            await pilot.click(log, offset=(3, 0))  # the log's message loop is still alive
            assert app.error_guard.count == 2
            assert sum("Boom" in t for t in toasts(app)) == 1  # the same error: one toast
            await pilot.press("t")
            assert app.error_guard.count == 3
            assert any("KeyError: 'timestamps'" in t for t in toasts(app))
            await wait_for(pilot, lambda: main.exit_code is not None, what="the input to end")
            assert [e.text for e in log.entries] == TURNS  # every turn after the errors too
            assert main.exit_code == 0 and app.is_running
            await pilot.press("q")
        assert app.return_code == 0
    logged = [r for r in caplog.records if r.name == "tui.ui" and r.levelno == logging.ERROR]
    assert len(logged) == 3 and logged[0].exc_info and "CaptionLog handling Click" in logged[0].getMessage()


async def test_a_burst_of_errors_ends_the_app_cleanly_with_status_1(tmp_path, monkeypatch, contained):
    shown = []

    def bad_show(self, snapshot, ended=False):
        if len(shown) >= 1:  # after the first turn, every repaint of the meter fails
            raise Boom("the meter broke")

    monkeypatch.setattr(LevelMeter, "show", bad_show)
    exits, exit_app = [], CaptionerApp.exit

    def spy_exit(self, *args, **kwargs):
        exits.append(kwargs)
        exit_app(self, *args, **kwargs)

    monkeypatch.setattr(CaptionerApp, "exit", spy_exit)
    async with scripted_server() as server:
        options = options_for(tmp_path, seconds=8, speed=1)
        app = CaptionerApp(settings_for(tmp_path, server.url), options)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.main.log_view.entries, what="the first turn")
            shown.append(True)
            await wait_for(pilot, lambda: not app.is_running, timeout=30, what="the app to end")
    assert app.return_code == 1
    assert app.error_guard.count >= BURST
    message = exits[-1]["message"]
    assert message.startswith("captioner: internal error: Boom: the meter broke (")
    assert "\n" not in message
    journal = read_journal(next((tmp_path / "journal").glob("*.jsonl")))
    assert journal.footer is not None  # the session ended as on q: the journal is complete
    assert [t.text for t in journal.turns][:1] == TURNS[:1]
