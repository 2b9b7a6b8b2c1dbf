"""Pilot tests of the captioning screen against a real local server and a real WAV file."""

from __future__ import annotations

import os
import signal

from apphelpers import TURNS, Recorder, options_for, scripted_server, settings_for, turn, wait_for
from textual.command import CommandList
from textual.widgets import Input, Label, RadioSet

from tui import messages as m
from tui.app import CaptionerApp
from tui.core.stream import events as ev
from tui.core.transcript.journal import read_journal
from tui.screens.help import HelpScreen
from tui.screens.save import SaveDialog
from tui.server.faults import Faults
from tui.widgets.caption_log import CaptionLog
from tui.widgets.meter import LevelMeter
from tui.widgets.status import StatusBar

SIZE = (80, 24)


def shown_texts(log: CaptionLog) -> list[str]:
    return [e.text for e in log.entries if hasattr(e, "text")]


def log_lines(log: CaptionLog) -> list[str]:
    return [line.plain for row in log.rows for line in row.lines]


async def test_states_connecting_live_paused_live_closed_then_quit(tmp_path):
    hook = Recorder(m.ConnectionChanged, m.TurnFinalized, m.MarkerPlaced)
    async with scripted_server() as server:
        app = CaptionerApp(settings_for(tmp_path, server.url), options_for(tmp_path, seconds=10, speed=2))
        async with app.run_test(size=SIZE, message_hook=hook) as pilot:
            main = app.main
            log = main.log_view
            status = app.main.query_one(StatusBar)
            await wait_for(pilot, lambda: main.live.words, what="a partial on the live line")
            await wait_for(pilot, lambda: shown_texts(log), what="the first final")
            assert status.view.state == ev.LIVE
            assert " dB  peak " in main.query_one(LevelMeter).plain()
            await pilot.press("space")
            await wait_for(pilot, lambda: status.view.state == ev.PAUSED, what="paused in the status bar")
            assert main.session.paused
            await pilot.pause(0.4)
            await pilot.press("p")
            await wait_for(pilot, lambda: status.view.state == ev.LIVE, what="live again")
            await wait_for(pilot, lambda: main.exit_code is not None, timeout=30, what="the input to end")
            assert status.view.state == ev.CLOSED
            assert main.live.placeholder.startswith("the session has ended")
            await pilot.pause(0.1)
            assert main.query_one(LevelMeter).plain() == "level input ended"
            await pilot.press("q")
        assert app.return_code == 0
    states = hook.states()
    order = [ev.CONNECTING, ev.LIVE, ev.PAUSED, ev.LIVE, ev.CLOSED]
    it = iter(states)
    assert all(s in it for s in order), states
    assert shown_texts(log) == [t.text for t in app.main.session.transcript.turns]
    assert shown_texts(log)[0] == TURNS[0]
    pause = [e for e in log.entries if getattr(e, "kind", "") == "pause"]
    assert pause and pause[0].duration_ms > 0
    assert any("paused " in line and "–" in line for line in log_lines(log))


async def test_keys_on_the_scrollback(tmp_path):
    async with scripted_server() as server:
        app = CaptionerApp(settings_for(tmp_path, server.url), options_for(tmp_path, seconds=8, speed=4))
        async with app.run_test(size=SIZE) as pilot:
            main = app.main
            log = main.log_view
            await wait_for(pilot, lambda: main.exit_code is not None, what="the input to end")
            assert shown_texts(log) == TURNS

            # c: the last turn to the clipboard (OSC 52)
            await pilot.press("c")
            assert app.clipboard == TURNS[-1]

            # t: timestamps off and back on
            assert log_lines(log)[0].startswith("00:00:00 ")
            await pilot.press("t")
            assert log.timestamps == "off" and log_lines(log)[0] == TURNS[0]
            await pilot.press("t")
            assert log.timestamps == "offset" and log_lines(log)[0].startswith("00:00:00 ")

            # /: search, n older, N newer
            await pilot.press("slash")
            assert main.query_one("#search", Input).has_focus
            await pilot.press(*"turn", "enter")
            assert log.matches == [1] and log.current == 1
            assert "1 match" in str(main.query_one("#search-status", Label).render())
            await pilot.press("slash")
            await pilot.press(*"o", "enter")  # "Hello", "to", "words", "Goodbye now": all three
            assert log.matches == [0, 1, 2] and log.current == 2
            await pilot.press("n")
            assert log.current == 1
            await pilot.press("n", "n")
            assert log.current == 2  # wrapped around
            await pilot.press("N")
            assert log.current == 0
            await pilot.press("escape")
            assert not log.search_text

            # ctrl+s: default path and format, no dialog
            await pilot.press("ctrl+s")
            saved = list((tmp_path / "captions").glob("captioner-*.txt"))
            assert len(saved) == 1 and TURNS[1] in saved[0].read_text()

            # s: the dialog; md; an error stays in the dialog; then a good path
            await pilot.press("s")
            dialog = app.screen
            assert isinstance(dialog, SaveDialog)
            path_input = dialog.query_one("#save-path", Input)
            assert path_input.value.startswith(str(tmp_path / "captions" / "captioner-"))
            dialog.query_one(RadioSet).query("RadioButton")[1].value = True  # md
            await pilot.pause()
            assert path_input.value.endswith(".md")
            blocker = tmp_path / "a-file"
            blocker.write_text("")
            path_input.value = str(blocker / "sub" / "x.md")
            await pilot.press("enter")
            assert app.screen is dialog
            assert "Not saved" in str(dialog.query_one("#save-error", Label).render())
            path_input.value = str(tmp_path / "out" / "t.md")
            await pilot.press("enter")
            assert app.screen is main
            assert TURNS[0] in (tmp_path / "out" / "t.md").read_text()

            # ctrl+l clears the screen, not the transcript
            await pilot.press("ctrl+l")
            assert log.entries == [] and len(main.session.transcript.turns) == 3

            # ? and F1: help lists every binding id
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            ids = {row[2] for row in app.screen.rows}
            assert {"pause", "save", "quick_save", "finalize", "copy", "search", "next_match",
                    "previous_match", "timestamps", "clear", "quit", "interrupt", "help"} <= ids
            await pilot.press("escape")
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert app.screen is main
            await pilot.press("q")
        assert app.return_code == 0


