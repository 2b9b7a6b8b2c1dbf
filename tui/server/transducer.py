"""A user-supplied sherpa-onnx streaming transducer (e.g. zipformer) behind the Recognizer interface.

The model decodes incrementally, so partials come from every block; the Silero VAD still
reports where speech ended, since the server's turn detector needs that, not the model's
own endpointing. Word times are spread over the model's token time span (heard.spread_words).
"""

from __future__ import annotations

import threading

import numpy as np

from tui.server.heard import eot_confidence, spread_words
from tui.server.pcm import MODEL_RATE, PcmInput
from tui.server.recognizer import HeardWord, Hypothesis, Recognizer
from tui.server.vad import SpeechDetector

FLUSH = np.zeros(MODEL_RATE // 2, dtype=np.float32)  # trailing silence that drains the encoder


class TransducerRecognizer(Recognizer):
    """One session on a shared sherpa_onnx.OnlineRecognizer."""

    def __init__(self, rec, lock: threading.Lock, sample_rate: int = 16000) -> None:
        self.sample_rate = sample_rate
        self._rec, self._lock = rec, lock
        self._pcm = PcmInput(sample_rate)
        self._vad = SpeechDetector()
        self._samples = 0
        self._speech_end: int | None = None
        self._new_stream()

    def _new_stream(self) -> None:
        self._stream = self._rec.create_stream()
        self._offset_ms = self._samples * 1000 // MODEL_RATE  # stream times start at 0
        self._words: list[HeardWord] = []

    def _decode(self) -> list[HeardWord]:
        with self._lock:
            while self._rec.is_ready(self._stream):
                self._rec.decode_stream(self._stream)
            result = self._rec.get_result_all(self._stream)
        text, times = result.text.strip(), list(result.timestamps)
        if not text or not times:
            return []
        if text.isupper():  # many English transducers emit capitals only
            text = text.lower()
        now = self._samples * 1000 // MODEL_RATE
        start = min(now, self._offset_ms + round(times[0] * 1000))
        span = (start, min(now, self._offset_ms + round(times[-1] * 1000) + 80))
        return spread_words(text.split(), [span])

    def accept(self, pcm: bytes) -> Hypothesis | None:
        x = self._pcm(pcm)
        self._samples += x.size
        events = self._vad.feed(x)
        for event in events:
            self._speech_end = event.ms if event.kind == "end" else None
        self._stream.accept_waveform(MODEL_RATE, x)
        words = self._decode()
        changed = bool(events) or [w.text for w in words] != [w.text for w in self._words]
        self._words = words
        if not changed:
            return None
        return Hypothesis(
            words=list(words),
            speech_end_ms=None if self._vad.in_speech else self._speech_end,
            eot_confidence=eot_confidence(words),
        )

    def finalize(self) -> list[HeardWord]:
        self._stream.accept_waveform(MODEL_RATE, FLUSH)
        words = self._decode()
        self._new_stream()
        return words
