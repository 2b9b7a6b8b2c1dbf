"""Render a transcript as txt, md, srt, vtt or json, and write it atomically."""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from tui.core.transcript.cues import Cue, build_cues
from tui.core.transcript.speakers import speaker_name, speaker_spans
from tui.core.transcript.sources import for_export
from tui.core.transcript.wording import clock, duration, marker_text
from tui.core.transcript.formats import FORMATS, ExportError, canonical, format_for_path
from tui.core.transcript.model import FinalTurn, Marker, Transcript, info_to_dict, marker_to_dict, turn_to_dict



# ------------------------------------------------------------------ time formats


def cue_time(ms: int, sep: str) -> str:
    """hh:mm:ss,mmm (SRT) or hh:mm:ss.mmm (VTT)."""
    ms = max(ms, 0)
    return f"{clock(ms)}{sep}{ms % 1000:03d}"


# ------------------------------------------------------------------ renderers


def _voiced(t: Transcript, turn: FinalTurn, last: list[str | None]) -> list[tuple[str | None, str]]:
    """The turn's (name shown, text) pieces: a name only where the speaker changes.

    `last` holds the previous speaker's name across calls (a one-item list)."""
    out = []
    for span in speaker_spans(turn):
        name = speaker_name(span.speaker, t.speaker_names)
        out.append((name if name and name != last[0] else None, span.text))
        last[0] = name or last[0]
    return out


def _txt(t: Transcript, timestamps: bool) -> str:
    paragraphs, last = [], [None]
    for e in t.entries:
        if isinstance(e, Marker):
            paragraphs.append(f"[{marker_text(e)}]")
            continue
        stamp = f"[{clock(e.start_ms)}] " if timestamps else ""
        pieces = [f"{who}: {text}" if who else text for who, text in _voiced(t, e, last)]
        paragraphs.append(stamp + " ".join(pieces))
    return "\n\n".join(paragraphs) + "\n" if paragraphs else ""


_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=#]|\d+(?=[.)]))")


def md_escape(text: str) -> str:
    """Backslash-escape whatever Markdown (CommonMark/GFM) could read as markup."""
    lines = []
    for line in text.splitlines() or [""]:
        line = _MD_INLINE.sub(r"\\\1", line.strip())  # leading spaces could start a code block
        lines.append(_MD_LINE_START.sub(_escape_line_start, line))
    return "  \n".join(lines)  # a hard break keeps the text's own line breaks


def _escape_line_start(m: re.Match[str]) -> str:
    # Lists, headings and setext underlines only count at a line start: "- x", "# x", "1. x".
    lead, mark = m[1], m[2]
    return lead + (mark + "\\" if mark[0].isdigit() else "\\" + mark)


def _md(t: Transcript, timestamps: bool) -> str:
    info = t.info
    started = datetime.fromtimestamp(info.started)
    engine = " ".join(x for x in (info.engine, info.model) if x)
    out = [
        f"# Captions — {started:%Y-%m-%d}",
        "",
        md_escape(f"{started:%Y-%m-%d %H:%M} · {duration(t.duration_ms() / 1000)} · {engine}"),
    ]
    last: list[str | None] = [None]
    for e in t.entries:
        out.append("")
        if isinstance(e, Marker):
            out.append(f"*{md_escape(marker_text(e))}*")
            continue
        stamp = f"`{clock(e.start_ms)}` " if timestamps else ""
        pieces = [f"**{md_escape(who)}:** {md_escape(text)}" if who else md_escape(text)
                  for who, text in _voiced(t, e, last)]
        out.append(stamp + " ".join(pieces))
    return "\n".join(out) + "\n"


def _srt_text(cue: Cue) -> str:
    # "-->" inside text would read as a timing line; a blank line would end the cue.
    return "\n".join(line.replace("-->", "->") for line in cue.lines if line.strip())


def _srt(t: Transcript) -> str:
    blocks, last = [], None
    for n, cue in enumerate(build_cues(t.turns), 1):
        text = _srt_text(cue)
        name = speaker_name(cue.speaker, t.speaker_names)
        if name and name != last:
            text = f"{name}: {text}"  # SRT has no voices: a prefix where the speaker changes
        last = name or last
        blocks.append(f"{n}\n{cue_time(cue.start_ms, ',')} --> {cue_time(cue.end_ms, ',')}\n{text}\n")
    return "\n".join(blocks)


def vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt(t: Transcript) -> str:
    blocks = ["WEBVTT\n"]
    for cue in build_cues(t.turns):
        text = "\n".join(vtt_escape(line) for line in cue.lines if line.strip())
        name = speaker_name(cue.speaker, t.speaker_names)
        if name:
            text = f"<v {vtt_escape(name)}>{text}"  # a voice span: players show it as the cue's voice
        blocks.append(f"{cue_time(cue.start_ms, '.')} --> {cue_time(cue.end_ms, '.')}\n{text}\n")
    return "\n".join(blocks)


def _json(t: Transcript) -> str:
    doc = {
        "session": info_to_dict(t.info),
        "speakers": {label: speaker_name(label, t.speaker_names) for label in _labels(t)},
        "turns": [_json_turn(t, e) for e in t.entries if isinstance(e, FinalTurn)],
        "markers": [marker_to_dict(e) for e in t.entries if isinstance(e, Marker)],
        "footer": t.footer,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _labels(t: Transcript) -> list[str]:
    seen: dict[str, None] = {}
    for turn in t.turns:
        for label in [turn.speaker] + [w.speaker for w in turn.words]:
            if label:
                seen[label] = None
    return list(seen)


def _json_turn(t: Transcript, turn: FinalTurn) -> dict:
    d = turn_to_dict(turn)
    d["speaker"] = turn.speaker
    d["speaker_name"] = speaker_name(turn.speaker, t.speaker_names)
    return d


def render(transcript: Transcript, fmt: str, *, timestamps: bool = True) -> str:
    """The transcript in one of FORMATS; `timestamps` applies to txt and md."""
    fmt = canonical(fmt)
    transcript = for_export(transcript)
    if fmt == "txt":
        return _txt(transcript, timestamps)
    if fmt == "md":
        return _md(transcript, timestamps)
    if fmt == "srt":
        return _srt(transcript)
    if fmt == "vtt":
        return _vtt(transcript)
    if fmt == "json":
        return _json(transcript)
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")


# ------------------------------------------------------------------ writing


def _reason(e: OSError, path: Path) -> str:
    if e.errno == errno.ENOENT and not path.parent.is_dir():
        return f"folder {path.parent} does not exist"
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied in {path.parent}"
    if e.errno == errno.EROFS:
        return f"{path.parent} is on a read-only file system"
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device"
    if e.errno == errno.EISDIR or path.is_dir():
        return f"{path} is a folder"
    return e.strerror or str(e)


def write_export(transcript: Transcript, path: Path, fmt: str | None = None, *, timestamps: bool = True) -> Path:
    """Write atomically (temp file in the same folder, then rename); the old file survives any failure."""
    path = Path(path).expanduser()
    data = render(transcript, fmt or format_for_path(path), timestamps=timestamps).encode()
    tmp: str | None = None
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)  # keep the replaced file's permissions
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise ExportError(f"cannot write {path}: {_reason(e, path)}") from e
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return path
