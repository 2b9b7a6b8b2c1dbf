import asyncio
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import soundfile as sf
from vmic import best_correlation

from tui.core.audio.source import AudioError
from tui.core.audio.inputs import open_source
from tui.core.audio.devices import NO_DEVICES, NO_PORTAUDIO, format_device_table
from tui.core.audio.files import FileSource, StdinSource
import paths

DATA = str(paths.DATA)
JFK = os.path.join(DATA, "jfk.wav")


def jfk() -> np.ndarray:
    return sf.read(JFK, dtype="int16")[0]


async def collect(source, limit: int | None = None) -> list:
    frames = []
    async for frame in source.frames():
        frames.append(frame)
        if limit and len(frames) >= limit:
            source.stop()
    return frames


# ---------------------------------------------------------------- file source


async def test_file_frames_are_exact_ordered_and_lossless():
    source = open_source(JFK, speed=50)
    assert isinstance(source, FileSource)
    assert (source.name, source.device_rate, source.rate) == ("jfk.wav", 16000, 16000)
    assert source.progress == (0.0, 11.0)
    frames = await collect(source)
    assert [len(f.pcm) for f in frames] == [1600] * 220  # 11 s in 50 ms frames
    assert [f.t0_ms for f in frames] == [50.0 * i for i in range(220)]
    assert b"".join(f.pcm for f in frames) == jfk().tobytes()
    assert source.progress == (11.0, 11.0)
    assert source.levels.snapshot().hold_db > -20  # the meter followed the speech


async def test_file_pacing_follows_speed_and_due():
    source = open_source(JFK, speed=20, chunk_ms=100)
    start = time.monotonic()
    stamps = []
    async for frame in source.frames():
        stamps.append((frame.due, time.monotonic()))
    dues = [d for d, _ in stamps]
    steps = np.diff(dues)
    np.testing.assert_allclose(steps, 0.1 / 20, atol=1e-9)  # 100 ms of audio at 20x
    assert all(got >= due for due, got in stamps)  # never handed out before it is due
    assert time.monotonic() - start >= 11.0 / 20  # paced, not dumped at once
    assert dues[0] >= start


async def test_resampled_stereo_file_and_last_frame_shorter(tmp_path):
    x, _ = sf.read(JFK, dtype="float32")
    stereo = np.stack([x, x], axis=1)
    import soxr

    path = tmp_path / "stereo44k.flac"
    sf.write(path, soxr.resample(stereo, 16000, 44100), 44100)
    frames = await collect(open_source(str(path), speed=100))
    sizes = [len(f.pcm) for f in frames]
    assert set(sizes[:-1]) == {1600} and 0 < sizes[-1] <= 1600
    got = np.frombuffer(b"".join(f.pcm for f in frames), "<i2")
    assert abs(len(got) - len(x)) <= 2
    assert best_correlation(jfk(), got) > 0.99


async def test_other_formats_go_through_ffmpeg(tmp_path):
    path = tmp_path / "jfk.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", JFK, "-ar", "22050", str(path)], check=True)
    source = open_source(str(path), speed=100)
    assert source.progress[1] == pytest.approx(11.0, abs=0.1)
    frames = await collect(source)
    got = np.frombuffer(b"".join(f.pcm for f in frames), "<i2")
    assert abs(len(got) / 16000 - 11.0) < 0.1
    assert best_correlation(jfk(), got) > 0.9


async def test_stop_from_another_thread_ends_a_file_early():
    source = open_source(JFK)  # real time: 11 s unless stopped
    threading.Timer(0.3, source.stop).start()
    frames = await asyncio.wait_for(collect(source), timeout=5)
    assert 0 < len(frames) < 40


# ---------------------------------------------------------------- stdin source

STDIN_CHILD = textwrap.dedent(
    """
    import asyncio, hashlib, json, sys
    from tui.core.audio.inputs import open_source

    async def main():
        src = open_source("-", stdin_rate=int(sys.argv[1]))
        sizes, t0s, h = [], [], hashlib.sha256()
        async for f in src.frames():
            sizes.append(len(f.pcm)); t0s.append(f.t0_ms); h.update(f.pcm)
        print(json.dumps({"name": src.name, "sizes": sizes, "t0": t0s, "sha": h.hexdigest()}))

    asyncio.run(main())
    """
)


