"""Planned rollover: when to move to a fresh service session before the current one's limit.

A session has a hard limit (a token's max_session_duration_seconds, 3 h at most). Moving on
mid-sentence costs words: the old session's unfinished turn is dropped and the new one
must hear that audio again. So inside a window before the limit the move waits for a pause:
no open turn *and* local silence (the input level, which shows speech starting before the
first partial does). Only at a hard deadline close to the limit does it move regardless.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np

LEAD_S = 60.0  # the window opens this long before the limit ...
LEAD_FRACTION = 0.4  # ... or this share of a short session's length before it
HARD_S = 5.0  # the deadline: this long before the limit ...
HARD_FRACTION = 0.1  # ... or this share of a short session's length
QUIET_DB = -40.0  # RMS below this is not speech (speech at a microphone is -35..-10 dBFS)
QUIET_MS = 300.0  # this much quiet input is a pause, not a gap between words
PAUSE, DEADLINE = "pause", "deadline"


class QuietTracker:
    """How long the input has been below QUIET_DB, from each frame's RMS.

    Frames are measured only when asked, newest first, until a loud one: the question comes
    only near a session's limit, and measuring every frame sent was a tenth of the event
    loop's work on the microphone. A frame that was never measured before RECENT newer ones
    came is taken as loud, so the quiet is never overstated.
    """

    RECENT = 64  # frames kept unmeasured: 3.2 s of 50 ms frames, ten times QUIET_MS

    def __init__(self, bytes_per_ms: float, quiet_db: float = QUIET_DB) -> None:
        self.bytes_per_ms, self.quiet_db = bytes_per_ms, quiet_db
        self._loud_mean_square = (32768.0 * 10 ** (quiet_db / 20)) ** 2
        self._recent: deque[tuple[bytes, float]] = deque()  # (pcm, end ms), oldest first
        self._end_ms = 0.0  # end of the latest frame on the timeline
        self._loud_end_ms = 0.0  # end of the latest frame known to be at speech level

    def add(self, pcm: bytes, t0_ms: float) -> None:
        end = t0_ms + len(pcm) / self.bytes_per_ms
        if len(self._recent) == self.RECENT:
            self._loud_end_ms = max(self._loud_end_ms, self._recent.popleft()[1])
        self._recent.append((pcm, end))
        self._end_ms = max(self._end_ms, end)

    @property
    def quiet_ms(self) -> float:
        while self._recent:
            pcm, end = self._recent.pop()
            if self._loud(pcm):
                self._loud_end_ms = max(self._loud_end_ms, end)
                self._recent.clear()  # older frames cannot end later
        return self._end_ms - self._loud_end_ms

    def _loud(self, pcm: bytes) -> bool:
        """RMS at or above quiet_db: a sum of squares against a threshold, no logarithm."""
        x = np.frombuffer(pcm, "<i2", count=len(pcm) // 2).astype(np.float32)
        return bool(x.size) and float(np.dot(x, x)) >= self._loud_mean_square * x.size


def rollover_due(now: float, began_at: float, expires_at: float, open_turn: bool,
                 quiet: QuietTracker) -> str | None:
    """PAUSE or DEADLINE when it is time to move on; None while the session can go on."""
    length = expires_at - began_at
    left = expires_at - now
    lead = min(LEAD_S, max(2.0, LEAD_FRACTION * length))
    if left > lead or now - began_at < length / 2:
        return None  # not yet; and never churn through very short sessions
    if not open_turn and quiet.quiet_ms >= QUIET_MS:  # measured only inside the window
        return PAUSE
    return DEADLINE if left < min(HARD_S, HARD_FRACTION * length) else None


def input_rate(due_times: Iterable[tuple[float, float, float]]) -> float:
    """Audio ms per wall ms of the input lately, from (t0_ms, t1_ms, due) per frame; 1.0 when unknown."""
    frames = list(due_times)
    if len(frames) < 2:
        return 1.0
    wall_ms = (frames[-1][2] - frames[0][2]) * 1000.0
    audio_ms = frames[-1][1] - frames[0][1]
    return audio_ms / wall_ms if wall_ms > 1000.0 else 1.0
