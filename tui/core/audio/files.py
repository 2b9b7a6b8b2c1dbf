"""File and stdin sources.

A file is decoded (soundfile for WAV/FLAC/OGG, else ffmpeg) and sent in real time by the wall
clock, as a microphone would deliver it: frame n is due at start + n * chunk (n from 1).
stdin is raw s16le mono read by a thread and handed to the loop without blocking.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator

import numpy as np
import soundfile as sf

from tui.core.audio.source import EOF, AudioError, AudioSource, Frame, ThreadFedSource
from tui.core.audio.convert import Converter

READ_S = 0.5  # decode this much at a time
MAX_LAG_S = 0.5  # a consumer later than this is not caught up with a burst; the clock moves on
STDIN_READ_BYTES = 16384


# ------------------------------------------------------------------- decoders


class SoundfileDecoder:
    """WAV/FLAC/OGG and the other formats libsndfile reads, at the file's own rate."""

    def __init__(self, path: str) -> None:
        self._file = sf.SoundFile(path)
        self.rate = self._file.samplerate
        self.total_s = self._file.frames / self.rate

    def read(self, n: int) -> np.ndarray | None:
        block = self._file.read(n, dtype="float32", always_2d=True)
        return block if len(block) else None

    def close(self) -> None:
        self._file.close()


class FfmpegDecoder:
    """Anything ffmpeg can read, decoded in a subprocess to s16le mono at `rate`."""

    def __init__(self, path: str, rate: int) -> None:
        self.path, self.rate = path, rate
        self.total_s = _probe_duration(path)
        self._errors = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-vn", "-f", "s16le",
             "-ac", "1", "-ar", str(rate), "-"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._errors,
        )  # fmt: skip
        self._got_audio = False
        self._first: np.ndarray | None = None

    def prime(self, n: int) -> bool:
        """Decode the first n samples now, so a file ffmpeg cannot decode fails at open, not
        mid-stream; False if it holds no audio at all."""
        try:
            self._first = self.read(n)
        except AudioError:
            self.close()
            raise
        return self._first is not None

    def read(self, n: int) -> np.ndarray | None:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        data = self._proc.stdout.read(n * 2)
        data = data[: len(data) // 2 * 2]
        if data:
            self._got_audio = True
            return np.frombuffer(data, "<i2")
        if self._proc.wait() != 0 and not self._got_audio:
            self._errors.seek(0)
            detail = self._errors.read().decode(errors="replace").strip().splitlines()
            reason = detail[-1] if detail else "unknown error"
            raise AudioError(f"ffmpeg could not decode '{self.path}': {reason}")
        return None

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._proc.stdout.close()
        self._errors.close()


def _probe_duration(path: str) -> float:
    """Seconds of audio, or AudioError if ffprobe finds no audio stream."""
    cmd = ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
           "stream=codec_type:format=duration", "-of", "json", path]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    info = json.loads(out.stdout or "{}") if out.returncode == 0 else {}
    if not info.get("streams"):
        reason = (out.stderr.strip().splitlines() or ["no audio stream"])[-1]
        raise AudioError(f"'{path}' is not an audio file that can be decoded ({reason})")
    try:
        return float(info.get("format", {}).get("duration", 0.0))
    except ValueError:
        return 0.0


def _decoder(path: str, rate: int) -> SoundfileDecoder | FfmpegDecoder:
    try:
        return SoundfileDecoder(path)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        reason = str(exc).split(": ", 1)[-1].strip() or "unknown format"
        if shutil.which("ffmpeg") and shutil.which("ffprobe"):
            return FfmpegDecoder(path, rate)
        raise AudioError(
            f"cannot decode '{path}' ({reason}): use WAV, FLAC or OGG, or install ffmpeg "
            "for other formats"
        ) from None


def open_file(path: str, *, rate: int = 16000, chunk_ms: int = 50, speed: float = 1.0) -> FileSource:
    """A FileSource for `path`; AudioError if it is missing, a folder, empty or undecodable."""
    if os.path.isdir(path):
        raise AudioError(f"'{path}' is a folder, not an audio file: give a file path")
    if not os.path.exists(path):
        raise AudioError(f"file not found: '{path}' (for a device, see `captioner devices`)")
    try:
        with open(path, "rb") as f:
            empty = not f.read(1)
    except OSError as exc:
        raise AudioError(f"cannot read '{path}': {exc.strerror}") from None
    if empty:
        raise AudioError(f"'{path}' is empty (0 bytes): give a file with audio in it")
    if not speed > 0:
        raise AudioError(f"speed must be positive, not {speed}")
    decoder = _decoder(path, rate)
    if isinstance(decoder, FfmpegDecoder) and not decoder.prime(int(rate * READ_S)):
        decoder.close()
        raise AudioError(f"'{path}' contains no audio samples")
    if decoder.total_s <= 0 and isinstance(decoder, SoundfileDecoder):
        decoder.close()
        raise AudioError(f"'{path}' contains no audio samples")
    return FileSource(path, decoder, rate=rate, chunk_ms=chunk_ms, speed=speed)


