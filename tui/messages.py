"""Typed messages from the caption session to the screen.

The session's emit callback wraps each event (except partials, which the screen coalesces
and paints at its own rate) in one of these and posts it: none of them is ever dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tui.core.stream import events as ev


@dataclass
class ConnectionChanged(Message):
    """The connection state changed (connecting, live, paused, reconnecting, closed, error)."""

    event: ev.StateChanged


@dataclass
class SessionStarted(Message):
    """The service began a session: its endpoint and when it expires."""

    event: ev.SessionBegan


@dataclass
class TurnFinalized(Message):
    """A turn is final (it is already in the transcript and the journal)."""

    event: ev.TurnFinal


@dataclass
class TurnRevisedMessage(Message):
    """A final turn got corrected speakers (already in the transcript and the journal)."""

    event: ev.TurnRevised


@dataclass
class SpeakerRenamedMessage(Message):
    """A person named a speaker."""

    event: ev.SpeakerRenamed


@dataclass
class SpeechDetectedMessage(Message):
    """The service heard someone start speaking."""

    event: ev.SpeechDetected


@dataclass
class MarkerPlaced(Message):
    """A pause, reconnect or gap marker on the timeline."""

    event: ev.MarkerAdded


@dataclass
class NoticePosted(Message):
    """Something a person should read: information, a warning or an error."""

    event: ev.Notice


@dataclass
class SessionFinished(Message):
    """The session has ended with this exit status."""

    event: ev.Finished


def wrap(event: ev.Event) -> Message | None:
    """The message for a session event; None for partials (coalesced by the screen) and
    heartbeats (the status bar reads the session's figure at its own rate)."""
    match event:
        case ev.StateChanged():
            return ConnectionChanged(event)
        case ev.SessionBegan():
            return SessionStarted(event)
        case ev.TurnFinal():
            return TurnFinalized(event)
        case ev.TurnRevised():
            return TurnRevisedMessage(event)
        case ev.SpeakerRenamed():
            return SpeakerRenamedMessage(event)
        case ev.SpeechDetected():
            return SpeechDetectedMessage(event)
        case ev.MarkerAdded():
            return MarkerPlaced(event)
        case ev.Notice():
            return NoticePosted(event)
        case ev.Finished():
            return SessionFinished(event)
    return None
