"""The streaming client against the real local v3 server over real websockets."""

import asyncio
import json
import os
import subprocess
import sys

import pytest

from tui.core.stream import events as ev
from tui.core.stream.client import Connection, Rechunker, StreamError, StreamingClient
from tui.core.audio.levels import FLOOR_DB
from tui.core.audio.source import Frame
from tui.server.scripted import timecode_pcm
from streaming import (TURNS, local_server, run_session, script_file, scripted_audio,
                             settings_for, write_wav)
import paths

ROOT = str(paths.ROOT)


async def test_all_turns_arrive_formatted_once_in_order(tmp_path):
    _, script = script_file(tmp_path)
    async with local_server(script) as server:
        code, events, session = await run_session(tmp_path, settings_for(tmp_path, server.url),
                                                  scripted_audio(tmp_path, script))
    assert code == 0
    assert events.texts == TURNS
    assert events.states[0] == ev.CONNECTING and ev.LIVE in events.states
    assert events.states[-1] == ev.CLOSED
    # partials came before each final, and the partial words were unformatted
    partial_words = [w.text for e in events.of(ev.PartialTurn) for w in e.words]
    assert "good" in partial_words and "Good" not in partial_words
    assert [t.text for t in session.transcript.turns] == TURNS


@pytest.mark.parametrize("meter", [True, False])
async def test_input_levels_are_measured_only_when_something_shows_them(tmp_path, meter):
    # Headless runs (meter=False) show no level meter: the capture skips metering, and the
    # captions are the same.
    _, script = script_file(tmp_path)
    async with local_server(script) as server:
        code, events, session = await run_session(tmp_path, settings_for(tmp_path, server.url),
                                                  scripted_audio(tmp_path, script), meter=meter)
    assert code == 0 and events.texts == TURNS
    assert (session.source.levels.snapshot().peak_db > FLOOR_DB) is meter


async def test_last_turn_is_flushed_by_terminate(tmp_path):
    # The audio stops right after the last word: only Terminate's flush can deliver it.
    _, script = script_file(tmp_path)
    last_word_end = script["turns"][-1]["words"][-1][2]
    wav = write_wav(tmp_path / "short.wav", last_word_end + 150)
    async with local_server(script) as server:
        code, events, _ = await run_session(tmp_path, settings_for(tmp_path, server.url), wav)
    assert code == 0
    assert events.texts == TURNS


async def test_without_format_turns_finals_are_unformatted(tmp_path):
    _, script = script_file(tmp_path)
    async with local_server(script) as server:
        settings = settings_for(tmp_path, server.url, service__format_turns=False)
        code, events, _ = await run_session(tmp_path, settings, scripted_audio(tmp_path, script))
    assert code == 0
    assert events.texts[0] == "good morning everyone"


async def test_in_model_formatting_mode(tmp_path):
    _, script = script_file(tmp_path)
    async with local_server(script, in_model_formatting=True) as server:
        code, events, _ = await run_session(tmp_path, settings_for(tmp_path, server.url),
                                            scripted_audio(tmp_path, script))
    assert code == 0
    assert events.texts == TURNS


async def test_word_times_are_on_the_timeline(tmp_path):
    _, script = script_file(tmp_path)
    async with local_server(script) as server:
        _, events, _ = await run_session(tmp_path, settings_for(tmp_path, server.url),
                                         scripted_audio(tmp_path, script))
    first = events.of(ev.TurnFinal)[0].turn
    expected = script["turns"][0]["words"]
    assert [(w.start_ms, w.end_ms) for w in first.words] == [(s, e) for _, s, e in expected]


async def test_bad_key_is_fatal_and_not_retried(tmp_path):
    _, script = script_file(tmp_path)
    async with local_server(script, api_key="right-key") as server:
        settings = settings_for(tmp_path, server.url, env={"ASSEMBLYAI_API_KEY": "wrong-key"})
        code, events, _ = await run_session(tmp_path, settings, scripted_audio(tmp_path, script))
        sessions = server.sessions_started
    assert code == 1
    assert sessions == 1
    errors = [e for e in events.of(ev.StateChanged) if e.state == ev.ERROR]
    assert "ASSEMBLYAI_API_KEY" in errors[-1].detail
    assert "wrong-key" not in json.dumps([str(e) for e in events.events])


async def test_right_key_and_temporary_token(tmp_path):
    _, script = script_file(tmp_path, TURNS[:1])
    async with local_server(script, api_key="right-key") as server:
        for token in (False, True):
            settings = settings_for(tmp_path, server.url, env={"ASSEMBLYAI_API_KEY": "right-key"},
                                    service__temporary_token=token)
            code, events, _ = await run_session(tmp_path, settings, scripted_audio(tmp_path, script))
            assert (code, events.texts) == (0, TURNS[:1])


async def test_bad_parameter_names_the_parameter(tmp_path):
    async with local_server() as server:
        conn = Connection(server.url, {"sample_rate": 16000, "speech_model": "nonsense model"})
        client = StreamingClient(conn, lambda e: None)
        with pytest.raises(StreamError) as err:
            await client.run(_frames(20))
    assert err.value.code == 3006
    assert "speech_model" in str(err.value)


