"""The shared feed: session events as JSON messages, the finals so far, and the viewers.

A session's emit fan-out calls the feed (in the event loop, never blocking): each event is
encoded once and put on every viewer's bounded queue. A viewer whose queue is full is too
slow to follow live captions: it is dropped (its browser reconnects and catches up from
the finals so far), never waited for.

Messages (the `data:` of each Server-Sent Event):
  {"type": "partial", "turn": N, "text": ...}                       the live line, replaced
  {"type": "final", "turn": N, "text": ..., "start_ms", "end_ms", "time", "speaker", "source"}
  {"type": "revision", "turn": N, ...fields that changed}          a final turn, amended
  {"type": "state", "state": ...}, {"type": "end"}
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tui.core.stream import events as ev

QUEUE_SIZE = 512  # messages a viewer may lag behind (~50 s of partials) before it is dropped
TURN_FIELDS = ("speaker", "source", "language")


def turn_fields(turn: Any) -> dict[str, Any]:
    """A final turn's message fields; optional ones read defensively (other branches add them)."""
    fields = {"turn": turn.index, "text": turn.text, "start_ms": turn.start_ms,
              "end_ms": turn.end_ms, "time": round(turn.wall_time, 3)}
    for name in TURN_FIELDS:
        value = getattr(turn, name, None)
        if value:
            fields[name] = value
    return fields


def revision_fields(event: Any) -> dict[str, Any] | None:
    """Any revision event (e.g. a speaker relabelled): a turn id and what changed."""
    turn = getattr(event, "turn", None)
    if turn is not None and hasattr(turn, "index"):
        return turn_fields(turn)
    index = getattr(event, "index", getattr(event, "turn_index", None))
    if not isinstance(index, int):
        return None
    fields: dict[str, Any] = {"turn": index}
    for name in ("text", *TURN_FIELDS):
        value = getattr(event, name, None)
        if value is not None:
            fields[name] = value
    return fields


def encode(message: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(message, ensure_ascii=False).encode() + b"\n\n"


class Viewer:
    def __init__(self, backlog: list[bytes], size: int) -> None:
        self.backlog = backlog
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(size)
        self.dropped = False

    def offer(self, data: bytes) -> bool:
        try:
            self.queue.put_nowait(data)
            return True
        except asyncio.QueueFull:
            self.close(dropped=True)
            return False

    def close(self, dropped: bool = False) -> None:
        """The end mark after what is queued; a dropped viewer's queue is emptied first."""
        self.dropped = self.dropped or dropped
        if dropped:
            while not self.queue.empty():
                self.queue.get_nowait()
        try:
            self.queue.put_nowait(None)
        except asyncio.QueueFull:
            self.close(dropped=True)


class CaptionFeed:
    """A session listener: call it with every event."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self.finals: dict[int, dict[str, Any]] = {}  # turn -> its latest final message
        self.partial: dict[str, Any] | None = None
        self.state: str = ev.STARTING
        self.ended = False
        self.viewers: set[Viewer] = set()
        self.dropped = 0  # viewers dropped for lagging
        self._next_turn = 0
        self._last_partial: dict[str, Any] | None = None

    def __call__(self, event: ev.Event) -> None:
        message = self.message(event)
        if message is not None:
            self.publish(message)

    def message(self, event: Any) -> dict[str, Any] | None:
        """The message for an event (and the history updated); None for what viewers don't see."""
        if isinstance(event, ev.PartialTurn):
            message = {"type": "partial", "turn": self._next_turn,
                       "text": " ".join(w.text for w in event.words)}
            if message == self._last_partial:
                return None  # the same words again: nothing for a viewer to redraw
            self._last_partial = message
            self.partial = message if message["text"] else None
            return message
        if isinstance(event, ev.TurnFinal):
            fields = turn_fields(event.turn)
            kind = "revision" if fields["turn"] in self.finals else "final"
            self.finals[fields["turn"]] = {"type": "final", **fields}
            self._next_turn = max(self._next_turn, fields["turn"] + 1)
            self.partial = self._last_partial = None
            return {"type": kind, **fields}
        if isinstance(event, ev.StateChanged):
            self.state = event.state
            return {"type": "state", "state": event.state}
        if isinstance(event, ev.Finished):
            self.ended = True
            return {"type": "end"}
        if "Revision" in type(event).__name__:
            return self._revise(revision_fields(event))
        return None

    def _revise(self, fields: dict[str, Any] | None) -> dict[str, Any] | None:
        if fields is None:
            return None
        known = self.finals.get(fields["turn"])
        if known is not None:
            known.update(fields)
        return {"type": "revision", **fields}

    def publish(self, message: dict[str, Any]) -> None:
        data = encode(message)
        for viewer in list(self.viewers):
            if not viewer.offer(data):
                self.viewers.discard(viewer)
                self.dropped += 1
        if message["type"] == "end":
            self.close()

    def join(self) -> Viewer:
        """A new viewer: the finals so far, the state and the live line come first."""
        backlog = [encode({"type": "state", "state": self.state})]
        backlog += [encode(m) for m in self.finals.values()]
        if self.partial:
            backlog.append(encode(self.partial))
        if self.ended:
            backlog.append(encode({"type": "end"}))
        viewer = Viewer(backlog, self.queue_size)
        if self.ended:
            viewer.close()
        else:
            self.viewers.add(viewer)
        return viewer

    def leave(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)

    def close(self) -> None:
        for viewer in self.viewers:
            viewer.close()
        self.viewers.clear()
