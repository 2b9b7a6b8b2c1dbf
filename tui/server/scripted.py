"""A deterministic recognizer that "hears" a script, for protocol and UI tests.

Audio content is ignored; only its duration moves the session's clock. A script lays out
formatted words on the session's audio timeline:

    {"turns": [{"words": [["Hello,", 200, 480], ["world.", 560, 900]]}, ...],
     "duration_ms": 2400, "repeat": false}

With repeat the script loops, each pass shifted by its duration, so long sessions keep
producing turns.

A turn may name its "language" (reported with language_detection).
Speakers and revisions: a turn may name its "speaker" (and a "revised_speaker" that the
end-of-session speaker pass corrects it to); a word may carry a fourth element, an object
with its own "speaker", "revised_speaker", or a "draft": the first guess at the word, which
Pro-family partials show until the audio is REVISE_AFTER_MS past the word.

Timecode mode hears the audio *content* instead of counting session time: test audio made
by `timecode_pcm` carries its own position in its samples, so a session that gets audio
again after a reconnect hears the same words at the same place, as a real recognizer would,
and audio that never arrived (a gap) is never heard.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tui.server.recognizer import Engine, HeardWord, Hypothesis, Recognizer

STABLE_AFTER_MS = 80  # a word is stable once audio passes its end by this much
REVISE_AFTER_MS = 600  # a word's draft is replaced once audio passes its end by this much
WORD_EXTRAS = ("speaker", "revised_speaker", "draft")
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
            ok = isinstance(w, (list, tuple)) and len(w) in (3, 4) and isinstance(w[0], str)
            ok = ok and all(isinstance(x, int) and not isinstance(x, bool) for x in w[1:3])
            ok = ok and (len(w) == 3 or _extras_ok(w[3]))
            if not ok or not (last_end <= w[1] <= w[2]):
                raise ValueError(f"turn {t}: bad word {w!r}: need [text, start_ms, end_ms] in order")
            last_end = w[2]
    if script_duration_ms(script) <= max(last_end, 0):
        raise ValueError("duration_ms must be longer than the script's last word")
    return script


def _extras_ok(extra: Any) -> bool:
    return isinstance(extra, dict) and all(k in WORD_EXTRAS and isinstance(v, str) for k, v in extra.items())


def load_script(source: str | Path | dict | None) -> dict:
    if source is None:
        return make_script(BUILTIN_TURNS, repeat=True)
    if isinstance(source, dict):
        return validate_script(source)
    return validate_script(json.loads(Path(source).read_text(encoding="utf-8")))


TIMECODE_TAG = 0x4000  # first sample of each pair: tag | high bits of the pair index


def timecode_pcm(start_sample: int, count: int) -> np.ndarray:
    """int16 samples that encode their own position: pair k is (TAG | k >> 14, k & 0x3fff)."""
    first = start_sample // 2
    pairs = np.arange(first, first + (count + 1) // 2 + 1, dtype=np.int64)
    out = np.empty(pairs.size * 2, dtype=np.int16)
    out[0::2] = TIMECODE_TAG | (pairs >> 14)
    out[1::2] = pairs & 0x3FFF
    skip = start_sample - first * 2
    return out[skip: skip + count]


def decode_timecode(pcm: bytes) -> int | None:
    """The sample position where this block starts in the original audio, if it is timecode."""
    s = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype=np.int16)
    if s.size < 4:
        return None
    for i in (0, 1):  # a block may start on either sample of a pair
        hi, lo, hi2, lo2 = (int(v) for v in s[i: i + 4])
        if hi & 0xC000 == TIMECODE_TAG and hi2 & 0xC000 == TIMECODE_TAG and 0 <= lo < 0x4000:
            k = ((hi & 0x3FFF) << 14) | lo
            if ((hi2 & 0x3FFF) << 14) | lo2 == k + 1:
                return 2 * k - i
    return None


@dataclass(slots=True)
class _ScriptWord:
    text: str
    start: int
    end: int
    turn: int  # index of the script turn (counting repeats), for dropping a turn's tail
    shift: float = 0.0  # session ms minus script ms when it was heard
    speaker: str | None = None
    revised_speaker: str | None = None
    draft: str | None = None
    language: str | None = None


class ScriptedRecognizer(Recognizer):
    def __init__(self, script: dict, repeat: bool, sample_rate: int = 16000,
                 timecode: bool = False) -> None:
        self.sample_rate = sample_rate
        self._timecode = timecode
        self._now = 0.0  # script time at the end of the audio so far
        self._shift = 0.0  # session time minus script time
        self._script_turns = [t for t in script["turns"] if t.get("words")]
        self._turns = [t["words"] for t in self._script_turns]
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
        turn = self._script_turns[n % len(self._turns)]
        for text, start, end, *extra in turn["words"]:
            more = extra[0] if extra else {}
            speaker = more.get("speaker", turn.get("speaker"))
            self._pending.append(_ScriptWord(text, start + offset, end + offset, n, 0.0, speaker,
                                             more.get("revised_speaker", turn.get("revised_speaker")),
                                             more.get("draft"), turn.get("language")))
        self._next_turn += 1
        return True

    def accept(self, pcm: bytes) -> Hypothesis | None:
        block_ms = len(pcm) / 2 / self.sample_rate * 1000
        self._audio_ms += block_ms
        begin = self._now
        if self._timecode:
            pos = decode_timecode(pcm)
            if pos is None:  # not test audio: silence, in which nothing new is heard
                self._now += block_ms
                return self._changed()
            begin = pos / self.sample_rate * 1000
        self._now = begin + block_ms
        self._shift = self._audio_ms - self._now
        while (self._pending or self._refill()) and self._pending[0].start < begin - 1:
            self._pending.popleft()  # its audio never arrived here: not heard
        while (self._pending or self._refill()) and self._pending[0].start < self._now:
            word = self._pending.popleft()
            word.shift = self._shift
            self._open.append(word)
        return self._changed()

    def _changed(self) -> Hypothesis | None:
        """The hypothesis if it changed since the last one returned."""
        hyp = self._hypothesis()
        key = (tuple(w.draft or w.text for w in hyp.words), hyp.stable, hyp.speech_end_ms)
        if not hyp.words or key == self._last:
            return None
        self._last = key
        return hyp

    def _hypothesis(self) -> Hypothesis:
        now = self._now
        words = self._heard()
        stable = sum(1 for w in self._open if w.end + STABLE_AFTER_MS <= now)
        ended = bool(self._open) and self._open[-1].end <= now
        return Hypothesis(words, stable, words[-1].end if ended else None, None)

    def _heard(self) -> list[HeardWord]:
        """Released words with times on the session's audio clock."""
        now = self._now
        return [HeardWord(w.text, round(w.start + w.shift), round(w.end + w.shift), 1.0, w.speaker,
                          w.draft if w.draft and now < w.end + REVISE_AFTER_MS else None,
                          w.revised_speaker if w.revised_speaker != w.speaker else None, w.language)
                for w in self._open]

    def finalize(self) -> list[HeardWord]:
        """The released words; the unheard rest of their script turn is dropped, as the
        cloud drops the in-flight tail on ForceEndpoint."""
        words = self._heard()
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

    def __init__(self, script: str | Path | dict | None = None, repeat: bool | None = None,
                 timecode: bool = False) -> None:
        self.script = load_script(script)
        self.repeat = bool(self.script.get("repeat")) if repeat is None else repeat
        self.timecode = timecode

    def new_recognizer(self, sample_rate: int = 16000) -> Recognizer:
        # Any rate will do, since only durations count: take the session's, so no resampling.
        return ScriptedRecognizer(self.script, self.repeat, sample_rate, self.timecode)
