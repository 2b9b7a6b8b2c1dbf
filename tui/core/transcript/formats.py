"""The export formats by name, and the one error an export raises.

Apart from the renderers (tui.core.transcript.exports), so that settings and start-up can
name and check a format without importing them.
"""

from __future__ import annotations

from pathlib import Path

FORMATS = ("txt", "md", "srt", "vtt", "json")
ALIASES = {"text": "txt", "markdown": "md", "webvtt": "vtt"}


class ExportError(Exception):
    """A transcript could not be written; the message is one line for a person."""


def canonical(fmt: str) -> str:
    """A format's own name, for its name or an alias in any case ("Markdown" -> "md")."""
    return ALIASES.get(fmt.lower(), fmt.lower())


def format_for_path(path: Path) -> str:
    fmt = canonical(Path(path).suffix.lstrip("."))
    if fmt not in FORMATS:
        allowed = ", ".join("." + f for f in FORMATS)
        raise ValueError(f"cannot tell the export format from {Path(path).name!r}: use {allowed} (or --format)")
    return fmt
