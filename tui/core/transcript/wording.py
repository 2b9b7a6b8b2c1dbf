"""How times and markers read, the same on screen, in exports and in `captioner sessions`."""

from __future__ import annotations

from tui.core.transcript.model import Marker

MARKER_WORDS = {"pause": "paused", "resume": "resumed", "reconnect": "reconnected", "gap": "audio lost"}


def clock(ms: float) -> str:
    """hh:mm:ss on the session timeline (hours keep growing past 99)."""
    s = max(int(ms), 0) // 1000
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def duration(seconds: float) -> str:
    """A length: m:ss, or h:mm:ss from an hour on."""
    s = max(int(seconds), 0)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def marker_text(m: Marker) -> str:
    """'paused 00:01:02–00:01:30', 'reconnected at 00:02:00: connection lost (1006)', ..."""
    word = MARKER_WORDS.get(m.kind, m.kind)
    span = f"{clock(m.at_ms)}–{clock(m.at_ms + m.duration_ms)}" if m.duration_ms else f"at {clock(m.at_ms)}"
    return f"{word} {span}" + (f": {m.detail}" if m.detail else "")
