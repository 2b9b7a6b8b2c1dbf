"""Past sessions for the CLI: list them, find one by a short reference, export it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tui.core.transcript.exports import format_for_path, render, write_export
from tui.core.transcript.wording import duration
from tui.core.transcript.journal import SUFFIX, read_info, read_journal

FIRST_WORDS = 8


@dataclass
class SessionSummary:
    path: Path
    id: str
    started: float
    duration_s: float
    turns: int
    first_words: str


def _journals(directory: Path) -> list[Path]:
    directory = Path(directory)
    return sorted(directory.glob("*" + SUFFIX)) if directory.is_dir() else []


def summarize(path: Path) -> SessionSummary:
    t = read_journal(path)
    footer = t.footer or {}
    duration = footer.get("session_duration_s")
    if not isinstance(duration, (int, float)):
        duration = t.duration_ms() / 1000  # no footer: the session crashed or is still running
    turns = t.turns
    words = turns[0].text.split() if turns else []
    first = " ".join(words[:FIRST_WORDS]) + (" …" if len(words) > FIRST_WORDS else "")
    return SessionSummary(path, t.info.id, t.info.started, float(duration), len(turns), first)


def list_sessions(directory: Path) -> list[SessionSummary]:
    """Every readable journal in the folder, newest first (unreadable files are left out)."""
    summaries = []
    for path in _journals(directory):
        try:
            summaries.append(summarize(path))
        except (OSError, ValueError):
            continue
    return sorted(summaries, key=lambda s: (s.started, s.path.name), reverse=True)


def resolve_session(directory: Path, ref: str) -> Path:
    """A journal from "last", an id prefix, a file name (or its prefix), or a path."""
    directory = Path(directory)
    ref = ref.strip()
    if not ref:
        raise ValueError("no session given: use 'last', an id, a file name or a path")
    if ref in ("last", "latest"):
        newest = list_sessions(directory)
        if not newest:
            raise ValueError(f"no sessions yet in {directory}")
        return newest[0].path
    for candidate in (Path(ref).expanduser(), directory / ref):
        if candidate.is_file():
            return candidate
    matches = [p for p in _journals(directory) if _matches(p, ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ValueError(f"no session matches {ref!r} in {directory} (see `captioner sessions`)")
    names = ", ".join(p.name for p in matches[:10]) + (", …" if len(matches) > 10 else "")
    raise ValueError(f"{ref!r} is ambiguous: it matches {len(matches)} sessions: {names}")


def _matches(path: Path, ref: str) -> bool:
    if path.name.startswith(ref):
        return True
    try:
        return read_info(path).id.startswith(ref)
    except (OSError, ValueError):
        return False


def sessions_table(summaries: list[SessionSummary]) -> str:
    """Plain aligned columns for `captioner sessions`."""
    if not summaries:
        return "no sessions yet"
    header = ("ID", "STARTED", "LENGTH", "TURNS", "FIRST WORDS")
    rows = [
        (
            s.id[:8],
            datetime.fromtimestamp(s.started).strftime("%Y-%m-%d %H:%M"),
            duration(s.duration_s),
            str(s.turns),
            s.first_words,
        )
        for s in summaries
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [c.rjust(w) if i in (2, 3) else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells + [row[-1]]).rstrip())
    return "\n".join(lines)


def export_session(directory: Path, ref: str, fmt: str | None, output: Path | None,
                   names: dict[str, str] | None = None) -> Path | str:
    """Write the session to `output` (format from fmt or its extension), or return it as text (default txt).

    `names` (label -> name) rename speakers in this export, over names kept in the journal."""
    path = resolve_session(directory, ref)
    try:
        transcript = read_journal(path)
    except OSError as e:  # the CLI reports ValueErrors as one line
        raise ValueError(f"cannot read {path}: {e.strerror or e}") from e
    transcript.speaker_names.update(names or {})
    if output is None:
        return render(transcript, fmt or "txt")
    return write_export(transcript, Path(output), fmt or format_for_path(Path(output)))