def test_stdin_from_a_real_pipe_in_odd_pieces():
    pcm = jfk().tobytes()
    child = subprocess.Popen(
        [sys.executable, "-c", STDIN_CHILD, "16000"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    for i in range(0, len(pcm), 1001):  # odd sizes split samples across reads
        child.stdin.write(pcm[i : i + 1001])
        child.stdin.flush()
    child.stdin.close()
    out = json.loads(child.stdout.read())
    assert child.wait(timeout=10) == 0
    assert out["name"] == "stdin"
    assert out["sizes"] == [1600] * 220
    assert out["t0"] == [50.0 * i for i in range(220)]
    assert out["sha"] == hashlib.sha256(pcm).hexdigest()


async def test_stdin_at_8k_is_resampled(tmp_path):
    sox = subprocess.Popen(
        ["sox", JFK, "-r", "8000", "-t", "raw", "-e", "signed", "-b", "16", "-"],
        stdout=subprocess.PIPE,
    )
    source = StdinSource(8000, fd=sox.stdout.fileno())
    sox.stdout.close()  # the source holds its own copy of the pipe
    frames = await asyncio.wait_for(collect(source), timeout=10)
    sox.wait()
    assert (source.device_rate, source.rate) == (8000, 16000)
    assert all(len(f.pcm) == 1600 for f in frames[:-1])
    got = np.frombuffer(b"".join(f.pcm for f in frames), "<i2")
    assert abs(len(got) - 176000) <= 2
    assert best_correlation(jfk(), got) > 0.9  # 8 kHz keeps speech up to 4 kHz


async def test_stdin_stop_ends_a_pipe_that_stays_open():
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys,time; sys.stdout.buffer.write(bytes(8000)); "
         "sys.stdout.flush(); time.sleep(30)"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        source = StdinSource(16000, fd=writer.stdout.fileno())
        frames = await asyncio.wait_for(collect(source, limit=5), timeout=5)
        assert [len(f.pcm) for f in frames] == [1600] * 5
        assert source.levels.snapshot().peak_db == -60.0  # zeros: the meter's floor
    finally:
        writer.kill()
        writer.wait()


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "make,expect",
    [
        (lambda d: d / "missing.wav", "file not found"),
        (lambda d: d, "is a folder"),
        (lambda d: d / "empty.wav", "is empty"),
        (lambda d: d / "corrupt.wav", "not an audio file"),
        (lambda d: d / "notes.txt", "not an audio file"),
        (lambda d: d / "silent.wav", "contains no audio"),
    ],
)
def test_file_errors_explain_themselves(tmp_path, make, expect):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage" * 20)
    (tmp_path / "notes.txt").write_text("hello, not audio\n")
    sf.write(tmp_path / "silent.wav", np.zeros(0, np.int16), 16000)
    path = str(make(tmp_path))
    with pytest.raises(AudioError, match=expect) as err:
        open_source(path)
    assert "\n" not in str(err.value)


def test_bad_chunk_size():
    with pytest.raises(AudioError, match="whole number"):
        open_source(JFK, rate=44100, chunk_ms=15)


def test_unknown_and_ambiguous_device_names_list_candidates(vmic):  # noqa: F811
    with pytest.raises(AudioError, match="no input device matches 'nosuchmic'") as err:
        open_source("nosuchmic")
    assert "'pulse'" in str(err.value) and "captioner devices" in str(err.value)
    with pytest.raises(AudioError, match="ambiguous") as err:
        open_source("UL")  # in both "pulse" and "default"
    assert "'pulse'" in str(err.value) and "'default'" in str(err.value)
    with pytest.raises(AudioError, match="no input device #99"):
        open_source("99")


CHILD_OPEN = textwrap.dedent(
    """
    import sys
    from tui.core.audio.source import AudioError
    from tui.core.audio.inputs import open_source
    from tui.core.audio.devices import format_device_table, list_input_devices
    try:
        print(format_device_table(list_input_devices()))
    except AudioError as e:
        print("devices:", e)
    try:
        open_source(None)
    except AudioError as e:
        print("open:", e)
    print("file ok:", open_source(sys.argv[1]).name)
    """
)


def run_child(env: dict) -> str:
    out = subprocess.run(
        [sys.executable, "-c", CHILD_OPEN, JFK],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return out.stdout


def test_no_input_devices_at_all():
    # No sound card here: with the sound server unreachable, PortAudio lists nothing.
    out = run_child({"PULSE_SERVER": "unix:/nonexistent"})
    assert format_device_table([]) in out
    assert f"open: {NO_DEVICES}" in out
    assert "file ok: jfk.wav" in out


def test_missing_portaudio_is_explained(tmp_path):
    # What sounddevice raises on import when libportaudio2 is not installed.
    (tmp_path / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    out = run_child({"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    assert f"devices: {NO_PORTAUDIO}" in out
    assert f"open: {NO_PORTAUDIO}" in out
    assert "file ok: jfk.wav" in out  # the rest of the app still works


ALSA_CHILD = textwrap.dedent(
    """
    import ctypes, sys
    if sys.argv[1] == "quiet":
        from tui.core.audio.devices import sounddevice
        sounddevice()
    handle = ctypes.c_void_p()
    rc = ctypes.CDLL("libasound.so.2").snd_pcm_open(ctypes.byref(handle), b"nosuchpcm", 1, 0)
    print(rc)
    """
)


@pytest.mark.parametrize("mode", ["loud", "quiet"])
def test_alsa_errors_do_not_reach_the_terminal(mode):
    out = subprocess.run(
        [sys.executable, "-c", ALSA_CHILD, mode], capture_output=True, text=True, timeout=30
    )
    assert int(out.stdout) < 0  # the open failed either way
    # without our handler libasound prints onto the terminal (and over the TUI)
    assert ("Unknown PCM nosuchpcm" in out.stderr) == (mode == "loud")
