import os
import signal
import subprocess
import sys
import textwrap

import pytest
import soundfile as sf

from tui.core.recorder import WavRecorder

FIXTURE = os.path.join(os.path.dirname(__file__), "data", "jfk.wav")


def jfk_pcm(seconds: float) -> bytes:
    data, rate = sf.read(FIXTURE, dtype="int16")
    return data[: int(rate * seconds)].tobytes()


def test_written_file_reads_back_identically(tmp_path):
    pcm = jfk_pcm(2.0)
    path = tmp_path / "rec.wav"
    with WavRecorder(path, rate=16000) as rec:
        for i in range(0, len(pcm), 1600):
            rec.write(pcm[i : i + 1600])
        assert rec.seconds == pytest.approx(2.0)
    data, rate = sf.read(path, dtype="int16")
    assert rate == 16000 and data.ndim == 1
    assert data.tobytes() == pcm
    info = sf.info(path)
    assert (info.format, info.subtype, info.channels) == ("WAV", "PCM_16", 1)


def test_fresh_file_is_already_a_valid_empty_wav(tmp_path):
    path = tmp_path / "rec.wav"
    rec = WavRecorder(path, rate=8000)
    info = sf.info(path)  # readable before any write or close
    assert (info.frames, info.samplerate) == (0, 8000)
    rec.close()
    rec.close()  # idempotent


def test_odd_byte_count_is_refused(tmp_path):
    with WavRecorder(tmp_path / "rec.wav") as rec, pytest.raises(ValueError):
        rec.write(b"\x00\x01\x02")


WRITER = textwrap.dedent(
    """
    import sys, time
    from tui.core.recorder import WavRecorder
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
