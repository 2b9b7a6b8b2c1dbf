"""Map each v3 session's audio time onto captioner's one continuous timeline.

A session's audio clock starts at 0 with its first byte and runs only while audio is sent,
while the captioner timeline counts all captured audio (also paused and lost audio). Every
time the audio sent to a session jumps on the timeline (pause, gap, reconnect resend), a new
segment starts; mapping a session time picks the segment it falls in.
"""

from __future__ import annotations

import bisect


class SessionClock:
    def __init__(self) -> None:
        self._session_starts: list[float] = []
        self._timeline_starts: list[float] = []
        self.sent_ms = 0.0  # session audio time sent so far

    def add(self, timeline_ms: float, duration_ms: float) -> None:
        """Record that the next duration_ms of session audio is timeline [timeline_ms, +duration)."""
        expected = None
        if self._timeline_starts:
            expected = self._timeline_starts[-1] + (self.sent_ms - self._session_starts[-1])
        if expected is None or abs(expected - timeline_ms) > 0.5:
            self._session_starts.append(self.sent_ms)
            self._timeline_starts.append(timeline_ms)
        self.sent_ms += duration_ms

    def to_timeline(self, session_ms: float) -> int:
        if not self._session_starts:
            return int(session_ms)
        i = max(0, bisect.bisect_right(self._session_starts, session_ms) - 1)
        return int(round(self._timeline_starts[i] + session_ms - self._session_starts[i]))
