"""Sample conversion off the audio thread: downmix, resample, s16le, exact-size chunks.

The Converter is stateful across blocks (soxr.ResampleStream keeps its filter history), so
block boundaries leave no clicks and no gaps, and every chunk it emits is exactly chunk_ms.
"""

from __future__ import annotations

import numpy as np


def to_mono(block: np.ndarray) -> np.ndarray:
    """Float32 mono in [-1, 1] from int16 or float samples shaped (n,) or (n, channels)."""
    x = np.asarray(block)
    scale = 1.0 / 32768.0 if x.dtype == np.int16 else 1.0
    x = x.astype(np.float32, copy=False)
    if x.ndim == 2:
        x = x.mean(axis=1, dtype=np.float32) if x.shape[1] > 1 else x[:, 0]
    return x * np.float32(scale) if scale != 1.0 else x


def float_to_s16(x: np.ndarray) -> bytes:
    """Little-endian int16 bytes; values beyond full scale are clipped, not wrapped.

    The scale is 32768 both ways, so int16 input passes through a float stage unchanged.
    """
    y = np.clip(np.rint(x * 32768.0), -32768, 32767).astype("<i2")
    return y.tobytes()


def s16_to_float(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / np.float32(32768.0)


QUALITY = "LQ"


class Resampler:
    """Streaming mono resampler (soxr, anti-aliased); a no-op when the rates match.

    LQ, not HQ: still a band-limited filter with 16-bit precision (~96 dB stop band, far past
    what speech recognition needs), but it holds back ~11 ms of audio instead of ~23 ms
    (measured at 44.1 -> 16 kHz in 20 ms blocks), and that delay is caption latency.
    """

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate, self.out_rate = in_rate, out_rate
        self._stream = None
        if in_rate != out_rate:
            import soxr  # only when resampling: a sound server delivers the service's rate

            self._stream = soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality=QUALITY)

    def delay(self) -> float:
        """Output samples the filter still holds back (soxr buffers 20-100 ms)."""
        return 0.0 if self._stream is None else float(self._stream.delay())

    def process(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        if self._stream is None:
            return x
        return self._stream.resample_chunk(np.ascontiguousarray(x, dtype=np.float32), last=last)


class Chunker:
    """Cuts a byte stream into pieces of exactly `size` bytes; the tail waits for more."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def push(self, data: bytes) -> list[bytes]:
        if not self._buf and len(data) == self.size:
            return [data]  # the usual microphone frame: already a chunk, no copies
        self._buf += data
        n = len(self._buf) // self.size * self.size
        if not n:
            return []
        out = [bytes(self._buf[i : i + self.size]) for i in range(0, n, self.size)]
        del self._buf[:n]
        return out

    def flush(self) -> bytes:
        tail = bytes(self._buf)
        self._buf.clear()
        return tail


def chunk_bytes(rate: int, chunk_ms: int) -> int:
    """Bytes of s16 mono in one chunk; the chunk must hold a whole number of samples."""
    samples, rem = divmod(rate * chunk_ms, 1000)
    if rem or samples <= 0:
        raise ValueError(f"{chunk_ms} ms at {rate} Hz is not a whole number of samples")
    return samples * 2


class Converter:
    """Device blocks in (any rate, channels, int16/float), exact s16le mono chunks out."""

    def __init__(self, in_rate: int, out_rate: int, chunk_ms: int) -> None:
        self.out_rate = out_rate
        self._resampler = Resampler(in_rate, out_rate)
        self._chunker = Chunker(chunk_bytes(out_rate, chunk_ms))

    @property
    def pending_samples(self) -> float:
        """Output samples fed in but not yet part of an emitted chunk (incl. the filter's)."""
        return self._chunker.pending // 2 + self._resampler.delay()

    def feed(self, block: np.ndarray) -> list[bytes]:
        if self._passthrough(block):  # s16 mono at the service's rate: nothing to convert
            return self._chunker.push(block.astype("<i2", copy=False).tobytes())
        return self._chunker.push(float_to_s16(self._resampler.process(to_mono(block))))

    def _passthrough(self, block: np.ndarray) -> bool:
        return (self._resampler.in_rate == self.out_rate and block.dtype == np.int16
                and (block.ndim == 1 or block.shape[1] == 1))

    def finish(self) -> list[bytes]:
        """Drain the resampler; returns the remaining full chunks and a shorter last one."""
        tail = self._resampler.process(np.zeros(0, np.float32), last=True)
        out = self._chunker.push(float_to_s16(tail))
        rest = self._chunker.flush()
        return out + [rest] if rest else out
