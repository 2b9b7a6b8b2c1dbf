"""Microphone capture with sounddevice (PortAudio).

The PortAudio callback does as little Python as it can: a raw stream (no numpy array made
per block), one bytes copy and a list append per block (on a sound server a block is a whole
frame). Once a frame's worth of samples is in (at the service's rate; resampled input: every
block), it joins them, meters the whole frame with numpy, and hands it to the event loop with
one call_soon_threadsafe, stamped with when its last sample was captured (from PortAudio's stamps, on time.monotonic's clock).
Resampling and chunking happen in frames(), on the loop.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from tui.core.audio.source import ALTERNATIVES, AudioError, ThreadFedSource
from tui.core.audio.devices import DeviceInfo, select_device, sounddevice

BLOCK_MS = 20  # callback block on raw hardware: a frame waits at most this long for its last block
# A sound server's device: one 50 ms block per frame, so one callback (one wake-up) per frame.
# PortAudio's ALSA code makes its periods the block's size and the server hands each over at
# a phase fixed for the stream's life, but it delivers in its own small chunks, so a block's
# last sample is 1-12 ms old when its callback runs (p95 over 30 s streams on a quiet machine,
# the same spread as 10 ms blocks; bench/RESULTS.md), for a fifth of the wake-ups. A small
# buffer is safe there because the server buffers behind ALSA's plugin (no overflow and no lost
# sample with 500 ms callback stalls, measured on PulseAudio). Raw hardware keeps BLOCK_MS and
# PortAudio's default latency: a late callback would overflow it.
SERVER_BLOCK_MS = 50
SERVER_LATENCY_S = 0.05
IDLE_S = 2.0  # no block for this long while running means the device has gone
FALLBACK_RATES = (16000, 48000, 44100)
THREAD_NAME = b"captioner-mic"  # PortAudio's callback thread, as top -H and /proc show it
# s16 from PortAudio: what a sound server delivers and the service takes, so at the service's
# rate a frame goes out as captured, with no float conversion either way.
DTYPE = "int16"


class MicSource(ThreadFedSource):
    idle_timeout = IDLE_S
    meter_frames = False  # the callback meters raw device blocks

    def __init__(
        self,
        spec: str | int | None = None,
        *,
        rate: int = 16000,
        chunk_ms: int = 50,
        device_rate: int | None = None,
    ) -> None:
        self._sd = sounddevice()
        self.device: DeviceInfo = select_device(spec)
        self._stream = None
        self._closed = False
        self._stream, opened_rate = self._open(rate, device_rate)
        super().__init__(self.device.name, opened_rate, rate, chunk_ms)
        self._named = False
        self._channels = self._stream.channels
        self._held: list[bytes] = []  # raw blocks not yet handed to the loop
        self._captured = 0  # device samples captured
        self._hand_at = self._next_hand_over()

    def _open(self, rate: int, device_rate: int | None):
        """Open (not start) a stream at the requested rate, else the rate that suits the device.

        A sound server converts to `rate` (the service's) with a good resampler of its own, so
        ours is skipped, and with it the 2-22 ms of audio soxr holds back. Raw hardware is
        opened at its own rate and resampled here: ALSA's plug resampler is poor.
        """
        if device_rate:
            rates = [device_rate]
        else:
            rates = [rate] if self.device.sound_server else []
            rates += [self.device.default_rate, *FALLBACK_RATES]
        rates = list(dict.fromkeys(rates))
        channels = dict.fromkeys((1, min(2, self.device.channels)))  # mono, else downmix
        error: Exception | None = None
        for r in rates:
            for ch in channels:
                try:
                    return self._input_stream(r, ch), r
                except self._sd.PortAudioError as exc:
                    error = exc
        hint = "set audio.device_rate = 0 (automatic), or " if device_rate else "is another program using it? "
        raise AudioError(
            f"cannot open input device #{self.device.index} '{self.device.name}' at "
            f"{'/'.join(map(str, rates))} Hz ({_reason(error)}): {hint}"
            f"pick another with `captioner devices`, or {ALTERNATIVES}"
        )

    def _input_stream(self, rate: int, channels: int):
        server = self.device.sound_server
        return self._sd.RawInputStream(
            device=self.device.index,
            samplerate=rate,
            channels=channels,
            dtype=DTYPE,
            blocksize=int(rate * (SERVER_BLOCK_MS if server else BLOCK_MS) // 1000),
            latency=SERVER_LATENCY_S if server else None,  # None: PortAudio's default ('high')
            callback=self._callback,
            finished_callback=self._finished,
        )

    # ---------------------------------------------------------- PortAudio thread

    def _callback(self, indata, frames, time_info, status) -> None:
        now = time.monotonic()
        if not self._named:
            self._named = _name_thread()
        if status.input_overflow:
            self.overflows += 1
        self._held.append(bytes(indata))  # indata is only valid during the callback
        self._captured += frames
        if self._captured >= self._hand_at:
            block = self._take_held()
            self._hand_at = self._next_hand_over()
            self.levels.update(block, now)
            self._push((block, now - _age(time_info, frames / self.device_rate)))

    def _take_held(self) -> np.ndarray:
        """The raw blocks held so far, as one (samples, channels) array; the hold is emptied."""
        block = np.frombuffer(b"".join(self._held), DTYPE).reshape(-1, self._channels)
        self._held = []
        return block

    def _next_hand_over(self) -> int:
        """Device samples captured when the loop should next be woken with the held blocks.

        At the service's rate a frame is exactly chunk_ms of device samples: hand over when
        one is complete (20 wake-ups a second, not 100 with 10 ms blocks). Resampled audio
        goes over block by block: the resampler decides when a frame comes out.
        """
        if self.device_rate != self.rate:
            return 0
        per_frame = self.rate * self.chunk_ms // 1000
        return (self._captured // per_frame + 1) * per_frame

    def _finished(self) -> None:
        if not self.stopped:
            self._push(AudioError(self._lost("the audio stream stopped")))

    # ---------------------------------------------------------------- event loop

    def _start(self) -> None:
        try:
            self._stream.start()
        except self._sd.PortAudioError as exc:
            raise AudioError(self._lost(f"could not start ({_reason(exc)})")) from None

    def _idle(self) -> AudioError | None:
        return AudioError(self._lost(f"no audio for {IDLE_S:g} s"))

    def _close(self) -> None:
        if self._closed or self._stream is None:
            return
        self._closed = True
        self._stopping.set()  # so the finished callback knows this stop was ours
        try:
            self._stream.close(ignore_errors=True)
        except Exception:  # a vanished device can fail even to close; nothing left to do
            pass

    def _lost(self, what: str) -> str:
        return (
            f"microphone '{self.name}' {what}: it may have been unplugged or the sound server "
            f"stopped. Check `captioner devices` and start again, or {ALTERNATIVES}"
        )


def _age(time_info, block_s: float) -> float:
    """Seconds since the block's last sample was captured, by PortAudio's own stamps.

    A block can wait in the host API's buffer before its callback runs (two callbacks back to
    back when a period holds two blocks), so arrival time alone would make frames look newer
    than they are. Only the difference of two stamps is used, so their clock does not matter.
    0 when the host API gives no usable stamp (inputBufferAdcTime 0, or an age past 1 s).
    """
    adc = time_info.inputBufferAdcTime
    age = time_info.currentTime - adc - block_s
    return age if adc > 0 and 0 < age < 1.0 else 0.0


def _name_thread() -> bool:
    """Name PortAudio's callback thread (Linux; elsewhere nothing): once, from the thread."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/comm", "wb") as f:
            f.write(THREAD_NAME)
    except OSError:
        pass
    return True


def _reason(exc: Exception | None) -> str:
    text = str(exc.args[0]) if exc is not None and exc.args else str(exc)
    return text.rstrip(".") or "unknown error"
