"""Session PCM in, 16 kHz float samples out (the rate Silero VAD and the models expect)."""

from __future__ import annotations

import numpy as np
import soxr

MODEL_RATE = 16000


class PcmInput:
    """Converts s16le mono blocks at `sample_rate` into float32 samples at 16 kHz, in order."""

    def __init__(self, sample_rate: int = MODEL_RATE) -> None:
        # A streaming resampler keeps its filter state across blocks, so no clicks at edges.
        self._resample = (
            None if sample_rate == MODEL_RATE
            else soxr.ResampleStream(sample_rate, MODEL_RATE, 1, dtype="float32")
        )

    def __call__(self, pcm: bytes) -> np.ndarray:
        usable = len(pcm) - len(pcm) % 2
        x = np.frombuffer(pcm[:usable], dtype="<i2").astype(np.float32) / 32768.0
        return self._resample.resample_chunk(x) if self._resample else x
