"""System audio: what an output (the default one, or one picked by name) plays, captured
from its monitor source.

PortAudio has no notion of monitors, so the stream opens on ALSA's `pulse` device with
PULSE_SOURCE naming the monitor while it opens (libpulse reads it then). The variable is
process-wide, hence the lock; every stream opens on the event loop's thread anyway.
The source follows the server: a new default output reopens the stream on its monitor;
an output that goes away leaves the stream closed (a notice says so) until it returns,
and the silence in between is sent as silence, so both sources keep one timeline.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import time
from collections.abc import Callable

import numpy as np

from tui.core.audio.devices import list_input_devices
from tui.core.audio.mic import DTYPE, SERVER_BLOCK_MS, SERVER_LATENCY_S, MicSource
from tui.core.audio.pulse import Output, OutputWatcher, find_output, list_outputs, select_output
from tui.core.audio.source import AudioError

NO_PULSE_DEVICE = (
    "system audio needs PortAudio's ALSA 'pulse' device, which goes through the sound server: "
    "install the ALSA pulse plugin (Debian/Ubuntu: libasound2-plugins; with PipeWire also "
    "pipewire-pulse) and check that `pactl info` answers"
)
NOT_ON_MACOS = (
    "system audio is built in on Linux only: on macOS install a loopback device such as "
    "BlackHole, send the output to it (Audio MIDI Setup: a multi-output device) and caption "
    "it with --input BlackHole"
)
NOT_ON_WINDOWS = (
    "system audio is built in on Linux only: on Windows enable 'Stereo Mix' or install a "
    "virtual cable (VB-CABLE) and caption it with --input NAME"
)
_ENV_LOCK = threading.Lock()  # PULSE_SOURCE is process-wide


@contextlib.contextmanager
def pulse_source(name: str):
    """PULSE_SOURCE=name while a stream opens, then whatever it was."""
    with _ENV_LOCK:
        old = os.environ.get("PULSE_SOURCE")
        os.environ["PULSE_SOURCE"] = name
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("PULSE_SOURCE", None)
            else:
                os.environ["PULSE_SOURCE"] = old


def _check_platform() -> None:
    if sys.platform == "darwin":
        raise AudioError(NOT_ON_MACOS)
    if sys.platform.startswith("win"):
        raise AudioError(NOT_ON_WINDOWS)


def pulse_device_index() -> int:
    for d in list_input_devices():
        if d.hostapi == "ALSA" and d.name == "pulse":
            return d.index
    raise AudioError(NO_PULSE_DEVICE)


class SystemAudioSource(MicSource):
    """An output's monitor as an audio source; `output` is the one in use (None: gone)."""

    def __init__(self, spec: str | None = None, *, rate: int = 16000, chunk_ms: int = 50,
                 on_change: Callable[[str, str], None] | None = None) -> None:
        _check_platform()
        self.spec = spec or None
        self.output: Output | None = select_output(self.spec)
        self.on_change = on_change  # (level, text) on the loop's thread: tell the person
        self._gen = 0  # which stream is current: a closed one's callbacks are ignored
        self._gone_at: float | None = None
        self._watcher: OutputWatcher | None = None
        super().__init__(pulse_device_index(), rate=rate, chunk_ms=chunk_ms)
        self.name = self._label()

    def _label(self) -> str:
        return f"{self.output.description} (system audio)" if self.output else "system audio"

    def _input_stream(self, rate: int, channels: int):
        assert self.output is not None
        with pulse_source(self.output.monitor):
            return self._sd.RawInputStream(  # the microphone's block and latency: one callback a frame
                device=self.device.index, samplerate=rate, channels=channels, dtype=DTYPE,
                blocksize=rate * SERVER_BLOCK_MS // 1000, latency=SERVER_LATENCY_S, callback=self._callback,
                finished_callback=functools.partial(self._stream_ended, self._gen))

    # ---------------------------------------------------------------- event loop

    def _start(self) -> None:
        super()._start()
        self._watcher = OutputWatcher(self._from_watcher)
        self._watcher.start()

    def _close(self) -> None:
        if self._watcher:
            self._watcher.stop()
        super()._close()

    def _from_watcher(self, outputs: list[Output]) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(self.follow, outputs)

    def _stream_ended(self, gen: int) -> None:
        """PortAudio's thread: a stream ended. Ours to close, or its output went away?"""
        if gen == self._gen and not self.stopped and self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._check_lost, gen)

    def _check_lost(self, gen: int) -> None:
        if gen != self._gen or self.stopped:
            return
        if self._output_still_there():
            self._push(AudioError(self._lost("stopped")))

    def _idle(self) -> AudioError | None:
        if self._gone_at is not None or not self._output_still_there():
            return None  # waiting for the output to come back
        return super()._idle()

    def _output_still_there(self) -> bool:
        try:
            self.follow(list_outputs())
        except AudioError:
            return True  # the server itself is gone: that is an error, not a missing output
        return self._gone_at is None

    def follow(self, outputs: list[Output]) -> None:
        """The outputs changed: keep, switch or drop the stream (on the loop's thread)."""
        if self.stopped or self._closed:
            return
        target = find_output(self.spec, outputs)
        if target is None:
            if self._gone_at is None:
                gone = self.output.description if self.output else "the output"
                self._drop_stream()
                self._gone_at = time.monotonic()
                self._tell("warning", f"system audio: '{gone}' is gone; captioning resumes when "
                                      "it comes back")
        elif self._gone_at is not None or target.monitor != (self.output and self.output.monitor):
            self._switch(target)

    def _drop_stream(self) -> None:
        self._gen += 1
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close(ignore_errors=True)

    def _switch(self, target: Output) -> None:
        self._drop_stream()
        self.output = target
        self._fill_gap()
        try:
            self._stream, _ = self._open(self.rate, self.device_rate)
            self._stream.start()
        except (AudioError, self._sd.PortAudioError) as exc:
            self._push(AudioError(f"system audio: cannot open '{target.description}': {exc}"))
            return
        self.name = self._label()
        self._tell("warning", f"system audio: captioning '{target.description}'")

    def _fill_gap(self) -> None:
        """Silence for the time the output was gone: this source's timeline stays the clock's."""
        now = time.monotonic()
        if self._held:
            self._push((self._take_held(), now))
        if self._gone_at is not None:
            samples = int((now - self._gone_at) * self.device_rate)
            self._gone_at = None
            if samples > 0:
                self._push((np.zeros((samples, 1), DTYPE), now))

    def _tell(self, level: str, text: str) -> None:
        if self.on_change:
            self.on_change(level, text)

    def _lost(self, what: str) -> str:
        return (f"system audio '{self.name}' {what}: the sound server may have stopped. "
                "Check `captioner devices` and start again")
