"""Recognized text to HeardWords: estimated word times and an end-of-turn guess."""

from __future__ import annotations

from collections.abc import Sequence

from tui.server.recognizer import HeardWord

TERMINAL = (".", "?", "!")
# A period after these does not end a sentence.
ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "prof.", "mt.", "vs.", "etc."})


def spread_words(texts: Sequence[str], runs: Sequence[tuple[int, int]]) -> list[HeardWord]:
    """Give each word a time span by spreading the words over the speech runs.

    Moonshine tiny reports no per-word times, so this is an estimate: the speech time of
    `runs` (VAD spans, ms) is shared out in proportion to each word's characters (+1 for
    the gap after it), skipping the silences between runs.
    """
    runs = [(s, max(s, e)) for s, e in runs]
    total = sum(e - s for s, e in runs)
    weights = [len(t) + 1 for t in texts]
    scale = total / (sum(weights) or 1)

    def at(x: float) -> int:  # speech time -> session time
        for s, e in runs:
            if x <= e - s:
                return round(s + x)
            x -= e - s
        return runs[-1][1]

    words, pos = [], 0.0
    for text, w in zip(texts, weights):
        start, end = at(pos * scale), at((pos + w - 1) * scale)
        words.append(HeardWord(text, start, max(start, end)))
        pos += w
    return words


def eot_confidence(words: Sequence[HeardWord]) -> float:
    """How complete the turn sounds: high after a sentence end, low after a comma or mid-sentence."""
    if not words:
        return 0.0
    last = words[-1].text
    if last.endswith(TERMINAL) and last.lower() not in ABBREVIATIONS:
        return 0.9
    if last.endswith((",", ";", ":", "-")):
        return 0.1
    return 0.3
