"""Exports read back by other programs (ffmpeg), and a real full disk: the export tests that run processes."""

from __future__ import annotations

import html
import json
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import paths
import srt
import webvtt
from sample_transcripts import make_turn, sample_transcript, stress_transcript

from tui.core.transcript.exports import write_export
from tui.core.transcript.model import Transcript


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
