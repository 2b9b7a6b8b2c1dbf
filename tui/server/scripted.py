"""A deterministic recognizer that "hears" a script, for protocol and UI tests.

Audio content is ignored; only its duration moves the session's clock. A script lays out
formatted words on the session's audio timeline:

    {"turns": [{"words": [["Hello,", 200, 480], ["world.", 560, 900]]}, ...],
     "duration_ms": 2400, "repeat": false}

With repeat the script loops, each pass shifted by its duration, so long sessions keep
producing turns.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.server.recognizer import Engine, HeardWord, Hypothesis, Recognizer

STABLE_AFTER_MS = 80  # a word is stable once audio passes its end by this much
DEFAULT_PAUSE_MS = 1500
BUILTIN_TURNS = [
    "Hello, and welcome to captioner.",
    "This is the scripted recognizer speaking.",
    "It says the same thing every time, so tests can rely on it.",
    "Is the text easy to read?",
    "Good. Let's begin again!",
]


def make_script(
    turns: list[str],
    *,
    lead_ms: int = 300,
    word_ms: int = 250,
    gap_ms: int = 60,
    pause_ms: int = DEFAULT_PAUSE_MS,
    repeat: bool = False,
) -> dict:
    """Lay plain text turns out on a timeline: equal-length words, a pause after each turn."""
    t, out = lead_ms, []
    for text in turns:
        words = []
        for word in text.split():
            words.append([word, t, t + word_ms])
            t += word_ms + gap_ms
        if words:
            out.append({"words": words})
            t = words[-1][2] + pause_ms
    return {"turns": out, "duration_ms": t, "repeat": repeat}


def script_duration_ms(script: dict) -> int:
    """Length of one pass: duration_ms if given, else the last word's end plus a pause."""
    if script.get("duration_ms") is not None:
        return int(script["duration_ms"])
    ends = [w[2] for turn in script["turns"] for w in turn["words"]]
    return (max(ends) if ends else 0) + DEFAULT_PAUSE_MS


def validate_script(script: Any) -> dict:
    """Raise ValueError unless `script` is a well-formed script; return it."""
    if not isinstance(script, dict) or not isinstance(script.get("turns"), list):
        raise ValueError('a script is an object with a "turns" list')
    last_end = -1
    for t, turn in enumerate(script["turns"]):
        for w in turn.get("words", []) if isinstance(turn, dict) else [None]:
            ok = isinstance(w, (list, tuple)) and len(w) == 3 and isinstance(w[0], str)
            ok = ok and all(isinstance(x, int) and not isinstance(x, bool) for x in w[1:])
            if not ok or not (last_end <= w[1] <= w[2]):
                raise ValueError(f"turn {t}: bad word {w!r}: need [text, start_ms, end_ms] in order")
            last_end = w[2]
    if script_duration_ms(script) <= max(last_end, 0):
        raise ValueError("duration_ms must be longer than the script's last word")
    return script


def load_script(source: str | Path | dict | None) -> dict:
    if source is None:
        return make_script(BUILTIN_TURNS, repeat=True)
    if isinstance(source, dict):
        return validate_script(source)
    return validate_script(json.loads(Path(source).read_text(encoding="utf-8")))


@dataclass(slots=True)
class _ScriptWord:
    text: str
    start: int
    end: int
    turn: int  # index of the script turn (counting repeats), for dropping a turn's tail


class ScriptedRecognizer(Recognizer):
    def __init__(self, script: dict, repeat: bool, sample_rate: int = 16000) -> None:
        self.sample_rate = sample_rate
        self._turns = [t["words"] for t in script["turns"] if t.get("words")]
        self._duration = script_duration_ms(script)
        self._repeat = repeat and bool(self._turns)
        self._next_turn = 0
        self._pending: deque[_ScriptWord] = deque()
        self._open: list[_ScriptWord] = []
        self._audio_ms = 0.0
        self._last: tuple | None = None

    def _refill(self) -> bool:
        """Queue the next script turn; False when the script is over."""
        n = self._next_turn
        if not self._turns or (n >= len(self._turns) and not self._repeat):
            return False
        offset = (n // len(self._turns)) * self._duration
        for text, start, end in self._turns[n % len(self._turns)]:
            self._pending.append(_ScriptWord(text, start + offset, end + offset, n))
        self._next_turn += 1
        return True

    def accept(self, pcm: bytes) -> Hypothesis | None:
        self._audio_ms += len(pcm) / 2 / self.sample_rate * 1000
        while (self._pending or self._refill()) and self._pending[0].start < self._audio_ms:
            self._open.append(self._pending.popleft())
        hyp = self._hypothesis()
        key = (len(hyp.words), hyp.stable, hyp.speech_end_ms)
        if not hyp.words or key == self._last:
            return None
        self._last = key
        return hyp

    def _hypothesis(self) -> Hypothesis:
        now = self._audio_ms
        words = [HeardWord(w.text, w.start, w.end) for w in self._open]
        stable = sum(1 for w in self._open if w.end + STABLE_AFTER_MS <= now)
        ended = bool(self._open) and self._open[-1].end <= now
        return Hypothesis(words, stable, self._open[-1].end if ended else None, None)

    def finalize(self) -> list[HeardWord]:
        """The released words; the unheard rest of their script turn is dropped, as the
        cloud drops the in-flight tail on ForceEndpoint."""
        words = [HeardWord(w.text, w.start, w.end) for w in self._open]
        if self._open:
            turn = self._open[-1].turn
            while self._pending and self._pending[0].turn == turn:
                self._pending.popleft()
        self._open = []
        self._last = None
        return words


class ScriptedEngine(Engine):
    name = "scripted"
    model = "scripted"

    def __init__(self, script: str | Path | dict | None = None, repeat: bool | None = None) -> None:
        self.script = load_script(script)
        self.repeat = bool(self.script.get("repeat")) if repeat is None else repeat

    def new_recognizer(self, sample_rate: int = 16000) -> Recognizer:
        # Any rate will do, since only durations count: take the session's, so no resampling.
        return ScriptedRecognizer(self.script, self.repeat, sample_rate)
