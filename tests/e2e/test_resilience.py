"""Fault injection: every disturbance must leave the transcript of an undisturbed run.

Each test streams a scripted talk through the real client to a real local server that
misbehaves on purpose, then checks: same turns, same order, no duplicates, no audio lost.
"""

import asyncio
import random
import signal
import subprocess
import sys

import pytest

from tui.core.stream import events as ev
from tui.core.audio.inputs import open_source
from tui.core.stream.client import Connection, StreamingClient
from tui.server.faults import Faults
from streaming import Collector, local_server, script_file, scripted_audio
import paths

ROOT = str(paths.ROOT)
TALK = [
    "Welcome back to the lecture.",
    "Last week we looked at sampling and aliasing.",
    "Today is about filters, and why every microphone needs one.",
    "Let's start with a simple example.",
    "Any questions so far?",
    "Good, then we go on.",
]
SPEED = 8.0


def conn(url: str, **kw) -> Connection:
    c = Connection(url, {"sample_rate": 16000, "format_turns": True}, terminate_timeout=1.5,
                   catchup_rate=SPEED * 1.5, catchup_lead_ms=60_000, **kw)
    return c


async def stream(tmp_path, url, script, **conn_kw):
    events = Collector()
    source = open_source(str(scripted_audio(tmp_path, script)), speed=SPEED)
    client = StreamingClient(conn(url, **conn_kw), events)
    await asyncio.wait_for(client.run(source.frames()), 120)
    return events, client


def check_lossless(events: Collector) -> None:
    texts = events.texts
    assert len(texts) == len(set(texts)), f"duplicates: {texts}"
    assert texts == TALK
    lost = sum(e.marker.duration_ms for e in events.of(ev.MarkerAdded) if e.marker.kind == "gap")
    assert lost == 0
    assert [e.turn.index for e in events.of(ev.TurnFinal)] == list(range(len(TALK)))
    starts = [e.turn.start_ms for e in events.of(ev.TurnFinal)]
    assert starts == sorted(starts)


