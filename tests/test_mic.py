"""The microphone through real PortAudio capture from a private virtual microphone."""

import asyncio
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
from vmic import start_vmic

from tui.core.audio import AudioError, open_source
from tui.core.devices import list_input_devices, select_device
from tui.core.mic import MicSource

JFK = os.path.join(os.path.dirname(__file__), "data", "jfk.wav")


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """3.5 s of jfk.wav ("And so my fellow Americans..."): short enough for a quick test."""
    data, rate = sf.read(JFK, dtype="int16")
    clip = data[int(0.4 * rate) : int(3.9 * rate)]
    path = tmp_path_factory.mktemp("speech") / "jfk_clip.wav"
    sf.write(path, clip, rate, subtype="PCM_16")
    return path, clip


async def capture_while_playing(mic, source, wav) -> list:
    """Frames from the source from before playback starts until just after it ends."""
    frames, player, done_at = [], None, None
    async for frame in source.frames():
        frames.append(frame)
        if player is None and len(frames) == 6:  # the stream runs: start the talker
            silent_before = source.levels.snapshot().silent_for_s
            player = await asyncio.to_thread(mic.play, wav, False)
        if done_at is None and player is not None and player.poll() is not None:
            done_at = len(frames)
        if done_at is not None and len(frames) >= done_at + 6:  # 0.3 s of tail
            source.stop()
    assert silent_before > 0.1  # the idle null sink is digital silence
    assert player.returncode == 0
    return frames


@pytest.mark.parametrize("device_rate", [None, 48000, 16000])
async def test_captured_speech_matches_the_file(vmic, speech, device_rate):  # noqa: F811
    path, clip = speech
    source = open_source(None, device_rate=device_rate)
    assert isinstance(source, MicSource)
    assert source.device.is_default and source.name == "default"
    expected_rate = device_rate or select_device(None).default_rate
    assert (source.device_rate, source.rate, source.progress) == (expected_rate, 16000, None)
    frames = await asyncio.wait_for(capture_while_playing(vmic, source, path), timeout=15)
    assert all(len(f.pcm) == 1600 for f in frames)
    assert [f.t0_ms for f in frames] == [50.0 * i for i in range(len(frames))]
    assert all(b.due > a.due for a, b in zip(frames, frames[1:]))
    got = np.frombuffer(b"".join(f.pcm for f in frames), "<i2")
    assert best_correlation(clip, got) > 0.9
    assert source.levels.snapshot().hold_db > -20  # the meter heard the speech


async def test_device_by_name_and_index_and_stop_from_a_thread(vmic):  # noqa: F811
    pulse = next(d for d in list_input_devices() if d.name == "pulse")
    for spec in ("PULSE", str(pulse.index)):
        source = open_source(spec)
        assert source.name == "pulse"
        threading.Timer(0.4, source.stop).start()
        start = time.monotonic()
        frames = [f async for f in source.frames()]
        assert 0 < len(frames) and time.monotonic() - start < 3
        assert [f.t0_ms for f in frames] == [50.0 * i for i in range(len(frames))]


async def test_stop_before_frames_releases_the_device(vmic):  # noqa: F811
    source = open_source(None)
    source.stop()
    assert [f async for f in source.frames()] == []


VANISH_CHILD = textwrap.dedent(
    """
    import asyncio
    from tui.core.audio import AudioError, open_source

    async def main():
        src = open_source(None)
        n = 0
        try:
            async for _ in src.frames():
                n += 1
                if n == 5:
                    print("capturing", flush=True)
        except AudioError as e:
            print("error:", e, flush=True)
            return 3
        print("ended without error", flush=True)
        return 0

    raise SystemExit(asyncio.run(main()))
    """
)


def test_vanishing_device_is_an_audio_error_not_a_traceback(tmp_path):
    mic = start_vmic(tmp_path)  # a daemon of its own, to kill
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", VANISH_CHILD],
            env={**os.environ, **mic.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout.readline().strip() == "capturing"
        mic.kill_daemon()
        out, err = child.communicate(timeout=20)
    finally:
        mic.stop()
    assert child.returncode == 3, (out, err)
    assert out.startswith("error: microphone 'default'")
    assert "captioner devices" in out and "--input" in out
    assert "Traceback" not in err


def test_unopenable_rate_is_an_audio_error(vmic):  # noqa: F811
    with pytest.raises(AudioError, match="cannot open input device .* at 1 Hz") as err:
        MicSource(None, device_rate=1)
    assert "captioner devices" in str(err.value)