async def test_finalize_key_ends_the_turn_early(tmp_path):
    long_turn = "one two three four five six seven eight nine ten eleven twelve"
    async with scripted_server([long_turn, "After that."]) as server:
        app = CaptionerApp(settings_for(tmp_path, server.url), options_for(tmp_path, seconds=12, speed=1))
        async with app.run_test(size=SIZE) as pilot:
            main = app.main
            await wait_for(pilot, lambda: len(main.live.words) >= 3, what="three live words")
            await pilot.press("f")
            first = await wait_for(pilot, lambda: main.session.transcript.turns, what="a final")
            words = first[0].text.split()
            assert 3 <= len(words) < len(long_turn.split())
            await pilot.press("q")
            await wait_for(pilot, lambda: app.return_code is not None, what="exit")
        assert app.return_code == 0


async def test_quit_while_live_waits_for_the_last_turn(tmp_path):
    async with scripted_server() as server:
        app = CaptionerApp(settings_for(tmp_path, server.url), options_for(tmp_path, seconds=20, speed=1))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: len(app.main.live.words) >= 2, what="live words")
            await pilot.press("q")
            assert app.main.quitting
            await wait_for(pilot, lambda: app.return_code is not None, what="exit")
        assert app.return_code == 0
    turns = app.main.session.transcript.turns
    assert turns and turns[0].text.split()[0] == "Hello,"  # the open turn was flushed
    journal = read_journal(app.main.session.journal_path)
    assert [t.text for t in journal.turns] == [t.text for t in turns]


async def test_a_hang_up_ends_the_app_even_when_the_live_line_is_gone(tmp_path, monkeypatch):
    """SIGHUP (a dropped SSH session) quits as q does; a screen that lost its live line (a
    monkey run found this) once made the quit raise before it stopped the session, and the
    app ran on forever with no terminal."""
    monkeypatch.setattr(CaptionerApp, "contain_errors", True)  # as in the real app
    async with scripted_server() as server:
        app = CaptionerApp(settings_for(tmp_path, server.url), options_for(tmp_path, seconds=20, speed=1))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.main.session.transcript.turns, what="a final")
            await app.main.live.remove()
            os.kill(os.getpid(), signal.SIGHUP)
            await wait_for(pilot, lambda: app.main.session.source.stopped, timeout=5, what="capture stopped")
            await wait_for(pilot, lambda: app.return_code is not None, what="exit after SIGHUP")
        assert app.return_code == 0
    journal = read_journal(app.main.session.journal_path)
    assert journal.footer is not None and journal.turns


async def test_second_ctrl_c_forces_exit_and_keeps_the_journal(tmp_path):
    async with scripted_server(faults=Faults(ignore_terminate=True)) as server:
        app = CaptionerApp(settings_for(tmp_path, server.url), options_for(tmp_path, seconds=20, speed=2))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.main.session.transcript.turns, what="a final")
            await pilot.press("ctrl+c")
            assert app.main.quitting and app.return_code is None
            await pilot.pause(0.3)
            assert app.return_code is None  # still waiting for the Termination that never comes
            await pilot.press("ctrl+c")
            await wait_for(pilot, lambda: app.return_code is not None, what="forced exit")
        assert app.return_code == 130
    journal = read_journal(app.main.session.journal_path)
    assert journal.turns and journal.turns[0].text == TURNS[0]


