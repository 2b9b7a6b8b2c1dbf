"""The session journal: file layout, round trip, crash safety."""

from __future__ import annotations

import json
import os
import re
import stat
import threading
from pathlib import Path

import pytest
from sample_transcripts import STARTED, info, sample_transcript

from tui.core.transcript import journal as journal_mod
from tui.core.transcript.journal import Journal, default_sessions_dir, read_info, read_journal
from tui.core.transcript.model import FinalTurn, Marker, TimedWord


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_create_writes_a_private_file_with_the_header_first(tmp_path):
    directory = tmp_path / "data" / "sessions"
    j = Journal.create(directory, info("f00dcafe-1234-5678"))
    try:
        assert re.fullmatch(r"\d{8}-\d{6}-f00dcafe\.jsonl", j.path.name)
        assert j.path.parent == directory
        assert stat.S_IMODE(j.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        (header,) = _lines(j.path)
        assert header["type"] == "session"
        assert set(header) == {"type", "id", "start", "start_epoch", "engine", "model", "input", "version", "endpoint"}
        assert header["start_epoch"] == STARTED and header["start"].startswith("2023-11-1")
        assert header["endpoint"] == "streaming.assemblyai.com"
    finally:
        j.close()


def test_two_sessions_in_the_same_second_get_distinct_files(tmp_path):
    a = Journal.create(tmp_path, info())
    b = Journal.create(tmp_path, info())
    a.close()
    b.close()
    assert a.path != b.path and a.path.exists() and b.path.exists()


def test_round_trip(tmp_path):
    original = sample_transcript()
    j = Journal.create(tmp_path, original.info)
    for entry in original.entries:
        j.append(entry)
    j.close(audio_duration_s=103.5, session_duration_s=110.0)

    lines = _lines(j.path)
    assert [x["type"] for x in lines] == ["session", "turn", "turn", "marker", "turn", "marker", "turn", "end"]
    assert lines[-1] == {"type": "end", "audio_duration_s": 103.5, "session_duration_s": 110.0, "turns": 4}

    back = read_journal(j.path)
    assert back.info == original.info
    assert back.footer == {"audio_duration_s": 103.5, "session_duration_s": 110.0, "turns": 4}
    assert len(back.entries) == len(original.entries)
    for got, want in zip(back.entries, original.entries):
        assert type(got) is type(want)
        if isinstance(want, FinalTurn):
            assert (got.index, got.start_ms, got.end_ms, got.text, got.words, got.speaker, got.language) == (
                want.index, want.start_ms, want.end_ms, want.text, want.words, want.speaker, want.language,
            )
        else:
            assert (got.kind, got.at_ms, got.duration_ms, got.detail) == (
                want.kind, want.at_ms, want.duration_ms, want.detail,
            )
        assert abs(got.wall_time - want.wall_time) < 1e-5
    assert read_info(j.path) == original.info


def test_half_written_last_line_is_skipped(tmp_path):
    j = Journal.create(tmp_path, info())
    j.append(FinalTurn(0, 0, 800, "First.", [TimedWord("First.", 0, 800)], STARTED))
    j.append(Marker("gap", 900, STARTED + 1, 300, "audio overrun"))
    j.append(FinalTurn(1, 1_300, 2_000, "Second.", [], STARTED + 2))
    j.close()
    # Simulate a crash mid-write: drop the footer, then leave a torn turn line behind.
    data = j.path.read_bytes().splitlines(keepends=True)[:-1]
    torn = b'{"type":"turn","index":2,"start_ms":2100,"end_ms":2900,"wall_ti'
    j.path.write_bytes(b"".join(data) + torn)

    t = read_journal(j.path)
    assert [x.text for x in t.turns] == ["First.", "Second."]
    assert [m.kind for m in t.markers] == ["gap"]
    assert t.footer is None


def test_garbage_lines_are_skipped_but_a_missing_header_is_an_error(tmp_path):
    j = Journal.create(tmp_path, info())
    j.append(FinalTurn(0, 0, 800, "Kept.", [], STARTED))
    j.close()
    with open(j.path, "ab") as f:
        f.write(b"\xff\xfe not json\n[1, 2]\n" + b'{"type":"turn","index":"x"}\n')
    assert [x.text for x in read_journal(j.path).turns] == ["Kept."]

    other = tmp_path / "notes.jsonl"
    other.write_text('{"hello": 1}\n')
    with pytest.raises(ValueError, match="not a captioner session journal"):
        read_journal(other)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="not a captioner session journal"):
        read_info(empty)


def test_append_after_close_fails_and_close_is_idempotent(tmp_path):
    j = Journal.create(tmp_path, info())
    j.close()
    j.close()
    assert j.closed
    assert [x["type"] for x in _lines(j.path)] == ["session", "end"]
    with pytest.raises(ValueError, match="closed"):
        j.append(Marker("pause", 0, STARTED))
    other = Journal.create(tmp_path, info())
    try:
        with pytest.raises(TypeError):
            other.append("text")  # type: ignore[arg-type]
    finally:
        other.close()


def test_appended_lines_get_fsynced_without_close(tmp_path, monkeypatch):
    j = Journal.create(tmp_path, info())
    real_fsync = os.fsync
    synced = threading.Event()

    def spy(fd):
        real_fsync(fd)
        if fd == j._fd:
            synced.set()

    monkeypatch.setattr(journal_mod.os, "fsync", spy)
    j.append(FinalTurn(0, 0, 500, "Durable.", [], STARTED))
    try:
        assert synced.wait(10), "the background syncer never fsynced the appended line"
    finally:
        monkeypatch.undo()
        j.close()
    assert not j._syncer.is_alive()


def test_default_sessions_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CAPTIONER_DATA_DIR", str(tmp_path / "data"))
    assert default_sessions_dir() == tmp_path / "data" / "sessions"
    monkeypatch.delenv("CAPTIONER_DATA_DIR")
    d = default_sessions_dir()
    assert d.name == "sessions" and "captioner" in d.parent.name.lower()