async def test_odd_source_blocks_are_rebuffered_to_valid_chunks(tmp_path):
    # 10 ms blocks would be rejected (3007) if sent as they come.
    _, script = script_file(tmp_path, TURNS[:1])
    async with local_server(script) as server:
        conn = Connection(server.url, {"sample_rate": 16000, "format_turns": True})
        got = []
        client = StreamingClient(conn, got.append)
        await client.run(_frames(400, ms=10))
    assert [e.turn.text for e in got if isinstance(e, ev.TurnFinal)] == TURNS[:1]


def test_rechunker_joins_splits_and_keeps_time():
    r = Rechunker(1600, 32.0)
    out = []
    for i in range(7):
        out += r.push(Frame(b"\1\0" * 160, i * 10.0, 100.0 + i * 0.01))  # 10 ms blocks
    out += r.push(Frame(b"\2\0" * 4800, 70.0, 101.0))  # one 300 ms block
    out += r.flush()
    assert [len(f.pcm) for f in out] == [1600] * 7 + [640]
    assert [f.t0_ms for f in out] == [i * 50.0 for i in range(8)]
    assert b"".join(f.pcm for f in out) == b"\1\0" * 1120 + b"\2\0" * 4800
    # a jump on the timeline is never bridged
    r2 = Rechunker(1600, 32.0)
    assert r2.push(Frame(b"\0" * 800, 0.0, 1.0)) == []
    jumped = r2.push(Frame(b"\0" * 1600, 5000.0, 2.0))
    assert [(f.t0_ms, len(f.pcm)) for f in jumped] == [(0.0, 800), (5000.0, 1600)]


def test_refuses_key_over_plain_ws_to_another_host():
    with pytest.raises(StreamError, match="--insecure"):
        StreamingClient(Connection("ws://example.com/v3/ws", api_key="k"), lambda e: None)
    StreamingClient(Connection("ws://example.com/v3/ws", api_key="k", insecure=True), lambda e: None)
    StreamingClient(Connection("ws://127.0.0.1:1/v3/ws", api_key="k"), lambda e: None)


async def test_unreachable_server_fails_with_clear_message(tmp_path):
    settings = settings_for(tmp_path, "ws://127.0.0.1:9/v3/ws")
    code, events, _ = await run_session(tmp_path, settings, write_wav(tmp_path / "a.wav", 3000))
    assert code == 1
    assert events.of(ev.StateChanged)[-1].detail == "cannot connect: connection refused by 127.0.0.1:9 (nothing listening there?)"


async def _frames(n, ms=50):
    """n blocks of ms each of timecode audio (what the scripted recognizer hears)."""
    for i in range(n):
        yield Frame(timecode_pcm(i * 16 * ms, 16 * ms).tobytes(), i * float(ms), 0.0)
        if i % 20 == 0:
            await asyncio.sleep(0)


def _serve(*args):
    proc = subprocess.Popen([sys.executable, "-m", "tui", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    line = proc.stdout.readline()
    assert line.startswith("listening on ws://127.0.0.1:")
    return proc, line.split()[-1]


@pytest.mark.parametrize("mode", ["--plain", "--jsonl"])
def test_headless_contract(tmp_path, mode):
    script_path, script = script_file(tmp_path)
    wav = scripted_audio(tmp_path, script)
    server, url = _serve("--engine", "scripted", "--script", str(script_path))
    try:
        env = {**os.environ, "ASSEMBLYAI_API_KEY": "anything", "CAPTIONER_DATA_DIR": str(tmp_path / "d")}
        proc = subprocess.run([sys.executable, "-m", "tui", "--url", url, "--input", str(wav), mode,
                               "--speed", "4"], capture_output=True, text=True, timeout=120, env=env,
                              cwd=ROOT)
    finally:
        server.terminate()
        server.wait(10)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    if mode == "--plain":
        assert lines == TURNS
    else:
        turns = [json.loads(line) for line in lines]
        assert [t["text"] for t in turns] == TURNS
        assert [t["turn_order"] for t in turns] == list(range(len(TURNS)))
        first = turns[0]
        assert set(first) >= {"turn_order", "start_ms", "end_ms", "text", "words"}
        assert first["words"][0] == {"text": "Good", "start_ms": 300, "end_ms": 550, "confidence": 1.0}
    assert "anything" not in proc.stdout + proc.stderr


async def test_first_send_is_reported_once_after_the_connection_opens(tmp_path):
    # The full screen waits for this before importing Textual (tui/early_start.py).
    _, script = script_file(tmp_path, TURNS[:1])
    async with local_server(script) as server:
        conn = Connection(server.url, {"sample_rate": 16000, "format_turns": True})
        got, seen = [], []
        client = StreamingClient(conn, got.append, on_first_send=lambda: seen.append(len(got)))
        frames = [Frame(bytes(1600), i * 50.0, 0.0) for i in range(40)]  # 2 s, before run()
        for frame in frames:
            client.push(frame)
        client.end_input()
        await client.run()
    assert len(seen) == 1  # once, though 40 frames went out
    assert not any(isinstance(e, ev.TurnFinal) for e in got[:seen[0]])  # before any reply to audio
