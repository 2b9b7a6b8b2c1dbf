"""Recognized text to HeardWords: estimated word times and an end-of-turn guess."""

from __future__ import annotations

from collections.abc import Sequence

from tui.core.stream.protocol import normalize_text
from tui.server.recognizer import HeardWord

TERMINAL = (".", "?", "!")
# A period after these does not end a sentence.
ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "prof.", "mt.", "vs.", "etc."})
SENTENCE_END = 0.9  # eot_confidence of words that end a sentence
UNFINISHED = 0.1
# After a long pause; under the conservative preset's threshold (0.7), so those clients
# still wait for a sentence end or max_turn_silence.
PAUSED = 0.6
# A turn of a short phrase: under the default threshold whatever its punctuation, since
# Moonshine ends any short stretch decoded alone with a period ("As not."); such a turn
# waits for max_turn_silence, so a pause inside a sentence does not split it.
SHORT = 0.3
# Words a sentence hardly ever ends on: a turn ending in one waits for max_turn_silence.
CONTINUING = frozenset(
    "a an the and or but nor of to from with because if than my your our their its".split()
)


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


def eot_confidence(words: Sequence[HeardWord], paused: bool = False, short: bool = False) -> float:
    """How complete the turn sounds (a stand-in for a semantic end-of-turn model).

    High after a sentence end; low after a word that needs a continuation ("and", "the");
    otherwise low while the pause is short, and above the default threshold (0.4) once a
    long pause has been heard (`paused`): a speaker who stops for that long after a word that
    can end a sentence has usually finished, even if the recognizer wrote no period.
    A `short` turn (a phrase of a second or so) scores at most SHORT.
    """
    if not words:
        return 0.0
    if short:
        return min(SHORT, eot_confidence(words, paused))
    last = words[-1].text
    if last.endswith(TERMINAL) and last.lower() not in ABBREVIATIONS:
        return SENTENCE_END
    if normalize_text(last) in CONTINUING or last.endswith(("-", ":")):
        return UNFINISHED
    if paused:
        return PAUSED
    return UNFINISHED if last.endswith((",", ";")) else 0.3
