"""The small interface every speech recognizer behind the local v3 server implements.

A recognizer turns a session's audio into *hypotheses* about the current turn: the words
heard so far with their times on the session's audio timeline (ms from the first audio
byte), in their formatted form ("Hi,", "Sonny."). It does not decide where turns end:
the server's turn detector does that from the word times and silence, by the reference's
rules (min_turn_silence, max_turn_silence, end_of_turn_confidence_threshold), and derives
the unformatted text itself (protocol.normalize_text).

One recognizer instance serves one websocket session; `create_recognizer(name, ...)` in
tui/server/engines.py builds them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


@dataclass(slots=True)
class HeardWord:
    """One word as heard, formatted, with times in ms of session audio."""

    text: str
    start: int
    end: int
    confidence: float = 1.0
    speaker: str | None = None  # who said it, if the engine knows (the scripted engine can)
    draft: str | None = None  # a first guess shown in Pro partials before it is revised to `text`
    revised_speaker: str | None = None  # the speaker an end-of-session pass corrects it to
    language: str | None = None  # the word's language, if the engine knows (language_detection)


@dataclass(slots=True)
class Hypothesis:
    """What the recognizer currently believes the open turn says.

    words: every word of the open turn, oldest first (formatted text).
    stable: how many leading words will not change any more (they are sent final).
    speech_end_ms: audio time where the latest speech ended (VAD), or None while
        speech is still going on. The turn detector measures silence from here.
    eot_confidence: the recognizer's belief (0..1) that the turn is complete,
        e.g. high after terminal punctuation; None lets the server estimate it.
    """

    words: list[HeardWord] = field(default_factory=list)
    stable: int = 0
    speech_end_ms: int | None = None
    eot_confidence: float | None = None


class Recognizer(ABC):
    """Audio in, hypotheses out. All calls come from one thread, in order."""

    #: Sample rate (Hz) of the s16le mono PCM that `accept` receives.
    sample_rate: int = 16000

    @abstractmethod
    def accept(self, pcm: bytes) -> Hypothesis | None:
        """Take the next block of audio; return a new hypothesis if it changed, else None."""

    @abstractmethod
    def finalize(self) -> list[HeardWord]:
        """Close the open turn now (end of turn, ForceEndpoint, Terminate).

        Returns the turn's final words (may be empty) and starts a new, empty turn.
        Audio after this call belongs to the next turn.
        """

    def close(self) -> None:
        """Release resources at session end."""


class Engine(ABC):
    """A loaded speech engine; the server makes one per process and one recognizer per session.

    Loading (model files, sessions) happens in the constructor, once, so new sessions start fast.
    """

    #: Short name shown to users ("scripted", "moonshine").
    name: str = ""
    #: Model description for Begin.configuration and the journal ("moonshine-tiny-en").
    model: str = ""

    @abstractmethod
    def new_recognizer(self, sample_rate: int = 16000) -> Recognizer:
        """A fresh recognizer for one session."""
