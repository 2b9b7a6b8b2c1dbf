"""The crash-safe session journal: one JSON line per finalized turn or marker.

Later corrections are appended, never rewritten in place: a "revision" line (a turn's
corrected speakers) and a "speaker_name" line (a person named a speaker). Reading replays
them in order, so a journal always rebuilds the latest state.

Each line goes to the kernel in one write() as soon as it exists, so a killed process
loses nothing; a background thread fsyncs at least once a second so a power cut loses
at most about a second. Nothing here takes an API key, so none can be written.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.core.transcript.model import (
    FinalTurn,
    Marker,
    SessionInfo,
    Transcript,
    info_from_dict,
    info_to_dict,
    marker_from_dict,
    marker_to_dict,
    turn_from_dict,
    turn_to_dict,
)

SYNC_INTERVAL_S = 1.0
SUFFIX = ".jsonl"


def default_sessions_dir() -> Path:
    """Where journals live: $CAPTIONER_DATA_DIR/sessions, else the platform's user data dir."""
    override = os.environ.get("CAPTIONER_DATA_DIR")
    if override:
        return Path(override).expanduser() / "sessions"
    from platformdirs import user_data_dir

    return Path(user_data_dir("captioner")) / "sessions"


def journal_name(info: SessionInfo) -> str:
    stamp = datetime.fromtimestamp(info.started).strftime("%Y%m%d-%H%M%S")
    id8 = re.sub(r"[^A-Za-z0-9_-]", "", info.id)[:8] or "session"
    return f"{stamp}-{id8}"


def _open_new(directory: Path, stem: str) -> tuple[Path, int]:
    """Create the file exclusively (0600); a name clash gets a numeric suffix."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
    for n in range(1000):
        path = directory / (stem + (f"-{n}" if n else "") + SUFFIX)
        try:
            return path, os.open(path, flags, 0o600)
        except FileExistsError:
            continue
    raise FileExistsError(f"too many journals named {stem}* in {directory}")


def _fsync_dir(directory: Path) -> None:
    # Makes the new file's directory entry durable too.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """Append-only JSONL file for one captioner session."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd
        self._lock = threading.Lock()
        self._dirty = False
        self._closed = False
        self._turns: set[int] = set()
        self._stop = threading.Event()
        self._syncer = threading.Thread(target=self._sync_loop, name="journal-fsync", daemon=True)

    @classmethod
    def create(cls, directory: Path, info: SessionInfo) -> "Journal":
        directory = Path(directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)  # transcripts are private even if the dir pre-existed
        path, fd = _open_new(directory, journal_name(info))
        journal = cls(path, fd)
        journal._write({"type": "session", **info_to_dict(info)})
        journal._sync()
        _fsync_dir(directory)
        journal._syncer.start()
        return journal

    @property
    def closed(self) -> bool:
        return self._closed

    def append(self, entry: FinalTurn | Marker) -> None:
        """Write one line now (OSError on a full disk is the caller's to report)."""
        if isinstance(entry, FinalTurn):
            record = {"type": "turn", **turn_to_dict(entry)}
            self._turns.add(entry.index)
        elif isinstance(entry, Marker):
            record = {"type": "marker", **marker_to_dict(entry)}
        else:
            raise TypeError(f"cannot journal {type(entry).__name__}")
        self._write(record)

    def append_revision(self, turn: FinalTurn) -> None:
        """The corrected speakers of a turn already written."""
        self._write({"type": "revision", "index": turn.index, "speaker": turn.speaker,
                     "word_speakers": [w.speaker for w in turn.words]})

    def append_name(self, label: str, name: str) -> None:
        """A speaker's name; also after close (a person may rename once the session is over)."""
        record = {"type": "speaker_name", "label": label, "name": name}
        if not self._closed:
            self._write(record)
            return
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self, audio_duration_s: float | None = None, session_duration_s: float | None = None) -> None:
        """Write the footer, fsync and close; calling it again does nothing."""
        if self._closed:
            return
        self._stop.set()
        if self._syncer.is_alive():
            self._syncer.join()
        try:
            footer = {
                "type": "end",
                "audio_duration_s": audio_duration_s,
                "session_duration_s": session_duration_s,
                "turns": len(self._turns),
            }
            self._write(footer)
            self._sync()
        finally:
            with self._lock:
                self._closed = True
                os.close(self._fd)

    def _write(self, record: dict[str, Any]) -> None:
        data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self._lock:
            if self._closed:
                raise ValueError(f"journal {self.path.name} is closed")
            view = memoryview(data)
            while view:  # a regular file takes it in one write; loop in case it doesn't
                view = view[os.write(self._fd, view) :]
            self._dirty = True

    def _sync(self) -> None:
        # fsync outside the lock so an append never waits for the disk; the fd stays
        # open meanwhile because close() joins the syncer before closing it.
        with self._lock:
            if not self._dirty or self._closed:
                return
            self._dirty = False
        os.fsync(self._fd)

    def _sync_loop(self) -> None:
        while not self._stop.wait(SYNC_INTERVAL_S):
            try:
                self._sync()
            except OSError:
                # The next append will raise the same problem where someone can report it.
                time.sleep(SYNC_INTERVAL_S)


# ------------------------------------------------------------------ reading


def _parse_lines(path: Path) -> list[dict[str, Any]]:
    """Decoded JSON objects; a line cut short by a crash (or otherwise garbled) is skipped."""
    records = []
    for raw in Path(path).read_bytes().split(b"\n"):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _info_from(records: list[dict[str, Any]], path: Path) -> SessionInfo:
    if not records or records[0].get("type") != "session":
        raise ValueError(f"{path} is not a captioner session journal (no session header)")
    try:
        return info_from_dict(records[0])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path} has an unreadable session header ({e})") from None


def read_info(path: Path) -> SessionInfo:
    """Just the header, without parsing the rest of the file."""
    with open(path, "rb") as f:
        first = f.readline()
    try:
        record = json.loads(first)
    except (UnicodeDecodeError, json.JSONDecodeError):
        record = None
    return _info_from([record] if isinstance(record, dict) else [], Path(path))


def read_journal(path: Path) -> Transcript:
    """Rebuild the transcript; entries that cannot be decoded are skipped, not fatal."""
    path = Path(path)
    records = _parse_lines(path)
    transcript = Transcript(_info_from(records, path))
    for record in records[1:]:
        kind = record.get("type")
        try:
            if kind == "turn":
                transcript.add(turn_from_dict(record))
            elif kind == "marker":
                transcript.add(marker_from_dict(record))
            elif kind == "revision":
                _apply_revision(transcript, record)
            elif kind == "speaker_name":
                transcript.speaker_names[str(record["label"])] = str(record["name"])
            elif kind == "end":
                transcript.footer = {k: v for k, v in record.items() if k != "type"}
        except (KeyError, TypeError, ValueError):
            continue
    return transcript


def _apply_revision(transcript: Transcript, record: dict[str, Any]) -> None:
    turn = transcript.turn(int(record["index"]))
    if turn is not None:
        speakers = record.get("word_speakers")
        transcript.add(turn.with_speakers(record.get("speaker"), speakers if isinstance(speakers, list) else None))
