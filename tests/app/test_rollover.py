"""Planned rollover waits for a pause: a session limit that falls mid-sentence, at several offsets.

The real client streams a talk at real time (file source, speed 1) to the real local server
with the scripted engine in timecode mode, its audio silent between sentences (digital
zeros: the level says "pause"; timecode samples: "speech"). Each server issues sessions
whose limit falls in the middle of a sentence. The client must move to a new session at a
pause before the limit: every word once, in order; no session ends at its limit (3008) or
for audio sent too fast (3007, the server's rate check tightened); and the audio re-sent to
the new session comes at most at the catch-up rate, never in a burst.
"""

from __future__ import annotations

import asyncio
import time

import soundfile as sf
from streaming import Collector, local_server

from tui.core.audio.inputs import open_source
from tui.core.stream import events as ev
from tui.core.stream import rollover as ro
from tui.core.stream.client import CATCHUP_RATE, Connection, StreamingClient
from tui.server.scripted import make_script, timecode_pcm

RATE = 16000
TALK = ["Could you send me the report by Friday?", "Sure, I will.", "Thanks a lot.",
        "The numbers look good this quarter.", "Let us meet again next week.", "Goodbye for now."]
SCRIPT = make_script(TALK * 2, pause_ms=900)
TURNS = len(SCRIPT["turns"])
FIRST_LIMIT_S = 10.5  # sessions this long have a rollover window longer than a sentence and its pause
BLOCK_MS = 50


def talk_wav(path, until_ms: int):
    """Timecode while someone speaks, zeros in the pauses (whole 50 ms blocks)."""
    pcm = timecode_pcm(0, RATE * until_ms // 1000)
    speech = [(t["words"][0][1], t["words"][-1][2]) for t in SCRIPT["turns"]]
    quiet = [(0, speech[0][0])] + [(a[1], b[0]) for a, b in zip(speech, speech[1:])] + [(speech[-1][1], until_ms)]
    for start, end in quiet:
        first = -(-start // BLOCK_MS) * BLOCK_MS
        last = end // BLOCK_MS * BLOCK_MS
        if last > first:
            pcm[first * RATE // 1000: last * RATE // 1000] = 0
    sf.write(path, pcm, RATE, subtype="PCM_16")
    return path


def mid_sentence_s(turn: int) -> float:
    words = SCRIPT["turns"][turn]["words"]
    return words[len(words) // 2][1] / 1000.0


def worst_burst_ms(sent: list[tuple[int, float, float]]) -> float:
    """How far the audio sent to a session after a rollover ran ahead of its wall clock, beyond
    what the catch-up rate allows: (session, wall time, session audio ms after the frame)."""
    worst, first = 0.0, {}
    for session, at, audio_ms in sent:
        first.setdefault(session, at)
        if len(first) > 1 and session != next(iter(first)):
            elapsed_ms = (at - first[session]) * 1000.0
            worst = max(worst, audio_ms - elapsed_ms * CATCHUP_RATE)
    return worst


async def one_run(tmp_path, turn: int) -> tuple[str, list[str], list[str], Collector, float, int]:
    limit_s = mid_sentence_s(turn)
    last = min(turn + 1, TURNS - 1)
    until_ms = SCRIPT["turns"][last]["words"][-1][2] + 700  # the pause after it, not the next word
    wav = talk_wav(tmp_path / f"talk{turn}.wav", until_ms)
    events = Collector()
    async with local_server(SCRIPT, max_session_s=limit_s, rate_buffer_s=1.5) as server:
        client = StreamingClient(Connection(server.url, {"sample_rate": RATE, "format_turns": True},
                                            terminate_timeout=1.5), events)
        sent: list[tuple[int, float, float]] = []

        def trace(kind, frame):
            if kind == "sent":  # the session's clock counts what it was sent (test only: _live)
                sent.append((id(client._live), time.monotonic(), client._live.clock.sent_ms + len(frame.pcm) / 32))

        client.trace = trace
        await asyncio.wait_for(client.run(open_source(str(wav), speed=1.0).frames()), 60)
        sessions = server.sessions_started
    return f"limit {limit_s:.2f} s (mid-sentence {turn + 1})", (TALK * 2)[:last + 1], client.rollovers, events, \
        worst_burst_ms(sent), sessions


async def test_rollover_waits_for_a_pause_at_every_offset(tmp_path):
    first = next(k for k in range(TURNS) if mid_sentence_s(k) >= FIRST_LIMIT_S)
    runs = await asyncio.gather(*(one_run(tmp_path, turn) for turn in range(first, first + 4)))
    for where, expected, rollovers, events, burst_ms, sessions in runs:
        assert events.texts == expected, where  # no word lost, none twice, in order
        assert sessions >= 2 and rollovers and set(rollovers) == {ro.PAUSE}, (where, rollovers)
        assert ev.RECONNECTING not in events.states, where  # no 3008, no 3007
        assert not events.of(ev.MarkerAdded), where
        assert burst_ms <= 3 * BLOCK_MS, (where, burst_ms)  # re-sent audio at the catch-up rate, no burst
