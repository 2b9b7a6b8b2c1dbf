"""Moved from test_exports.py: the tests of it that run real processes."""

from __future__ import annotations
import contextlib
import html
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
import pytest
import srt
import webvtt
from markdown_it import MarkdownIt
from sample_transcripts import STARTED, TURN_TEXTS, info, make_turn, sample_transcript
from tui.core.transcript.cues import MAX_CUE_MS, MAX_LINE, MIN_CUE_MS, build_cues, wrap
from tui.core.transcript.exports import FORMATS, ExportError, clock, cue_time, format_for_path, render, write_export
from tui.core.transcript.journal import Journal, read_journal
from tui.core.transcript.model import FinalTurn, Marker, TimedWord, Transcript
import paths


HOUR = 3_600_000


def stress_transcript() -> Transcript:
    """Edge cases on one timeline: hours in, no punctuation, an overlong word, no words."""
    rng = random.Random(3)
    t = Transcript(info())
    base = 3 * HOUR + 25 * 60_000
    t.add(make_turn(0, "Okay.", base, rng))  # one-word turn
    run_on = " ".join(["we kept going without any punctuation at all"] * 6)
    t.add(make_turn(1, run_on, base + 2_000, rng))
    long_word = "Pneumonoultramicroscopicsilicovolcanoconiosis-related"
    t.add(make_turn(2, f"The word {long_word} is long.", base + 40_000, rng))
    t.add(FinalTurn(3, base + 50_000, base + 58_000, TURN_TEXTS[1], [], STARTED))  # no word timings
    t.add(FinalTurn(4, base + 60_000, base + 60_000, "Instant.", [], STARTED))  # zero-length span
    # Word timings that overlap the previous turn (e.g. after a reconnect re-anchored the clock).
    t.add(make_turn(5, "Overlapping start, then fine.", base + 59_500, rng))
    # Formatted text whose tokens differ from the words: "$5" was heard as "five dollars".
    words = [TimedWord("it", base + 70_000, base + 70_200), TimedWord("costs", base + 70_250, base + 70_600),
             TimedWord("five", base + 70_650, base + 70_900), TimedWord("dollars", base + 70_950, base + 71_400)]
    t.add(FinalTurn(6, base + 70_000, base + 71_400, "It costs $5.", words, STARTED))
    return t


def _write_srt(t: Transcript, directory: Path) -> Path:
    return write_export(t, directory / "captions.srt")


def test_vtt_hours(tmp_path):
    path = write_export(stress_transcript(), tmp_path / "late.vtt")
    first = webvtt.read(str(path))[0]
    assert first.start.startswith("03:25:") and first.text == "Okay."


def _ffmpeg_roundtrip(path: Path, muxer: str) -> str:
    proc = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0", "-f", muxer, "-"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def test_ffmpeg_reads_our_srt_cue_for_cue(tmp_path):
    path = _write_srt(stress_transcript(), tmp_path)
    ours = list(srt.parse(path.read_text()))
    theirs = list(srt.parse(_ffmpeg_roundtrip(path, "srt")))
    assert [(s.start, s.end, s.content) for s in theirs] == [(s.start, s.end, s.content) for s in ours]


def test_ffmpeg_reads_our_vtt_cue_for_cue(tmp_path):
    t = sample_transcript()
    t.add(make_turn(9, "Fish & chips.", 200_000, random.Random(1)))
    path = write_export(t, tmp_path / "x.vtt")
    ours = webvtt.read(str(path))
    theirs = webvtt.from_string(_ffmpeg_roundtrip(path, "webvtt"))
    assert len(theirs) == len(ours) > 10
    for a, b in zip(theirs, ours):
        assert (a.start_in_seconds, a.end_in_seconds) == (b.start_in_seconds, b.end_in_seconds)
        assert a.text == html.unescape(re.sub(r"^<v [^>]*>", "", b.raw_text))


DISK_FULL = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from sample_transcripts import sample_transcript
    from tui.core.transcript.exports import ExportError, write_export
    d = Path(sys.argv[1])
    (d / "talk.srt").write_text("old captions")
    try:
        with open(d / "filler", "wb") as f:
            while True:
                f.write(b"x" * 4096)
                f.flush()
    except OSError:
        pass
    try:
        write_export(sample_transcript(), d / "talk.srt")
        error = None
    except ExportError as e:
        error = str(e)
    leftovers = [p.name for p in d.iterdir() if p.name.endswith(".tmp")]
    print(json.dumps({"error": error, "old": (d / "talk.srt").read_text(), "leftovers": leftovers}))
    """
)


def test_disk_full_leaves_the_old_file_untouched(tmp_path):
    # A real full disk: a tiny tmpfs in a private mount namespace (nothing leaks if we die).
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$0" && exec "$@"',
         str(mnt), sys.executable, "-c", DISK_FULL, str(mnt), str(paths.TESTS)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["error"] == f"cannot write {mnt}/talk.srt: no space left on the device"
    assert result["old"] == "old captions"
    assert result["leftovers"] == []
