"""Speakers: the one place that turns a label (A, B, ...) into the name a person reads, and
splits a turn into same-speaker spans from its words' labels.

A speaker's name is the one a person gave it (renames are kept per transcript), else its
short label ("A"). Everything that shows a speaker (screen, exports, headless) asks here.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.transcript.model import FinalTurn


SOURCE_SEPARATOR = " · "


def speaker_name(label: str | None, names: dict[str, str] | None = None,
                 source: str | None = None) -> str | None:
    """The name shown for a label (a person's name for it, else the label), after its source's
    name when two sources are captioned ("Them · Alice", "You"); None when nobody is known."""
    who = ((names or {}).get(label) or label) if label else None
    return SOURCE_SEPARATOR.join(p for p in (source, who) if p) or None


def parse_rename(text: str) -> tuple[str, str]:
    """"A=Alice" -> ("A", "Alice"); ValueError naming the form otherwise."""
    label, sep, name = text.partition("=")
    label, name = label.strip(), " ".join(name.split())
    if not sep or not label or not name:
        raise ValueError(f"--speaker {text!r}: use LABEL=NAME, e.g. A=Alice")
    return label, name


@dataclass(slots=True)
class Span:
    """Consecutive text of one turn said by one speaker (label None: not known)."""

    speaker: str | None
    text: str
    start_ms: int
    end_ms: int


def speaker_spans(turn: FinalTurn) -> list[Span]:
    """The turn split where its words' speakers change; one span when they don't.

    The text's tokens are mapped onto the words proportionally (as cues do): the formatted
    text can merge or split words ("$5" for "five dollars").
    """
    words = turn.words  # Words (FinalTurn makes sure): read without decoding each word
    if not words.has_speakers:  # type: ignore[attr-defined]
        return [Span(turn.speaker, turn.text, turn.start_ms, turn.end_ms)]  # the common case, cheap
    labels = [s or turn.speaker for s in words.speakers]  # type: ignore[attr-defined]
    texts = turn.text.split()
    if not texts or len(set(labels)) <= 1:
        return [Span(labels[0], turn.text, turn.start_ms, turn.end_ms)]
    n, m = len(labels), len(texts)
    spans: list[Span] = []
    pieces: list[list[str]] = []
    for i, text in enumerate(texts):
        a = i * n // m
        start, end = words.span_ms(a)  # type: ignore[attr-defined]
        if spans and spans[-1].speaker == labels[a]:
            pieces[-1].append(text)
            spans[-1].end_ms = max(spans[-1].end_ms, end)
        else:
            spans.append(Span(labels[a], "", start, end))
            pieces.append([text])
    for span, words_of in zip(spans, pieces):
        span.text = " ".join(words_of)
    return spans
