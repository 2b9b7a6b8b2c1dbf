"""A transcript of more than one source as exports show it ("You", "Them", "Them · A")."""

from __future__ import annotations

from tui.core.transcript.model import FinalTurn, Transcript
from tui.core.transcript.speakers import speaker_name


def for_export(transcript: Transcript) -> Transcript:
    """Echoes left out, each speaker named after its source (renames applied), and (with two
    sources, whose turns arrive by end time) turns in order of their start."""
    names = transcript.info.sources
    if not names and not any(t.echo_of is not None for t in transcript.turns):
        return transcript
    entries = [_named(e, transcript) if isinstance(e, FinalTurn) else e for e in transcript.entries
               if not (isinstance(e, FinalTurn) and e.echo_of is not None)]
    if len(names) > 1:
        entries.sort(key=_start)
    return Transcript(transcript.info, entries, transcript.footer)  # names are applied: none kept


def _named(turn: FinalTurn, transcript: Transcript) -> FinalTurn:
    """The turn with the names exports show in place of its labels."""
    source = transcript.info.sources.get(turn.source) if turn.source else None
    renames = transcript.speaker_names
    words = [speaker_name(w.speaker, renames, source) if w.speaker else None for w in turn.words]
    return turn.with_speakers(speaker_name(turn.speaker, renames, source), words)


def _start(entry) -> int:
    return entry.start_ms if isinstance(entry, FinalTurn) else entry.at_ms
