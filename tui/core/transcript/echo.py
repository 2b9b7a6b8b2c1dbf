"""Echo: the microphone hearing the loudspeakers, so the system audio's words arrive twice.

A microphone turn is an echo of a system turn when the two overlap for at least half of
the mic turn's time and at least 80 % of the mic turn's words (4 or more) appear, in order,
in the system turn (or in the system turns it overlaps, taken together: the two streams may
cut the same speech into turns at different places). Pure functions and a small window of recent system turns; no I/O.
"""

from __future__ import annotations

import re
from collections import deque

from tui.core.transcript.model import FinalTurn

MIN_WORDS = 4
MIN_TIME_OVERLAP = 0.5
MIN_WORD_SHARE = 0.8
KEEP_SYSTEM_TURNS = 20  # recent system turns a mic turn is compared with

_WORD = re.compile(r"[\w']+")


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation: "Hello, world!" -> ["hello", "world"]."""
    return [w.strip("'") for w in _WORD.findall(text.casefold()) if w.strip("'")]


def time_overlap(a: FinalTurn, b: FinalTurn) -> float:
    """The share of a's time that b overlaps (0..1)."""
    overlap = min(a.end_ms, b.end_ms) - max(a.start_ms, b.start_ms)
    return max(overlap, 0) / max(a.end_ms - a.start_ms, 1)


def common_in_order(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two word lists."""
    prev = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b):
            row.append(prev[j] + 1 if x == y else max(prev[j + 1], row[j]))
        prev = row
    return prev[-1]


def is_echo(mic: FinalTurn, system: FinalTurn | list[FinalTurn]) -> bool:
    """Whether the mic turn repeats the system turn, or the system turns it overlaps taken
    together (the two streams may split the same speech into turns differently)."""
    turns = system if isinstance(system, list) else [system]
    mine = words_of(mic.text)
    if len(mine) < MIN_WORDS or sum(time_overlap(mic, t) for t in turns) < MIN_TIME_OVERLAP:
        return False
    theirs = [w for t in sorted(turns, key=lambda t: t.start_ms) for w in words_of(t.text)]
    return common_in_order(mine, theirs) >= MIN_WORD_SHARE * len(mine)


class EchoDetector:
    """Remembers recent system turns; tells which one (if any) a mic turn repeats."""

    def __init__(self) -> None:
        self.system: deque[FinalTurn] = deque(maxlen=KEEP_SYSTEM_TURNS)

    def add_system(self, turn: FinalTurn) -> None:
        self.system = deque((t for t in self.system if t.index != turn.index), maxlen=KEEP_SYSTEM_TURNS)
        self.system.append(turn)  # a formatted final replaces its unformatted one

    def echo_of(self, mic: FinalTurn) -> int | None:
        """The index of the system turn this mic turn repeats (the one it overlaps most when
        it repeats several together), else None."""
        beside = [t for t in self.system if time_overlap(mic, t) > 0]
        if not beside or not is_echo(mic, beside):
            return None
        return max(beside, key=lambda t: time_overlap(mic, t)).index
