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
class TurnRevised:
    """A turn already final got corrected speakers (SpeakerRevision); replaces it by index."""

    turn: FinalTurn


@dataclass(slots=True)
class SpeakerRenamed:
    """A person named a speaker: every turn with this label shows the name from now on."""

    label: str
    name: str


@dataclass(slots=True)
class SpeechDetected:
    """The service heard speech start (SpeechStarted), before any words of the turn."""

    at_ms: int


@dataclass(slots=True)
class ServiceLoad:
    """A Heartbeat: the service's real-time factor (above 1: we send faster than real time)."""

    realtime_factor: float


@dataclass(slots=True)
class MarkerAdded:
    marker: Marker


@dataclass(slots=True)
class Notice:
    level: str  # "information" | "warning" | "error"
    text: str


@dataclass(slots=True)
class LevelsChanged:
    """A frame of audio came in, so the input levels (AudioSource.levels) are new: one per
    frame. Like partials, a front end may coalesce or ignore them; a meter repaints on them
    instead of waking on a timer of its own."""


@dataclass(slots=True)
class Finished:
    exit_code: int
    reason: str = ""


Event = (StateChanged | SessionBegan | PartialTurn | TurnFinal | TurnRevised | SpeakerRenamed | SpeechDetected
         | ServiceLoad | MarkerAdded | Notice | LevelsChanged | Finished)