async def test_wrong_key_is_an_error_and_a_nonzero_exit(tmp_path):
    hook = Recorder(m.ConnectionChanged, m.NoticePosted)
    async with scripted_server(api_key="the-right-key") as server:
        settings = settings_for(tmp_path, server.url, service__api_key="a-wrong-key")
        app = CaptionerApp(settings, options_for(tmp_path))
        async with app.run_test(size=SIZE, message_hook=hook) as pilot:
            await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert app.return_code == 1
    assert ev.ERROR in hook.states()
    status = app.main.status_view()
    assert status.state == ev.ERROR and "1008" in status.state_text()
    errors = [msg.event.text for msg in hook.messages if isinstance(msg, m.NoticePosted)]
    assert any("1008" in text or "nauthorized" in text for text in errors), errors


async def test_keymap_from_settings_remaps_pause(tmp_path):
    async with scripted_server() as server:
        settings = settings_for(tmp_path, server.url, keymap={"pause": "x", "bogus_id": "y"})
        app = CaptionerApp(settings, options_for(tmp_path, seconds=10, speed=2))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.main.query_one(StatusBar).view.state == ev.LIVE, what="live")
            await pilot.press("space")  # no longer bound
            await pilot.pause(0.1)
            assert not app.main.session.paused
            await pilot.press("x")
            await wait_for(pilot, lambda: app.main.session.paused, what="paused by x")
            assert ("x", "Pause", "pause") in app.key_help()
            assert app.keymap_errors == ["bogus_id"]
            await pilot.press("q")
            await wait_for(pilot, lambda: app.return_code is not None, what="exit")
        assert app.return_code == 0


async def test_sighup_stops_flushes_and_exits(tmp_path):
    async with scripted_server() as server:
        app = CaptionerApp(settings_for(tmp_path, server.url), options_for(tmp_path, seconds=20, speed=2))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.main.session.transcript.turns, what="a final")
            os.kill(os.getpid(), signal.SIGHUP)
            await wait_for(pilot, lambda: app.main.session.source.stopped, timeout=5, what="capture stopped")
            await wait_for(pilot, lambda: app.return_code is not None, what="exit after SIGHUP")
        assert app.return_code == 0
    journal = read_journal(app.main.session.journal_path)
    assert journal.turns and journal.footer is not None  # flushed and closed properly


async def test_scrollback_marker_and_end_key(tmp_path):
    turns = [f"Turn number {i} says something." for i in range(40)]
    async with scripted_server(turns) as server:
        settings = settings_for(tmp_path, server.url)
        app = CaptionerApp(settings, options_for(tmp_path, seconds=6, speed=1))
        async with app.run_test(size=SIZE) as pilot:
            log = app.main.query_one(CaptionLog)
            for i, text in enumerate(turns[:30]):  # fill past one screen without waiting for audio
                app.main.post_message(m.TurnFinalized(ev.TurnFinal(turn(100 + i, text, i * 1000))))
            await wait_for(pilot, lambda: len(log.rows) >= 30 and log.max_scroll_y > 0, what="a full log")
            await pilot.pause(0.05)
            assert log.scroll_y == log.max_scroll_y and log.following
            log.scroll_to(y=0, animate=False, immediate=True)
            assert not log.following
            app.main.post_message(m.TurnFinalized(ev.TurnFinal(turn(200, "A new one.", 99_000))))
            badge = app.main.query_one("#new-below", Label)
            await wait_for(pilot, lambda: badge.display, what="the new-below marker")
            assert "new below" in str(badge.render())
            await pilot.press("end")
            await wait_for(pilot, lambda: log.scroll_y == log.max_scroll_y and not badge.display,
                           what="back at the bottom")
            await pilot.press("q")
            await wait_for(pilot, lambda: app.return_code is not None, what="exit")


async def test_command_palette_runs_screen_actions(tmp_path):
    settings = settings_for(tmp_path, "ws://127.0.0.1:9/v3/ws")
    app = CaptionerApp(settings, options_for(tmp_path), autostart=False)  # no session needed here
    async with app.run_test(size=SIZE) as pilot:
        app.main.post_message(m.TurnFinalized(ev.TurnFinal(turn(0, "Palette test.", 0))))
        await pilot.pause()
        log = app.main.log_view
        assert log.timestamps == "offset"
        await pilot.press("ctrl+p")
        await pilot.press(*"toggle timestamps")
        hits = app.screen.query_one(CommandList)
        await wait_for(pilot, lambda: hits.option_count, what="palette hits")
        assert "Toggle timestamps" in str(hits.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await wait_for(pilot, lambda: log.timestamps == "off", what="timestamps off via the palette")
        await pilot.press("q")
    assert app.return_code == 0
