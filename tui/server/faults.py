"""Fault injection for reconnect tests: the server misbehaves on purpose, as configured."""

from __future__ import annotations

from dataclasses import dataclass

ERROR_TEXTS = {
    3005: "Session Cancelled: An error occurred",
    1011: "Internal Server Error",
}


def error_text(code: int) -> str:
    return ERROR_TEXTS.get(code, "Session Cancelled: An error occurred")


@dataclass(slots=True)
class Faults:
    """What to break. Audio thresholds count ms of audio received in the session."""

    #: Abort the TCP connection (no close frame) after this much audio.
    drop_after_audio_ms: int | None = None
    #: Send Error `error_code` and close with it after this much audio.
    error_after_audio_ms: int | None = None
    error_code: int = 3005
    #: Never answer Terminate (the client must time out on its own).
    ignore_terminate: bool = False
    #: Wait this long before sending Termination.
    termination_delay_s: float = 0.0
    #: Break only the first N sessions of the server (None: all), so a reconnect succeeds.
    first_sessions: int | None = None

    def for_session(self, index: int) -> Faults:
        """The faults that apply to the server's `index`-th session (0-based)."""
        if self.first_sessions is not None and index >= self.first_sessions:
            return Faults()
        return self

