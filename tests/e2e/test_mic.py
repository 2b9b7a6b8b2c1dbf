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

from tui.core.audio.source import AudioError
from tui.core.audio.inputs import open_source
from tui.core.audio.devices import _via_sound_server, list_input_devices
from tui.core.audio.mic import MicSource
import paths

JFK = str(paths.DATA / "jfk.wav")


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """3.5 s of jfk.wav ("And so my fellow Americans..."): short enough for a quick test."""
    data, rate = sf.read(JFK, dtype="int16")
    clip = data[int(0.4 * rate) : int(3.9 * rate)]
    path = tmp_path_factory.mktemp("speech") / "jfk_clip.wav"
    sf.write(path, clip, rate, subtype="PCM_16")
    return path, clip


async def capture_while_playing(mic, source, wav) -> tuple[list, list[float]]:
    """Frames from the source from before playback starts until just after it ends, and for
    each how long after its last sample was captured (frame.due) it was handed out."""
    frames, lags, player, done_at = [], [], None, None
    async for frame in source.frames():
        lags.append(time.monotonic() - frame.due)
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
    return frames, lags


# None: the sound server's device is opened at the service's 16 kHz (its native 44.1 kHz is
# not asked for); an explicit rate is kept, and then our resampler converts.
@pytest.mark.parametrize("device_rate", [None, 48000, 44100])
async def test_captured_speech_matches_the_file(vmic, speech, device_rate):  # noqa: F811
    path, clip = speech
    source = open_source(None, device_rate=device_rate)
    assert isinstance(source, MicSource)
    assert source.device.is_default and source.name == "default" and source.device.sound_server
    assert source.device.default_rate == 44100
    expected_rate = device_rate or 16000
    assert (source.device_rate, source.rate, source.progress) == (expected_rate, 16000, None)
    assert source._stream.blocksize == expected_rate // 20  # 50 ms blocks from a server: one a frame
    frames, lags = await asyncio.wait_for(capture_while_playing(vmic, source, path), timeout=15)
    assert all(lag >= 0 for lag in lags)  # due is a capture time, never one in the future
    if device_rate is None:  # nothing resampled here, no block to wait for: ~3 ms (was 20)
        assert np.median(lags) < 0.012
    assert all(len(f.pcm) == 1600 for f in frames)
    assert [f.t0_ms for f in frames] == [50.0 * i for i in range(len(frames))]
    assert all(b.due > a.due for a, b in zip(frames, frames[1:]))
    got = np.frombuffer(b"".join(f.pcm for f in frames), "<i2")
    assert best_correlation(clip, got) > 0.9
    assert source.levels.snapshot().hold_db > -20  # the meter heard the speech


async def test_the_callback_wakes_the_loop_once_per_frame_with_exact_frames(vmic):  # noqa: F811
    """One hand-over to the event loop per 50 ms frame (one PortAudio block each): exactly a
    frame of samples, metered once, stamped with its last sample's capture time."""
    source = open_source(None)
    pushed: list = []
    push = source._push
    source._push = lambda item: (pushed.append(item), push(item))
    frames, names = [], set()
    async for frame in source.frames():
        frames.append(frame)
        if len(frames) == 10:  # while the stream runs
            names = {open(f"/proc/self/task/{tid}/comm").read().strip() for tid in os.listdir("/proc/self/task")}
        if len(frames) == 20:
            source.stop()
    blocks = [item for item in pushed if isinstance(item, tuple)]
    assert [b.shape for b, _ in blocks] == [(800, 1)] * len(blocks)  # 800 samples: one frame
    assert [f.due for f in frames] == [t for _, t in blocks[:20]]  # one hand-over per frame
    steps = np.diff([f.due for f in frames])
    assert abs(np.median(steps) - 0.05) < 0.005  # capture times 50 ms apart
    assert "captioner-mic" in names  # PortAudio's callback thread, named for top -H


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
    from tui.core.audio.source import AudioError
    from tui.core.audio.inputs import open_source

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


def test_which_devices_belong_to_a_sound_server():
    card = "HDA Intel PCH: ALC3246 Analog (hw:0,0)"
    alsa = {"pulse", "default", "sysdefault", card}  # PortAudio's ALSA names, server running
    assert _via_sound_server("pulse", "ALSA", alsa)
    assert _via_sound_server("pipewire", "ALSA", {"pipewire", "default"})
    assert _via_sound_server("default", "ALSA", alsa)  # routed to the server
    assert not _via_sound_server("sysdefault", "ALSA", alsa)  # the card's own default
    assert not _via_sound_server(card, "ALSA", alsa)
    assert not _via_sound_server("default", "ALSA", {"default", "sysdefault", card})  # no server
    assert not _via_sound_server("MacBook Pro Microphone", "Core Audio", set())


def test_unopenable_rate_is_an_audio_error(vmic):  # noqa: F811
    with pytest.raises(AudioError, match="cannot open input device .* at 1 Hz") as err:
        MicSource(None, device_rate=1)
    assert "captioner devices" in str(err.value) and "audio.device_rate = 0" in str(err.value)
