"""Past sessions: listing, resolving references, the table, exporting."""

from __future__ import annotations

from pathlib import Path

import pytest
import srt
from sample_transcripts import STARTED, TURN_TEXTS, info, sample_transcript

from tui.core.transcript.exports import render
from tui.core.transcript.journal import Journal, read_journal
from tui.core.transcript.archive import export_session, list_sessions, resolve_session, sessions_table
from tui.core.transcript.model import FinalTurn


def _session(directory: Path, session_id: str, started: float, texts: list[str], close: bool = True) -> Path:
    j = Journal.create(directory, info(session_id, started))
    for i, text in enumerate(texts):
        j.append(FinalTurn(i, i * 4_000, i * 4_000 + 3_000, text, [], started + i * 4))
    j.close(audio_duration_s=len(texts) * 4.0, session_duration_s=3_725.0)
    if not close:  # like a crashed process: no footer line
        lines = j.path.read_text().splitlines(keepends=True)
        j.path.write_text("".join(lines[:-1]))
    return j.path


@pytest.fixture
def sessions(tmp_path) -> dict[str, Path]:
    return {
        "old": _session(tmp_path, "aaaa1111old", STARTED, ["Good morning everyone, and welcome back."]),
        "mid": _session(tmp_path, "aaaa2222mid", STARTED + 86_400, TURN_TEXTS[:2], close=False),
        "new": _session(tmp_path, "bbbb3333new", STARTED + 2 * 86_400, []),
    }


def test_list_newest_first_with_summaries(tmp_path, sessions):
    (tmp_path / "junk.jsonl").write_text("not a journal\n")
    (tmp_path / "notes.txt").write_text("ignored")
    got = list_sessions(tmp_path)
    assert [s.path for s in got] == [sessions["new"], sessions["mid"], sessions["old"]]
    new, mid, old = got
    assert (new.id, new.turns, new.first_words, new.duration_s) == ("bbbb3333new", 0, "", 3_725.0)
    assert (old.turns, old.first_words) == (1, "Good morning everyone, and welcome back.")
    # The crashed one has no footer: its length comes from the timeline.
    assert mid.duration_s == 7.0 and mid.turns == 2
    assert mid.first_words == "And so, my fellow Americans, ask not what …"
    assert list_sessions(tmp_path / "missing") == []


def test_resolve_by_every_kind_of_reference(tmp_path, sessions):
    assert resolve_session(tmp_path, "last") == sessions["new"]
    assert resolve_session(tmp_path, "bbbb") == sessions["new"]
    assert resolve_session(tmp_path, "aaaa1111o") == sessions["old"]  # id prefix beyond the name's 8 chars
    assert resolve_session(tmp_path, sessions["mid"].name) == sessions["mid"]
    assert resolve_session(tmp_path, sessions["mid"].name[:12]) == sessions["mid"]
    elsewhere = Path("/nonexistent-dir")
    assert resolve_session(elsewhere, str(sessions["old"])) == sessions["old"]


def test_resolve_errors_are_clear(tmp_path, sessions):
    with pytest.raises(ValueError) as e:
        resolve_session(tmp_path, "aaaa")
    assert "ambiguous" in str(e.value) and "2 sessions" in str(e.value)
    assert sessions["old"].name in str(e.value) and sessions["mid"].name in str(e.value)
    with pytest.raises(ValueError, match="no session matches 'zzz'"):
        resolve_session(tmp_path, "zzz")
    with pytest.raises(ValueError, match="no sessions yet"):
        resolve_session(tmp_path / "empty", "last")
    with pytest.raises(ValueError, match="no session given"):
        resolve_session(tmp_path, "  ")


def test_table(tmp_path, sessions):
    lines = sessions_table(list_sessions(tmp_path)).splitlines()
    assert lines[0].split() == ["ID", "STARTED", "LENGTH", "TURNS", "FIRST", "WORDS"]
    assert [x.split()[0] for x in lines[1:]] == ["bbbb3333", "aaaa2222", "aaaa1111"]
    assert lines[1].split()[3:5] == ["1:02:05", "0"]
    assert lines[2].split()[3:] == ["0:07", "2", "And", "so,", "my", "fellow", "Americans,", "ask", "not", "what", "…"]
    end = lines[0].index("TURNS") + len("TURNS")  # numbers right-aligned under their header
    assert all(line[end - 1].isdigit() and line[end:end + 1] in (" ", "") for line in lines[1:])
    assert sessions_table([]) == "no sessions yet"


def test_export_to_text_or_file(tmp_path):
    t = sample_transcript()
    j = Journal.create(tmp_path, t.info)
    for e in t.entries:
        j.append(e)
    j.close()
    saved = read_journal(j.path)
    assert export_session(tmp_path, "last", None, None) == render(saved, "txt")
    assert export_session(tmp_path, "a1b2", "md", None) == render(saved, "md")

    out = export_session(tmp_path, "last", None, tmp_path / "out.srt")
    assert out == tmp_path / "out.srt"
    assert len(list(srt.parse(out.read_text()))) > 4
    forced = export_session(tmp_path, "last", "json", tmp_path / "captions.data")
    assert forced.read_text().startswith('{\n  "session"')
    with pytest.raises(ValueError, match="cannot tell the export format"):
        export_session(tmp_path, "last", None, tmp_path / "captions.data")
