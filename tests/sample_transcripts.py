"""Realistic transcripts for tests: formatted turns with plausible word timings."""

from __future__ import annotations

import random

from tui.core.transcript.model import (
    FinalTurn,
    Marker,
    SessionInfo,
    TimedWord,
    Transcript,
)

TURN_TEXTS = [
    "And so, my fellow Americans, ask not what your country can do for you. "
    "Ask what you can do for your country. My fellow citizens of the world, ask not what "
    "America will do for you, but what together we can do for the freedom of man.",
    "Mr. John Dashwood had then leisure to consider how much there might be prudently in his "
    "power to do for them. He was not an ill-disposed young man, unless to be rather "
    "cold-hearted and rather selfish is to be ill-disposed.",
    "Go forward ten meters. Then turn left.",
    "Finally, whether you are citizens of America or citizens of the world, ask of us the same "
    "high standards of strength and sacrifice which we ask of you. With a good conscience our "
    "only sure reward, with history the final judge of our deeds, let us go forth to lead the "
    "land we love, asking His blessing and His help, but knowing that here on earth God's work "
    "must truly be our own.",
]
STARTED = 1_700_000_000.0


def info(session_id: str = "a1b2c3d4e5f6", started: float = STARTED) -> SessionInfo:
    return SessionInfo(
        id=session_id,
        started=started,
        engine="assemblyai",
        model="universal-streaming-english",
        input="default microphone",
        version="0.1.0",
        endpoint="streaming.assemblyai.com",
    )


def timed_words(text: str, start_ms: int, rng: random.Random) -> list[TimedWord]:
    """Speech-like timing: longer words take longer; commas and full stops add pauses."""
    words, t = [], start_ms
    for token in text.split():
        dur = 90 + 55 * len(token.strip(".,!?")) + rng.randint(-30, 30)
        words.append(TimedWord(token, t, t + dur, round(rng.uniform(0.7, 1.0), 3)))
        gap = rng.randint(20, 90)
        if token.endswith(","):
            gap += 250
        elif token.endswith((".", "?", "!")):
            gap += 550
        t += dur + gap
    return words


def make_turn(index: int, text: str, start_ms: int, rng: random.Random, **extra) -> FinalTurn:
    words = timed_words(text, start_ms, rng)
    return FinalTurn(index, words[0].start_ms, words[-1].end_ms, text, words, STARTED + start_ms / 1000, **extra)


def sample_transcript(offset_ms: int = 1_200, seed: int = 7, with_markers: bool = True) -> Transcript:
    """Four turns (one short), a pause and a reconnect between them."""
    rng = random.Random(seed)
    t = Transcript(info())
    at = offset_ms
    for i, text in enumerate(TURN_TEXTS):
        turn = make_turn(i, text, at, rng, speaker="A" if i % 2 == 0 else "B", language="en")
        t.add(turn)
        at = turn.end_ms + 1_500
        if with_markers and i == 1:
            t.add(Marker("pause", at, STARTED + at / 1000, duration_ms=28_000))
            at += 28_000
        if with_markers and i == 2:
            t.add(Marker("reconnect", at, STARTED + at / 1000, detail="connection lost (1006)"))
            at += 2_000
    return t


HOUR = 3_600_000


def stress_transcript() -> Transcript:
    """Edge cases on one timeline: hours in, no punctuation, an overlong word, no words."""
    rng = random.Random(3)
    t = Transcript(info())
    base = 3 * HOUR + 25 * 60_000
    t.add(make_turn(0, "Okay.", base, rng))  # one-word turn
    run_on = " ".join(["we kept going without any punctuation at all"] * 6)
    t.add(make_turn(1, run_on, base + 2_000, rng))
    long_word = "Pneumonoultramicroscopicsilicovolcanoconiosis-related"
    t.add(make_turn(2, f"The word {long_word} is long.", base + 40_000, rng))
    t.add(FinalTurn(3, base + 50_000, base + 58_000, TURN_TEXTS[1], [], STARTED))  # no word timings
    t.add(FinalTurn(4, base + 60_000, base + 60_000, "Instant.", [], STARTED))  # zero-length span
    # Word timings that overlap the previous turn (e.g. after a reconnect re-anchored the clock).
    t.add(make_turn(5, "Overlapping start, then fine.", base + 59_500, rng))
    # Formatted text whose tokens differ from the words: "$5" was heard as "five dollars".
    words = [TimedWord("it", base + 70_000, base + 70_200), TimedWord("costs", base + 70_250, base + 70_600),
             TimedWord("five", base + 70_650, base + 70_900), TimedWord("dollars", base + 70_950, base + 71_400)]
    t.add(FinalTurn(6, base + 70_000, base + 71_400, "It costs $5.", words, STARTED))
    return t
