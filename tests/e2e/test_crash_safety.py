"""A process killed mid-write (SIGKILL) loses nothing it had written: journal and recording."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import paths
import soundfile as sf

from tui.core.transcript.journal import read_journal

FIXTURE = str(paths.DATA / "jfk.wav")


CHILD = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from sample_transcripts import info, make_turn
import random
from tui.core.transcript.journal import Journal
rng = random.Random(1)
j = Journal.create(Path(sys.argv[1]), info())
print(j.path, flush=True)
i = 0
while True:
    turn = make_turn(i, f"Turn number {i}, still talking.", i * 3000, rng)
    j.append(turn)
    print(i, flush=True)   # reported only after append returned
    i += 1
    time.sleep(0.002)
"""


def test_sigkill_mid_session_loses_no_appended_turn(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), str(paths.TESTS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        path = Path(proc.stdout.readline().strip())
        reported = []
        while len(reported) < 40:
            line = proc.stdout.readline()
            assert line, "child exited early"
            reported.append(int(line))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()

    t = read_journal(path)
    indexes = [x.index for x in t.turns]
    assert set(reported) <= set(indexes)
    assert indexes == list(range(len(indexes)))  # nothing missing in between, nothing twice
    assert t.footer is None
    assert t.turns[5].text == "Turn number 5, still talking."


def jfk_pcm(seconds: float) -> bytes:
    data, rate = sf.read(FIXTURE, dtype="int16")
    return data[: int(rate * seconds)].tobytes()


WRITER = textwrap.dedent(
    """
    import sys, time
    from tui.core.audio.recorder import WavRecorder
    path, flush_s, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    pcm = sys.stdin.buffer.read()
    rec = WavRecorder(path, flush_s=flush_s)
    frames = [pcm[i:i + 1600] for i in range(0, len(pcm), 1600)]
    if mode == "explicit":  # half, flush, the other half without a flush, then hang
        half = len(frames) // 2
        for f in frames[:half]:
            rec.write(f)
        rec.flush()
        print(half, flush=True)
        for f in frames[half:]:
            rec.write(f)
        print("unflushed", flush=True)
    else:  # live: a frame every 20 ms, relying on the recorder's own periodic flush
        for n, f in enumerate(frames, 1):
            rec.write(f)
            print(n, flush=True)
            time.sleep(0.02)
    time.sleep(60)
    """
)


def start_writer(path, flush_s: float, mode: str, pcm: bytes) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(flush_s), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=False,
    )
    proc.stdin.write(pcm)
    proc.stdin.close()
    return proc


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_leaves_everything_up_to_the_last_flush(tmp_path):
    pcm = jfk_pcm(2.0)
    path = tmp_path / "killed.wav"
    proc = start_writer(path, 3600.0, "explicit", pcm)  # no automatic flush
    flushed_frames = int(proc.stdout.readline())
    assert proc.stdout.readline().strip() == b"unflushed"
    kill(proc)
    data, rate = sf.read(path, dtype="int16")
    assert rate == 16000
    assert data.tobytes() == pcm[: flushed_frames * 1600]
    assert os.path.getsize(path) >= 44 + flushed_frames * 1600


def test_periodic_flush_keeps_a_live_recording_readable(tmp_path):
    pcm = jfk_pcm(3.0)
    path = tmp_path / "live.wav"
    proc = start_writer(path, 0.2, "live", pcm)
    written = 0
    while written < 40:  # 0.8 s of writing: several 0.2 s flush periods
        written = int(proc.stdout.readline())
    kill(proc)
    data, _ = sf.read(path, dtype="int16")
    assert 0 < len(data) <= written * 800
    assert len(data) % 800 == 0
    assert data.tobytes() == pcm[: len(data) * 2]
