"""The turn detector: recognizer hypotheses in, v3 Turn messages out (reference section 3.3).

It decides where turns end from word times and silence (end_of_turn_confidence_threshold,
min_turn_silence, max_turn_silence) and builds the partial, end-of-turn and formatted
messages. It never calls the recognizer; the session does, in its worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.stream.protocol import Turn, Word, normalize_text
from tui.server.recognizer import HeardWord, Hypothesis

MIN_SPEECH_MS = 80  # speech needed since the last end of turn before another can fire
CONFIDENT = 0.9  # estimated end-of-turn confidence after terminal punctuation
UNSURE = 0.1


@dataclass(slots=True)
class TurnSettings:
    end_of_turn_confidence_threshold: float = 0.4
    min_turn_silence: int = 400
    max_turn_silence: int = 1280
    format_turns: bool = False
    #: The 2026 mode: every Turn formatted, a single end-of-turn message.
    in_model_formatting: bool = False


def estimate_confidence(words: list[HeardWord]) -> float:
    """A stand-in for a semantic model: a sentence that ends in . ? ! is probably done."""
    if words and words[-1].text.rstrip("\"')]").endswith((".", "?", "!")):
        return CONFIDENT
    return UNSURE


def wire_words(heard: list[HeardWord], stable: int, formatted: bool) -> list[Word]:
    """Protocol words: all but the last are final, and so are the first `stable`.

    Words with nothing left after normalization (a lone dash) are dropped in both forms,
    so the formatted message has the same timestamps as the unformatted one.
    """
    out = []
    for i, w in enumerate(heard):
        plain = normalize_text(w.text)
        if not plain:
            continue
        text = w.text.strip() if formatted else plain
        final = i < stable or i < len(heard) - 1
        out.append(Word(w.start, w.end, text, round(w.confidence, 6), final))
    return out


def transcript(words: list[Word]) -> str:
    return " ".join(w.text for w in words if w.word_is_final)


class TurnDetector:
    """State of the open turn for one session. Not thread-safe: one caller at a time."""

    def __init__(self, settings: TurnSettings | None = None) -> None:
        self.settings = settings or TurnSettings()
        self.turn_order = 0
        self._hyp = Hypothesis()
        self._last_sent: Turn | None = None

    @property
    def confidence(self) -> float:
        if self._hyp.eot_confidence is not None:
            return round(self._hyp.eot_confidence, 6)
        return estimate_confidence(self._hyp.words)

    def observe(self, hyp: Hypothesis | None) -> list[Turn]:
        """Take the recognizer's latest hypothesis; return the partial to send, if any."""
        if hyp is None:
            return []
        self._hyp = hyp
        formatted = self.settings.in_model_formatting
        words = wire_words(hyp.words, hyp.stable, formatted)
        if not words:
            return []  # no Turn messages during silence
        turn = Turn(
            turn_order=self.turn_order,
            end_of_turn=False,
            turn_is_formatted=formatted,
            transcript=transcript(words),
            words=words,
            end_of_turn_confidence=self.confidence,
        )
        if turn == self._last_sent:
            return []
        self._last_sent = turn
        return [turn]

    def silence_ms(self, audio_ms: int) -> int:
        end = self._hyp.speech_end_ms
        return 0 if end is None else max(0, audio_ms - end)

    def due(self, audio_ms: int) -> bool:
        """Whether the open turn ends now, at `audio_ms` of session audio."""
        words = self._hyp.words
        if not words or self._hyp.speech_end_ms is None:
            return False
        if max(w.end for w in words) - words[0].start < MIN_SPEECH_MS:
            return False
        s = self.settings
        silence = self.silence_ms(audio_ms)
        confident = self.confidence > s.end_of_turn_confidence_threshold
        return (confident and silence >= s.min_turn_silence) or silence >= s.max_turn_silence

    def finish(self, heard: list[HeardWord]) -> list[Turn]:
        """Close the turn with the recognizer's final words; return its end-of-turn messages.

        Nothing is sent for an empty turn, and turn_order only advances past sent turns.
        """
        given = self._hyp.eot_confidence
        confidence = round(given, 6) if given is not None else estimate_confidence(heard)
        self._hyp = Hypothesis()
        self._last_sent = None
        if not wire_words(heard, len(heard), False):
            return []
        messages = [self._final(heard, confidence, self.settings.in_model_formatting)]
        if self.settings.format_turns and not self.settings.in_model_formatting:
            messages.append(self._final(heard, confidence, True))
        self.turn_order += 1
        return messages

    def _final(self, heard: list[HeardWord], confidence: float, formatted: bool) -> Turn:
        words = wire_words(heard, len(heard), formatted)
        text = transcript(words)
        if formatted and not self.settings.in_model_formatting:
            utterance = ""  # the classic formatted copy leaves it empty
        else:
            utterance = text if formatted else text[:1].upper() + text[1:]
        return Turn(
            turn_order=self.turn_order,
            end_of_turn=True,
            turn_is_formatted=formatted,
            transcript=text,
            words=words,
            end_of_turn_confidence=confidence,
            utterance=utterance,
        )
