"""Snapshot tests (pytest-textual-snapshot) of the captioning screen and its dialogs.

Determinism: the app is built with autostart=False, so its CaptionSession is never run
(no server, no audio, no timing). run_before then feeds the screen exactly what a session
would: the typed messages of tui.messages (posted to the main screen, as the session's emit
does), the latest partial (as the session's callback gets it), and a fixed LevelSnapshot for the meter. The
clock is frozen: the screen reads time only through `clock`, which here stands 83 s after
the session was created and at a fixed epoch (TZ=UTC), so elapsed/left/saving paths never
change. Input cursors do not blink. Review the SVGs (pytest --snapshot-report) before
`--snapshot-update`.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from apphelpers import FROZEN_EPOCH, live_words, pause_marker, settings_for, turn

from tui.app import CaptionerApp
from tui.core.stream import events as ev
from tui.core.audio.levels import LevelSnapshot
from tui.captioning import RunOptions
from tui.core.transcript.model import Marker
from tui.widgets.meter import LevelMeter

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def frozen_app(tmp_path, **overrides) -> CaptionerApp:
    settings = settings_for(tmp_path, "ws://127.0.0.1:8765/v3/ws", output__directory="/captions", **overrides)
    holder: dict[str, CaptionerApp] = {}

    def monotonic() -> float:
        return holder["app"].main.session.status().started + 83.0

    clock = SimpleNamespace(monotonic=monotonic, time=lambda: FROZEN_EPOCH)
    app = CaptionerApp(settings, RunOptions(input="/nowhere/input.wav", journal_dir=tmp_path),
                       autostart=False, clock=clock)
    holder["app"] = app
    return app


async def feed_live_session(pilot) -> None:
    """What a session sends while captioning: states, finals, a pause marker, a partial, levels."""
    main = pilot.app.main
    for event in (
        ev.StateChanged(ev.CONNECTING),
        ev.SessionBegan("s1", FROZEN_EPOCH + 3 * 3600 - 83, "127.0.0.1:8765"),
        ev.StateChanged(ev.LIVE),
        ev.TurnFinal(turn(0, "Good morning, and welcome to the [bold]quarterly[/] review.", 1200,
                          speaker="A"), 412.0),
        ev.TurnFinal(turn(1, "Thanks. Let's start with the numbers from the last three months, "
                             "which look better than we expected.", 5400, speaker="B", language="en"), 388.0),
        ev.MarkerAdded(pause_marker(14_000, 21_000)),
        ev.TurnFinal(turn(2, "We're back. Where were we?", 35_000), 371.0),
    ):
        main.session.on_stream_event(event)  # as the streaming client reports them
    main.session_event(ev.PartialTurn(live_words(("revenue", 0.95, True), ("grew", 0.9, True),
                                                 ("by", 0.3, True), ("twelve", 0.8, False))))
    await pilot.pause()
    main.query_one(LevelMeter).show(LevelSnapshot(-23.0, -11.0, -6.0, False, 0.0))
    main.tick()
    await pilot.pause()


def test_main_screen_live(snap_compare, tmp_path):
    assert snap_compare(frozen_app(tmp_path), terminal_size=SIZE, run_before=feed_live_session)


def test_help_screen(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        await feed_live_session(pilot)
        await pilot.press("question_mark")

    assert snap_compare(frozen_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_save_dialog(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        await feed_live_session(pilot)
        await pilot.press("s")
        for widget in pilot.app.screen.query("Input"):
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(frozen_app(tmp_path, output__format="srt"), terminal_size=SIZE, run_before=run_before)


def test_error_state(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        await feed_live_session(pilot)
        main = pilot.app.main
        main.session_event(ev.PartialTurn([]))
        session = main.session
        session.on_stream_event(ev.StateChanged(ev.RECONNECTING, "connection lost (1006)", 3))
        session.on_stream_event(ev.MarkerAdded(Marker("reconnect", 38_000, FROZEN_EPOCH, 0,
                                                      "connection lost (1006)")))
        reason = "unauthorized: the API key was rejected (1008)"
        session.on_stream_event(ev.StateChanged(ev.ERROR, reason))
        session.on_stream_event(ev.Notice("error", reason))
        main.query_one(LevelMeter).show(LevelSnapshot(-60.0, -60.0, -60.0, False, 12.0))
        await pilot.pause()
        main.tick()
        await pilot.pause()

    assert snap_compare(frozen_app(tmp_path), terminal_size=SIZE, run_before=run_before)


async def feed_speakers(pilot) -> None:
    """Diarized turns: A, then B (with a mid-turn change back to A), A renamed Alice, a language
    change, a turn whose speaker a revision corrected, and a Pro partial after SpeechStarted."""
    main = pilot.app.main
    mixed = turn(1, "Sure, go ahead. Thanks!", 4000, speaker="B")
    mixed = mixed.with_speakers("B", ["B", "B", "B", "A"])
    for event in (
        ev.StateChanged(ev.LIVE),
        ev.TurnFinal(turn(0, "Shall we start with the budget?", 1200, speaker="A", language="en"), 300.0),
        ev.TurnFinal(mixed, 300.0),
        ev.TurnFinal(turn(2, "The numbers look good this quarter.", 7000, speaker="A", language="en"), 300.0),
        ev.TurnFinal(turn(3, "Muy bien, gracias.", 11000, speaker="C", language="es"), 300.0),
        ev.TurnFinal(turn(4, "Let's move on.", 14000, speaker="A", language="en"), 300.0),
        ev.TurnRevised(turn(4, "Let's move on.", 14000, speaker="B", language="en")),
    ):
        main.session.on_stream_event(event)
    main.session.rename_speaker("A", "Alice")
    await pilot.pause()
    main.session_event(ev.PartialTurn(live_words(("Next", 0.9, False), ("item:", 0.9, False))))
    await pilot.pause()
    main.query_one(LevelMeter).show(LevelSnapshot(-23.0, -11.0, -6.0, False, 0.0))
    main.tick()
    await pilot.pause()


def test_main_screen_speakers(snap_compare, tmp_path):
    assert snap_compare(frozen_app(tmp_path), terminal_size=SIZE, run_before=feed_speakers)


async def feed_revised_partial(pilot) -> None:
    """A Pro partial ("Rupert.") revised by the next one ("Rupert Pennaise. I"), all provisional,
    and the service's heartbeat in the status bar."""
    main = pilot.app.main
    for event in (ev.StateChanged(ev.LIVE), ev.SpeechDetected(4480), ev.ServiceLoad(0.9964)):
        main.session.on_stream_event(event)
    await pilot.pause()
    main.session_event(ev.PartialTurn(live_words(("Rupert.", 0.99, False))))
    await pilot.pause()
    main.session_event(ev.PartialTurn(live_words(("Rupert", 0.99, False), ("Pennaise.", 0.97, False),
                                                 ("I", 0.9, False))))
    await pilot.pause()
    main.tick()
    await pilot.pause()


def test_main_screen_revised_partial(snap_compare, tmp_path):
    assert snap_compare(frozen_app(tmp_path), terminal_size=SIZE, run_before=feed_revised_partial)


async def feed_speech_started(pilot) -> None:
    main = pilot.app.main
    for event in (ev.StateChanged(ev.LIVE), ev.SpeechDetected(4480), ev.ServiceLoad(1.31)):
        main.session.on_stream_event(event)
    await pilot.pause()
    main.tick()
    await pilot.pause()


def test_main_screen_speech_started_and_fast_sending(snap_compare, tmp_path):
    assert snap_compare(frozen_app(tmp_path), terminal_size=SIZE, run_before=feed_speech_started)
