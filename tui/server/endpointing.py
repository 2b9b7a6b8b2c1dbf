"""The turn detector: recognizer hypotheses in, v3 Turn messages out (reference section 3.3).

It decides where turns end from word times and silence (end_of_turn_confidence_threshold,
min_turn_silence, max_turn_silence) and builds the partial, end-of-turn and formatted
messages. It never calls the recognizer; the session does, in its worker thread.

Two families (addendum section 1). Universal-Streaming: word-by-word partials whose final
words never change, `transcript` the final words only. Pro: SpeechStarted first, then
whole-turn partials (every word provisional, formatted, earlier words may be revised), and
exactly one formatted final per turn; the turn ends on content (terminal punctuation after
min_turn_silence), never on the confidence threshold. With speaker_labels, every Turn has
speaker_label and final words have `speaker`; an end-of-session pass may revise them.
"""

from __future__ import annotations

from dataclasses import dataclass

from collections import Counter

from tui.core.stream.protocol import Revision, SpeakerRevision, SpeechStarted, Turn, Word, normalize_text
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
    #: The Pro family's behaviour (whole-turn revisable partials, SpeechStarted).
    pro: bool = False
    speaker_labels: bool = False
    language_detection: bool = False


def estimate_confidence(words: list[HeardWord]) -> float:
    """A stand-in for a semantic model: a sentence that ends in . ? ! is probably done."""
    if words and words[-1].text.rstrip("\"')]").endswith((".", "?", "!")):
        return CONFIDENT
    return UNSURE


def wire_words(heard: list[HeardWord], stable: int, formatted: bool, speakers: bool = False) -> list[Word]:
    """Protocol words: all but the last are final, and so are the first `stable`.

    Words with nothing left after normalization (a lone dash) are dropped in both forms,
    so the formatted message has the same timestamps as the unformatted one. With
    `speakers`, final words carry the speaker the engine gave them.
    """
    out = []
    for i, w in enumerate(heard):
        plain = normalize_text(w.text)
        if not plain:
            continue
        text = w.text.strip() if formatted else plain
        final = i < stable or i < len(heard) - 1
        speaker = w.speaker if speakers and final else None
        out.append(Word(w.start, w.end, text, round(w.confidence, 6), final, speaker))
    return out


def pro_words(heard: list[HeardWord], final: bool, speakers: bool) -> list[Word]:
    """Pro words: formatted, all provisional in a partial (drafts shown), all final at the end."""
    drafted = [w if final or not w.draft else HeardWord(w.draft, w.start, w.end, w.confidence, w.speaker)
               for w in heard]
    words = wire_words(drafted, len(drafted), True, speakers and final)
    if not final:
        for w in words:
            w.word_is_final = False
    return words


def dominant_speaker(heard: list[HeardWord]) -> str | None:
    """The speaker of most of the turn's words (the turn's speaker_label)."""
    counts = Counter(w.speaker for w in heard if w.speaker)
    return counts.most_common(1)[0][0] if counts else None


def transcript(words: list[Word]) -> str:
    return " ".join(w.text for w in words if w.word_is_final)


class TurnDetector:
    """State of the open turn for one session. Not thread-safe: one caller at a time."""

    def __init__(self, settings: TurnSettings | None = None) -> None:
        self.settings = settings or TurnSettings()
        self.turn_order = 0
        self._hyp = Hypothesis()
        self._last_sent: Turn | None = None
        self._revised: list[Revision] = []  # speaker corrections for the end of the session

    @property
    def confidence(self) -> float:
        if self._hyp.eot_confidence is not None:
            return round(self._hyp.eot_confidence, 6)
        return estimate_confidence(self._hyp.words)

    def observe(self, hyp: Hypothesis | None) -> list[Turn | SpeechStarted]:
        """Take the recognizer's latest hypothesis; return the messages to send (a partial)."""
        if hyp is None:
            return []
        self._hyp = hyp
        s = self.settings
        formatted = s.in_model_formatting or s.pro
        if s.pro:
            words = pro_words(hyp.words, False, s.speaker_labels)
            text, confidence = " ".join(w.text for w in words), 0.0
        else:
            words = wire_words(hyp.words, hyp.stable, formatted, s.speaker_labels)
            text, confidence = transcript(words), self.confidence
        if not words:
            return []  # no Turn messages during silence
        turn = Turn(turn_order=self.turn_order, end_of_turn=False, turn_is_formatted=formatted,
                    transcript=text, words=words, end_of_turn_confidence=confidence,
                    speaker_label=self._label(hyp.words))
        if turn == self._last_sent:
            return []
        out: list[Turn | SpeechStarted] = []
        if s.pro and self._last_sent is None:
            out.append(SpeechStarted(words[0].start, 0.95))  # Pro only: speech before the words
        self._last_sent = turn
        return out + [turn]

    def _label(self, heard: list[HeardWord]) -> str | None:
        """The turn's speaker_label: only from an engine that knows speakers (never invented);
        a script may say PENDING/UNKNOWN, as the service does for turns not attributed yet."""
        return dominant_speaker(heard) if self.settings.speaker_labels else None

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
        # Pro ends turns on content: terminal punctuation, not the confidence threshold.
        confident = self.confidence > (0.5 if s.pro else s.end_of_turn_confidence_threshold)
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
        s = self.settings
        if s.pro:
            messages = [self._pro_final(heard)]
        else:
            messages = [self._final(heard, confidence, s.in_model_formatting)]
            if s.format_turns and not s.in_model_formatting:
                messages.append(self._final(heard, confidence, True))
        self._note_revision(heard, messages[-1])
        self._detect_language(heard, messages)
        self.turn_order += 1
        return messages

    def _detect_language(self, heard: list[HeardWord], finals: list[Turn]) -> None:
        """With language_detection: the final turns carry the turn's language, if the engine knows it."""
        counts = Counter(w.language for w in heard if w.language)
        if self.settings.language_detection and counts:
            code, n = counts.most_common(1)[0]
            for turn in finals:
                turn.language_code, turn.language_confidence = code, round(n / len(heard), 4)

    def _pro_final(self, heard: list[HeardWord]) -> Turn:
        words = pro_words(heard, True, self.settings.speaker_labels)
        text = " ".join(w.text for w in words)
        return Turn(turn_order=self.turn_order, end_of_turn=True, turn_is_formatted=True, transcript=text,
                    words=words, end_of_turn_confidence=1.0, utterance=text,
                    speaker_label=self._label(heard))

    def _note_revision(self, heard: list[HeardWord], final: Turn) -> None:
        """Keep the corrected speakers of this turn, if the engine has any, for revisions()."""
        if not self.settings.speaker_labels or not any(w.revised_speaker for w in heard):
            return
        fixed = [HeardWord(w.text, w.start, w.end, w.confidence, w.revised_speaker or w.speaker) for w in heard]
        words = wire_words(fixed, len(fixed), final.turn_is_formatted, True)
        self._revised.append(Revision(self.turn_order, dominant_speaker(fixed), words))

    def revisions(self) -> SpeakerRevision | None:
        """The end-of-session speaker pass: one SpeakerRevision, or None if nothing changed."""
        revised, self._revised = self._revised, []
        return SpeakerRevision(revised) if revised else None

    def _final(self, heard: list[HeardWord], confidence: float, formatted: bool) -> Turn:
        words = wire_words(heard, len(heard), formatted, self.settings.speaker_labels)
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
            speaker_label=self._label(heard),
        )
