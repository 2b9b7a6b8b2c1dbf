"""Who said a turn when more than one source is captioned ("You", "Them", "Them · A").

The one place that combines a turn's source name with its diarization label, for the
screen and every export, so a speaker rename and a source name compose the same way.
"""

from __future__ import annotations

from dataclasses import replace

from tui.core.transcript.model import FinalTurn, Transcript

SEPARATOR = " · "


def speaker_name(turn: FinalTurn, sources: dict[str, str]) -> str | None:
    """The name shown for a turn: its source's name, then its speaker label, either alone."""
    source = sources.get(turn.source) if turn.source else None
    parts = [p for p in (source, turn.speaker) if p]
    return SEPARATOR.join(parts) or None


def for_export(transcript: Transcript) -> Transcript:
    """The transcript as exports show it: echoes left out, speakers named by their source,
    and (with two sources, whose turns arrive by end time) turns in order of their start."""
    names = transcript.info.sources
    if not names and not any(t.echo_of is not None for t in transcript.turns):
        return transcript
    entries = [e if not isinstance(e, FinalTurn) else replace(e, speaker=speaker_name(e, names))
               for e in transcript.entries if not (isinstance(e, FinalTurn) and e.echo_of is not None)]
    if len(names) > 1:
        entries.sort(key=_start)
    return Transcript(transcript.info, entries, transcript.footer)


def _start(entry) -> int:
    return entry.start_ms if isinstance(entry, FinalTurn) else entry.at_ms
