"""Pilot tests: a Pro partial revising a word on screen, speakers, revisions and renames."""

from __future__ import annotations

import contextlib
import subprocess

import webvtt

from apphelpers import options_for, settings_for, wait_for
from e2e import PYTHON, ROOT
from textual.widgets import Input

from tui.app import CaptionerApp
from tui.core.transcript.journal import read_journal
from tui.core.transcript.exports import render
from tui.screens.rename import RenameDialog
from tui.server.scripted import make_script
from tui.server.server import LocalServer, ServerConfig
from tui.widgets.caption_log import CaptionLog

SIZE = (80, 24)
TURNS = ["Rupert Pennaise is here.", "Hello Rupert, welcome back.", "Thanks, good to be here."]


def log_lines(log: CaptionLog) -> list[str]:
    return [line.plain for row in log.rows for line in row.lines]


@contextlib.asynccontextmanager
async def server_with(script: dict):
    config = ServerConfig(engine="scripted", engine_options={"script": script})
    async with LocalServer(config) as server:
        yield server


def talk_script() -> dict:
    """Three turns by A, B, A; "Pennaise" is first heard as "Penny's"; the end pass gives turn 2 to B."""
    script = make_script(TURNS, pause_ms=900)
    script["turns"][1]["words"][1].append({"draft": "Robert,"})
    for turn, label in zip(script["turns"], "ABA"):
        turn["speaker"] = label
    script["turns"][0]["words"][1].append({"draft": "Penny's"})
    script["turns"][2]["revised_speaker"] = "B"
    return script


async def test_pro_partial_revises_a_word_on_the_live_line(tmp_path):
    async with server_with(talk_script()) as server:
        settings = settings_for(tmp_path, server.url, service__speech_model="universal-3-6-pro")
        app = CaptionerApp(settings, options_for(tmp_path, seconds=7, speed=1.0))
        async with app.run_test(size=SIZE) as pilot:
            live = app.main.live
            await wait_for(pilot, lambda: "Penny's" in live.plain(), what="the first guess on the live line")
            assert live.plain().startswith("Rupert Penny's")
            assert all(not w.final for w in live.words)  # Pro: every word provisional until the final
            await wait_for(pilot, lambda: "Pennaise" in live.plain() or app.main.log_view.entries,
                           what="the revised word")
            assert "Penny's" not in live.plain()
            log = app.main.log_view
            await wait_for(pilot, lambda: log.entries, what="the final")
            assert log.entries[0].text == "Rupert Pennaise is here."
            await pilot.press("q")


async def test_speakers_revision_and_rename_on_screen_journal_and_export(tmp_path):
    async with server_with(talk_script()) as server:
        settings = settings_for(tmp_path, server.url, service__speaker_labels=True)
        app = CaptionerApp(settings, options_for(tmp_path, seconds=7, speed=2.0))
        async with app.run_test(size=SIZE) as pilot:
            main = app.main
            log = main.log_view
            await wait_for(pilot, lambda: main.exit_code is not None, timeout=30, what="the session to end")
            lines = log_lines(log)
            assert [t.speaker for t in main.session.transcript.turns] == ["A", "B", "B"]  # revised at the end
            assert any("A: Rupert Pennaise is here." in line for line in lines)
            assert any("B: Hello Rupert, welcome back." in line for line in lines)
            assert not any("B: Thanks" in line for line in lines)  # same speaker again: no name
            await pilot.press("r")
            dialog = await wait_for(pilot, lambda: isinstance(app.screen, RenameDialog) and app.screen,
                                    what="the rename dialog")
            assert dialog.label == "B"  # the newest turn's speaker
            dialog.query_one(Input).value = "Bob"
            await pilot.press("enter")
            await wait_for(pilot, lambda: any("Bob: Hello" in line for line in log_lines(log)), what="Bob on screen")
            assert not any(line.startswith("B:") or " B: " in line for line in log_lines(log))
            journal_path = main.session.journal_path
            await pilot.press("q")
    journal = read_journal(journal_path)
    assert journal.speaker_names == {"B": "Bob"}
    assert "<v Bob>Hello Rupert, welcome back." in render(journal, "vtt")
    # The rename survives a restart: a new `captioner export` process reads it from the journal.
    vtt = tmp_path / "old.vtt"
    done = subprocess.run([PYTHON, "-m", "tui", "export", str(journal_path), "-o", str(vtt)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [c.voice for c in webvtt.read(str(vtt))] == ["A", "Bob", "Bob"]


async def test_rename_without_speakers_says_so(tmp_path):
    async with server_with(make_script(TURNS[:1])) as server:
        app = CaptionerApp(settings_for(tmp_path, server.url), options_for(tmp_path, seconds=3, speed=2.0))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.main.log_view.entries, what="a turn")
            await pilot.press("r")
            await pilot.pause(0.1)
            assert not isinstance(app.screen, RenameDialog)
            await pilot.press("q")