def mid_turn_ms(script, turn: int) -> int:
    words = script["turns"][turn]["words"]
    return words[len(words) // 2][1] + 40


@pytest.fixture
def talk(tmp_path):
    return script_file(tmp_path, TALK)[1]


async def test_undisturbed_reference(tmp_path, talk):
    async with local_server(talk) as server:
        events, _ = await stream(tmp_path, server.url, talk)
    check_lossless(events)
    assert ev.RECONNECTING not in events.states


@pytest.mark.parametrize("turn", [1, 3])
async def test_connection_dropped_mid_sentence(tmp_path, talk, turn):
    faults = Faults(drop_after_audio_ms=mid_turn_ms(talk, turn), first_sessions=1)
    async with local_server(talk, faults) as server:
        events, _ = await stream(tmp_path, server.url, talk)
        assert server.sessions_started == 2
    check_lossless(events)
    reconnecting = [e for e in events.of(ev.StateChanged) if e.state == ev.RECONNECTING and e.attempt]
    assert reconnecting and "1006" in reconnecting[0].detail
    assert [e.marker.kind for e in events.of(ev.MarkerAdded)] == ["reconnect"]


async def test_drops_at_random_points(tmp_path, talk):
    rng = random.Random(42)
    total = talk["duration_ms"]
    for _ in range(3):
        faults = Faults(drop_after_audio_ms=rng.randrange(500, total - 500), first_sessions=2)
        async with local_server(talk, faults) as server:
            events, _ = await stream(tmp_path, server.url, talk)
        check_lossless(events)


@pytest.mark.parametrize("code", [3005, 1011])
async def test_server_error_mid_stream_reconnects(tmp_path, talk, code):
    faults = Faults(error_after_audio_ms=mid_turn_ms(talk, 2), error_code=code, first_sessions=1)
    async with local_server(talk, faults) as server:
        events, _ = await stream(tmp_path, server.url, talk)
    check_lossless(events)


async def test_session_expiry_3008_is_handled_like_a_reconnect(tmp_path, talk):
    async with local_server(talk, max_session_s=1.0) as server:
        events, _ = await stream(tmp_path, server.url, talk, rollover=False)
        assert server.sessions_started >= 2
    check_lossless(events)
    assert any("3008" in e.detail for e in events.of(ev.StateChanged) if e.state == ev.RECONNECTING)


async def test_rollover_before_expiry_switches_at_a_silence(tmp_path, talk):
    async with local_server(talk, max_session_s=1.5) as server:
        events, _ = await stream(tmp_path, server.url, talk)
        assert server.sessions_started >= 2
    check_lossless(events)
    assert ev.RECONNECTING not in events.states  # no session ever hit its limit
    assert not events.of(ev.MarkerAdded)


async def test_slow_termination_still_delivers_the_last_turn(tmp_path, talk):
    async with local_server(talk, Faults(termination_delay_s=1.0)) as server:
        events, _ = await stream(tmp_path, server.url, talk)
    check_lossless(events)
    assert events.states[-1] == ev.CLOSED


async def test_terminate_never_answered_resends_the_tail(tmp_path, talk):
    # The audio ends right after the last word, so only a flush can deliver the last turn.
    last_end = talk["turns"][-1]["words"][-1][2]
    talk = dict(talk, duration_ms=last_end + 100)
    async with local_server(talk, Faults(ignore_terminate=True, first_sessions=1)) as server:
        events, _ = await stream(tmp_path, server.url, talk)
    check_lossless(events)


async def test_server_restart(tmp_path, talk):
    async with local_server(talk) as first:
        port = int(first.url.rsplit(":", 1)[1].split("/")[0])
        url = first.url
        task = asyncio.create_task(stream(tmp_path, url, talk))
        await asyncio.sleep(0.8)
    await asyncio.sleep(0.3)  # the server is gone: connects are refused meanwhile
    async with local_server(talk, port=port):
        events, _ = await task
    check_lossless(events)


async def test_half_open_connection_is_detected_by_ping(tmp_path, talk):
    """A frozen server (SIGSTOP) keeps the TCP connection but answers nothing."""
    path, _ = script_file(tmp_path, TALK)
    proc = subprocess.Popen([sys.executable, "-m", "tui", "serve", "--port", "0", "--engine", "scripted",
                             "--script", str(path), "--timecode"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    try:
        url = proc.stdout.readline().split()[-1]
        task = asyncio.create_task(stream(tmp_path, url, talk, ping_interval=0.3, ping_timeout=0.6,
                                          open_timeout=1.0))
        await asyncio.sleep(0.6)
        proc.send_signal(signal.SIGSTOP)
        await asyncio.sleep(1.5)
        proc.send_signal(signal.SIGCONT)
        events, _ = await task
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(10)
    check_lossless(events)
    assert any(e.state == ev.RECONNECTING and e.attempt for e in events.of(ev.StateChanged))


async def test_buffer_overflow_is_marked_as_a_gap(tmp_path, talk):
    """Disconnected longer than the buffer: the lost audio is reported, never silently dropped."""
    async with local_server(talk) as first:
        port = int(first.url.rsplit(":", 1)[1].split("/")[0])
        events = Collector()
        source = open_source(str(scripted_audio(tmp_path, talk)), speed=SPEED)
        client = StreamingClient(conn(first.url), events, buffer_s=5.0)
        task = asyncio.create_task(client.run(source.frames()))
        await asyncio.sleep(0.4)
    await asyncio.sleep(1.5)  # ~12 s of audio at SPEED while down; the buffer holds 5 s
    async with local_server(talk, port=port):
        await asyncio.wait_for(task, 60)
    gaps = [e.marker for e in events.of(ev.MarkerAdded) if e.marker.kind == "gap"]
    assert len(gaps) == 1 and gaps[0].duration_ms > 1000
    texts = events.texts
    assert len(texts) == len(set(texts))
    assert texts[-1] == TALK[-1]  # what was buffered still arrived