# ---------------------------------------------------------------- file source


class FileSource(AudioSource):
    """Frames from a file, paced by the wall clock (speed > 1 sends faster)."""

    def __init__(self, path: str, decoder, *, rate: int, chunk_ms: int, speed: float) -> None:
        super().__init__(os.path.basename(path), decoder.rate, rate, chunk_ms)
        self.path, self.speed = path, speed
        self._decoder = decoder
        self.progress = (0.0, decoder.total_s)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._clock0: float | None = None  # wall-clock time of the file's first sample

    def stop(self) -> None:
        super().stop()
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # loop already closed
                pass

    async def frames(self) -> AsyncIterator[Frame]:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        conv = Converter(self.device_rate, self.rate, self.chunk_ms)
        read_n = int(self.device_rate * READ_S)
        try:
            while not self.stopped:
                block = await asyncio.to_thread(self._decoder.read, read_n)
                for pcm in conv.feed(block) if block is not None else conv.finish():
                    due = await self._wait_due(len(pcm) // 2)
                    if due is None:
                        return
                    yield self._sent(pcm, due)
                if block is None:
                    return
        finally:
            self._decoder.close()

    async def _wait_due(self, samples: int) -> float | None:
        """Sleep until the frame's last sample is due; None if stopped meanwhile."""
        now = time.monotonic()
        if self._clock0 is None:
            self._clock0 = now
        end_s = (self._samples_out + samples) / self.rate
        due = self._clock0 + end_s / self.speed
        if now - due > MAX_LAG_S:  # the consumer stalled: carry on from now, no burst
            self._clock0 += now - due
            due = now
        if due > now and not self.stopped:
            try:
                await asyncio.wait_for(self._wake.wait(), due - now)
            except TimeoutError:
                pass
        return None if self.stopped else due

    def _sent(self, pcm: bytes, due: float) -> Frame:
        frame = self._frame(pcm, due)
        self.levels.update(np.frombuffer(pcm, "<i2"))
        self.progress = (self._samples_out / self.rate, self.progress[1])
        return frame


# --------------------------------------------------------------- stdin source


class StdinSource(ThreadFedSource):
    """Raw s16le mono PCM at stdin_rate from stdin (or another fd); EOF ends frames().

    The fd is duplicated at construction, so the app may reopen fd 0 on the terminal.
    """

    def __init__(self, stdin_rate: int = 16000, *, rate: int = 16000, chunk_ms: int = 50,
                 fd: int | None = None) -> None:  # fmt: skip
        super().__init__("stdin", stdin_rate, rate, chunk_ms)
        self._fd = os.dup(0 if fd is None else fd)
        self._thread: threading.Thread | None = None
        self._fd_lock = threading.Lock()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._read_loop, name="stdin-audio", daemon=True)
        self._thread.start()

    def _read_loop(self) -> None:
        odd = b""
        try:
            while not self.stopped:
                ready, _, _ = select.select([self._fd], [], [], 0.1)  # wake to see stop()
                if not ready:
                    continue
                data = os.read(self._fd, STDIN_READ_BYTES)
                now = time.monotonic()
                if not data:
                    self._push(EOF)
                    return
                data, odd = _even(odd + data)
                if data:
                    self._push((np.frombuffer(data, "<i2"), now))
        except OSError as exc:
            self._push(AudioError(f"cannot read audio from stdin: {exc.strerror}"))
        finally:
            self._close_fd()

    def _close(self) -> None:
        self._stopping.set()
        if self._thread is None:  # never started: nobody else will close it
            self._close_fd()

    def _close_fd(self) -> None:
        with self._fd_lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def _even(data: bytes) -> tuple[bytes, bytes]:
    """Whole samples, and an odd trailing byte kept for the next read."""
    cut = len(data) & ~1
    return data[:cut], data[cut:]
