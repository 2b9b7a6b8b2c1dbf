"""What a captioning session tells its front end (the Textual app or the headless printer).

Plain dataclasses, no Textual: the app wraps them in messages, the headless runner prints.
Partials may be coalesced by a front end; every other event must be handled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.core.transcript.model import FinalTurn, Marker

# Connection states, in the order a session usually passes through them.
STARTING = "starting"
LOADING = "loading model"
CONNECTING = "connecting"
LIVE = "live"
PAUSED = "paused"
RECONNECTING = "reconnecting"
CLOSING = "closing"
CLOSED = "closed"
ERROR = "error"


@dataclass(slots=True, frozen=True)
class LiveWord:
    text: str
    confidence: float
    final: bool


@dataclass(slots=True)
class StateChanged:
    state: str
    detail: str = ""  # reason for error/reconnecting, e.g. "connection lost (1006)"
    attempt: int = 0  # reconnect attempt number


@dataclass(slots=True)
class SessionBegan:
    session_id: str
    expires_at: float  # epoch seconds when the service will end this session
    endpoint: str  # host[:port] only, never the query


@dataclass(slots=True)
class PartialTurn:
    """The open turn as heard so far; replaces the previous PartialTurn."""

    words: list[LiveWord] = field(default_factory=list)
    source: str | None = None  # "mic" or "system" when two sources are captioned


@dataclass(slots=True)
class TurnFinal:
    turn: FinalTurn
    latency_ms: float | None = None  # end of speech (audio capture) to now


@dataclass(slots=True)
class MarkerAdded:
    marker: Marker


@dataclass(slots=True)
class Notice:
    level: str  # "information" | "warning" | "error"
    text: str


@dataclass(slots=True)
class Finished:
    exit_code: int
    reason: str = ""


Event = StateChanged | SessionBegan | PartialTurn | TurnFinal | MarkerAdded | Notice | Finished
