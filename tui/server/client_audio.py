"""Client audio to the recognizer's input: mu-law decoding and resampling to s16le mono."""

from __future__ import annotations

import numpy as np
import soxr


def _mulaw_table() -> np.ndarray:
    """G.711 mu-law byte -> int16 sample, for all 256 codes."""
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


MULAW_TABLE = _mulaw_table()


class ClientAudio:
    """Converts one session's binary frames to s16le at the recognizer's rate.

    Stateful: a frame may end mid-sample, and the resampler keeps history across frames,
    so one instance serves exactly one session, called from one thread.
    """

    def __init__(self, encoding: str, in_rate: int, out_rate: int) -> None:
        self._mulaw = encoding == "pcm_mulaw"
        self._carry = b""
        self._resampler = (
            soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16") if in_rate != out_rate else None
        )

    def convert(self, data: bytes) -> bytes:
        samples = self._decode(data)
        if self._resampler is not None and samples.size:
            samples = self._resampler.resample_chunk(samples)
        return samples.tobytes()

    def _decode(self, data: bytes) -> np.ndarray:
        if self._mulaw:
            return MULAW_TABLE[np.frombuffer(data, dtype=np.uint8)]
        data = self._carry + data
        cut = len(data) - len(data) % 2  # keep an odd trailing byte for the next frame
        self._carry = data[cut:]
        return np.frombuffer(data[:cut], dtype="<i2")
