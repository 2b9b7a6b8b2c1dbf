"""Record s16le mono PCM to a WAV file that stays readable if the process is killed.

The header is written up front and its RIFF/data sizes are rewritten at every flush (at
least once a second while writing) and on close, so a crash loses at most the last second.
"""

from __future__ import annotations

import os
import struct
import time

FLUSH_S = 1.0
_MAX_DATA = 0xFFFFFFFF - 36  # RIFF sizes are 32-bit


def wav_header(rate: int, data_bytes: int, channels: int = 1, width: int = 2) -> bytes:
    data_bytes = min(data_bytes, _MAX_DATA)
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + data_bytes, b"WAVE",
        b"fmt ", 16, 1, channels, rate, rate * channels * width, channels * width, width * 8,
        b"data", data_bytes,
    )  # fmt: skip


class WavRecorder:
    """Append PCM frames to a 16-bit mono WAV file."""

    def __init__(self, path: str | os.PathLike, rate: int = 16000, flush_s: float = FLUSH_S):
        self.path, self.rate, self.flush_s = os.fspath(path), rate, flush_s
        self._file = open(self.path, "wb")
        self._data_bytes = 0
        self._flushed_bytes = -1
        self.flush()
        self._last_flush = time.monotonic()

    @property
    def seconds(self) -> float:
        return self._data_bytes / (2 * self.rate)

    def write(self, pcm: bytes) -> None:
        if len(pcm) % 2:
            raise ValueError("PCM must be whole 16-bit samples")
        self._file.write(pcm)
        self._data_bytes += len(pcm)
        if time.monotonic() - self._last_flush >= self.flush_s:
            self.flush()

    def flush(self) -> None:
        """Push data to the OS and make the header describe everything written so far."""
        self._last_flush = time.monotonic()
        if self._data_bytes == self._flushed_bytes:
            return
        self._file.flush()  # data before header: the header never claims unwritten bytes
        self._file.seek(0)
        self._file.write(wav_header(self.rate, self._data_bytes))
        self._file.seek(0, os.SEEK_END)
        self._file.flush()
        self._flushed_bytes = self._data_bytes

    def close(self) -> None:
        if self._file.closed:
            return
        self.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def __enter__(self) -> "WavRecorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
