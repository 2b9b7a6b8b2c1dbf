"""The transcript model: finalized turns and markers on the captioner's continuous timeline.

Plain dataclasses, no I/O. The journal stores them one JSON line each; exports render them.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

MARKER_KINDS = ("pause", "resume", "reconnect", "gap")


@dataclass(slots=True)
class TimedWord:
    text: str
    start_ms: int
    end_ms: int
    confidence: float = 1.0
    speaker: str | None = None  # the word's own speaker label, when the service gave one


class Words(Sequence[TimedWord]):
    """A turn's words, stored compactly: a 3-hour lecture keeps every word in memory.

    One string of the texts and one int32 array of (start, end, confidence in millionths)
    take ~25 bytes a word instead of ~190 for a TimedWord object each, and the garbage
    collector has nothing to walk. Reads give TimedWords.
    """

    __slots__ = ("_texts", "_nums", "_speakers")
    SEP = "\x1f"  # ASCII unit separator: never part of a word

    def __init__(self, words: Iterable[TimedWord] = ()) -> None:
        words = list(words)
        self._texts = self.SEP.join(w.text.replace(self.SEP, " ") for w in words) if words else None
        self._nums = array("i")
        for w in words:
            # Confidence is 0..1; a nonsense value from the wire must not overflow the int32.
            self._nums.extend((w.start_ms, w.end_ms, round(min(max(w.confidence, 0.0), 1.0) * 1e6)))
        # Most turns have no word speakers: then no list at all.
        speakers = tuple(w.speaker for w in words)
        self._speakers = speakers if any(speakers) else None

    def __len__(self) -> int:
        return len(self._nums) // 3

    @property
    def has_speakers(self) -> bool:
        """Whether any word carries its own speaker (without decoding the words)."""
        return self._speakers is not None

    @property
    def speakers(self) -> tuple[str | None, ...]:
        """Each word's own speaker label (None where it has none), without decoding the words."""
        return self._speakers or (None,) * len(self)

    def span_ms(self, i: int) -> tuple[int, int]:
        """Word i's (start_ms, end_ms), without decoding it."""
        return self._nums[3 * i], self._nums[3 * i + 1]

    def __iter__(self) -> Iterator[TimedWord]:
        if self._texts is None:
            return
        nums, speakers = self._nums, self._speakers
        for i, text in enumerate(self._texts.split(self.SEP)):
            yield TimedWord(text, nums[3 * i], nums[3 * i + 1], nums[3 * i + 2] / 1e6,
                            speakers[i] if speakers else None)

    def __getitem__(self, i):  # type: ignore[override]
        words = list(self)
        return words[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Words, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Words({list(self)!r})"


@dataclass(slots=True)
class FinalTurn:
    index: int  # 0-based order across the whole captioner session (all reconnects)
    start_ms: int  # on the captioner's continuous timeline (ms since capture began)
    end_ms: int
    text: str  # formatted text exactly as the service sent it (never re-cased)
    words: Sequence[TimedWord]  # stored as Words
    wall_time: float  # time.time() when it became final
    speaker: str | None = None  # the turn's label (A, B, ...); None: not known (PENDING, UNKNOWN)
    language: str | None = None
    language_confidence: float | None = None
    source: str | None = None  # "mic" or "system" when more than one source is captioned
    echo_of: int | None = None  # a mic turn that repeats this system turn (hidden; see echo.py)

    def __post_init__(self) -> None:
        if not isinstance(self.words, Words):
            self.words = Words(self.words)

    def with_speakers(self, speaker: str | None, word_speakers: Sequence[str | None] | None) -> "FinalTurn":
        """A copy with corrected speakers (a SpeakerRevision); text and times never change."""
        words = list(self.words)
        spoken = list(word_speakers or [])
        if len(spoken) != len(words):
            spoken = [None] * len(words)  # no word-level labels: each word falls back to the turn's
        words = [TimedWord(w.text, w.start_ms, w.end_ms, w.confidence, s) for w, s in zip(words, spoken)]
        return replace(self, words=words, speaker=speaker)


@dataclass(slots=True)
class Marker:
    kind: str  # "pause" | "resume" | "reconnect" | "gap"
    at_ms: int
    wall_time: float
    duration_ms: int = 0
    detail: str = ""


@dataclass(slots=True)
class SessionInfo:
    id: str
    started: float  # epoch seconds
    engine: str
    model: str
    input: str
    version: str
    endpoint: str = ""  # host only, never a query (which could carry a token)
    sources: dict[str, str] = field(default_factory=dict)  # source -> its name ("mic": "You")


Entry = FinalTurn | Marker


@dataclass
class Transcript:
    """Everything one captioner session produced, in arrival order."""

    info: SessionInfo
    entries: list[Entry] = field(default_factory=list)
    footer: dict[str, Any] | None = None
    speaker_names: dict[str, str] = field(default_factory=dict)  # label -> name given by a person
    _where: dict[int, int] = field(default_factory=dict, repr=False, compare=False)  # index -> position

    def __post_init__(self) -> None:
        entries, self.entries = self.entries, []
        for entry in entries:
            self.add(entry)

    @property
    def turns(self) -> list[FinalTurn]:
        return [e for e in self.entries if isinstance(e, FinalTurn)]

    @property
    def markers(self) -> list[Marker]:
        return [e for e in self.entries if isinstance(e, Marker)]

    def add(self, entry: Entry) -> None:
        """Append an entry; a turn whose index is already present replaces it (each turn once)."""
        if isinstance(entry, FinalTurn):
            where = self._where.get(entry.index)
            if where is not None:
                self.entries[where] = entry
                return
            self._where[entry.index] = len(self.entries)
        self.entries.append(entry)

    def turn(self, index: int) -> FinalTurn | None:
        where = self._where.get(index)
        return self.entries[where] if where is not None else None  # type: ignore[return-value]

    def duration_ms(self) -> int:
        """End of the last thing on the timeline (or the reported audio length, if longer)."""
        ends = [0]
        for e in self.entries:
            ends.append(e.end_ms if isinstance(e, FinalTurn) else e.at_ms + e.duration_ms)
        if self.footer and isinstance(self.footer.get("audio_duration_s"), (int, float)):
            ends.append(round(self.footer["audio_duration_s"] * 1000))
        return max(ends)


# ------------------------------------------------------------------ dict forms


def iso_time(epoch: float) -> str:
    """Local time with its UTC offset, to the microsecond so it round-trips."""
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone().isoformat(timespec="microseconds")


def epoch_time(value: Any) -> float:
    """Accept what iso_time wrote, or a bare epoch number."""
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.fromisoformat(value).timestamp()


def word_to_dict(w: TimedWord) -> dict[str, Any]:
    d = {"text": w.text, "start_ms": w.start_ms, "end_ms": w.end_ms, "confidence": w.confidence}
    if w.speaker is not None:
        d["speaker"] = w.speaker
    return d


def word_from_dict(d: dict[str, Any]) -> TimedWord:
    speaker = d.get("speaker")
    return TimedWord(str(d["text"]), int(d["start_ms"]), int(d["end_ms"]), float(d.get("confidence", 1.0)),
                     speaker if isinstance(speaker, str) else None)


def turn_to_dict(t: FinalTurn) -> dict[str, Any]:
    d: dict[str, Any] = {
        "index": t.index,
        "start_ms": t.start_ms,
        "end_ms": t.end_ms,
        "wall_time": iso_time(t.wall_time),
        "text": t.text,
        "words": [word_to_dict(w) for w in t.words],
    }
    if t.speaker is not None:
        d["speaker"] = t.speaker
    if t.language is not None:
        d["language"] = t.language
    if t.language_confidence is not None:
        d["language_confidence"] = t.language_confidence
    if t.source is not None:
        d["source"] = t.source
    if t.echo_of is not None:
        d["echo_of"] = t.echo_of
    return d


def turn_from_dict(d: dict[str, Any]) -> FinalTurn:
    return FinalTurn(
        index=int(d["index"]),
        start_ms=int(d["start_ms"]),
        end_ms=int(d["end_ms"]),
        text=str(d["text"]),
        words=[word_from_dict(w) for w in d.get("words", [])],
        wall_time=epoch_time(d["wall_time"]),
        speaker=d.get("speaker"),
        language=d.get("language"),
        language_confidence=d.get("language_confidence"),
        source=d.get("source"),
        echo_of=d.get("echo_of"),
    )


def marker_to_dict(m: Marker) -> dict[str, Any]:
    return {
        "kind": m.kind,
        "at_ms": m.at_ms,
        "duration_ms": m.duration_ms,
        "detail": m.detail,
        "wall_time": iso_time(m.wall_time),
    }


def marker_from_dict(d: dict[str, Any]) -> Marker:
    return Marker(
        kind=str(d["kind"]),
        at_ms=int(d["at_ms"]),
        wall_time=epoch_time(d["wall_time"]),
        duration_ms=int(d.get("duration_ms", 0)),
        detail=str(d.get("detail", "")),
    )


def info_to_dict(info: SessionInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "start": iso_time(info.started),
        "start_epoch": info.started,
        "engine": info.engine,
        "model": info.model,
        "input": info.input,
        "version": info.version,
        "endpoint": info.endpoint,
        **({"sources": dict(info.sources)} if info.sources else {}),
    }


def info_from_dict(d: dict[str, Any]) -> SessionInfo:
    started = d["start_epoch"] if "start_epoch" in d else epoch_time(d["start"])
    return SessionInfo(
        id=str(d["id"]),
        started=float(started),
        engine=str(d.get("engine", "")),
        model=str(d.get("model", "")),
        input=str(d.get("input", "")),
        version=str(d.get("version", "")),
        endpoint=str(d.get("endpoint", "")),
        sources={str(k): str(v) for k, v in (d.get("sources") or {}).items()},
    )
