"""Audio input: the Frame every source yields and the AudioSource interface.

Sources deliver s16le mono at `rate` in frames of exactly `chunk_ms` (a file's last frame may
be shorter). `t0_ms` counts audio since the source started; `due` is the monotonic time the
frame's last sample was captured (or, for a file, was due in real time).
"""

from __future__ import annotations

import asyncio
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from tui.core.audio.convert import Converter, chunk_bytes
from tui.core.audio.levels import LevelTracker

ALTERNATIVES = "use --input FILE for an audio file or --input - for raw PCM on stdin"


@dataclass(slots=True)
class Frame:
    pcm: bytes  # s16le mono at the source's rate, chunk_ms long (a file's last may be shorter)
    t0_ms: float  # start of this frame: ms of audio since the source started
    due: float  # time.monotonic() when its last sample was captured / due in real time


class AudioError(Exception):
    """One line for a person: what went wrong and what to do."""


class AudioSource(ABC):
    """Something that yields Frames: a microphone, a file, or stdin.

    Keep iterating frames() while the app is paused (drop the frames): a microphone queues
    its blocks until they are taken, and t0_ms follows the audio, not the consumer.
    """

    progress: tuple[float, float] | None = None  # (seconds sent, total seconds) for files

    def __init__(self, name: str, device_rate: int, rate: int = 16000, chunk_ms: int = 50):
        try:
            chunk_bytes(rate, chunk_ms)  # refuse a chunk that is not a whole number of samples
        except ValueError as exc:
            raise AudioError(f"bad chunk size: {exc}") from None
        self.name = name
        self.device_rate = device_rate
        self.rate = rate
        self.chunk_ms = chunk_ms
        self.levels = LevelTracker()
        self.overflows = 0
        self._stopping = threading.Event()
        self._samples_out = 0

    @abstractmethod
    def frames(self) -> AsyncIterator[Frame]:
        """Yield frames until EOF or stop(); raises AudioError when the input fails."""

    def stop(self) -> None:
        """Thread-safe; frames() ends soon after."""
        self._stopping.set()

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    def _frame(self, pcm: bytes, due: float) -> Frame:
        frame = Frame(pcm, self._samples_out * 1000.0 / self.rate, due)
        self._samples_out += len(pcm) // 2
        return frame

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.device_rate}->{self.rate} Hz>"


_STOP, EOF = "stop", "eof"


class ThreadFedSource(AudioSource):
    """A source whose blocks come from another thread (PortAudio callback, stdin reader).

    The producer calls _push((block, monotonic_time)) which never blocks; conversion and
    chunking run in frames(), on the event loop, off the capture thread.
    """

    idle_timeout: float | None = None  # seconds without a block before _idle() is asked
    meter_frames = True  # update levels from converted frames (False: the producer does it)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._last_item_at = 0.0

    @abstractmethod
    def _start(self) -> None:
        """Start producing; called in frames() once the loop and queue exist."""

    @abstractmethod
    def _close(self) -> None:
        """Stop producing and release the device; called once when frames() ends."""

    def _idle(self) -> AudioError | None:
        """What no block for idle_timeout seconds means (None: keep waiting)."""
        return None

    def _push(self, item: object) -> None:
        """From any thread, without blocking: a (block, time), EOF or an AudioError."""
        loop, queue = self._loop, self._queue
        if loop is None or queue is None:
            return
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop has closed; nobody is listening any more
            pass

    def stop(self) -> None:
        super().stop()
        if self._queue is None:
            self._close()
        self._push(_STOP)

    async def frames(self) -> AsyncIterator[Frame]:
        self._loop, self._queue = asyncio.get_running_loop(), asyncio.Queue()
        conv = Converter(self.device_rate, self.rate, self.chunk_ms)
        try:
            if self.stopped:
                return
            self._start()
            if self.idle_timeout is not None:
                self._last_item_at = time.monotonic()
                self._watch_idle()
            while True:
                item = await self._next()
                if item is _STOP:
                    return
                if isinstance(item, AudioError):
                    raise item
                if item is EOF:
                    for frame in self._timed(conv.finish(), conv, time.monotonic()):
                        yield frame
                    return
                block, t = item
                for frame in self._timed(conv.feed(block), conv, t):
                    yield frame
        finally:
            if self._watchdog is not None:
                self._watchdog.cancel()
            self._close()

    async def _next(self) -> object:
        item = await self._queue.get()
        self._last_item_at = time.monotonic()
        return item

    def _watch_idle(self) -> None:
        """A timer, not a timeout per block: no block for idle_timeout asks _idle() what it means.

        (asyncio.wait_for per frame made a task and a timer 20 times a second.)"""
        quiet = time.monotonic() - self._last_item_at
        if quiet >= self.idle_timeout and self._queue.empty():
            error = self._idle()
            if error is not None:
                self._queue.put_nowait(error)
                return
            self._last_item_at = time.monotonic()  # keep waiting: ask again a timeout later
            quiet = 0.0
        self._watchdog = self._loop.call_later(self.idle_timeout - quiet, self._watch_idle)

    def _timed(self, chunks: list[bytes], conv: Converter, t: float) -> list[Frame]:
        # `t` is when the block's last sample was captured; earlier chunks ended before it.
        lag, dues = conv.pending_samples, []
        for pcm in reversed(chunks):
            dues.append(t - lag / self.rate)
            lag += len(pcm) // 2
        frames = [self._frame(pcm, due) for pcm, due in zip(chunks, reversed(dues))]
        if self.meter_frames:
            for frame in frames:
                self.levels.update(np.frombuffer(frame.pcm, "<i2"))
        return frames
