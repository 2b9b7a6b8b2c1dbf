"""`captioner watch URL`: a shared session's captions, read-only, on the captioning screen's
widgets (scrollback and live line; no audio, no meter), following its event stream.
"""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Label

from tui.config import Settings
from tui.core.stream import events as ev
from tui.core.transcript.model import FinalTurn
from tui.screens.captions import CaptionScreen
from tui.share.client import WatchError, follow
from tui.widgets.caption_log import CaptionLog
from tui.widgets.live import LiveCaption
from tui.widgets.room import Caption, captions_of

OPTIONAL_FIELDS = tuple(n for n in ("speaker", "source", "language") if n in FinalTurn.__dataclass_fields__)


def turn_from(message: dict[str, Any], known: FinalTurn | None = None) -> FinalTurn:
    """A final (or revised) turn from its message; a revision keeps what it does not change."""
    base = {"start_ms": 0, "end_ms": 0, "text": "", "time": time.time()}
    if known is not None:
        base.update(start_ms=known.start_ms, end_ms=known.end_ms, text=known.text, time=known.wall_time)
        base.update({n: getattr(known, n) for n in OPTIONAL_FIELDS})
    base.update(message)
    extra = {n: base.get(n) for n in OPTIONAL_FIELDS}
    return FinalTurn(int(base["turn"]), int(base["start_ms"]), int(base["end_ms"]), str(base["text"]), [],
                     float(base["time"]), **extra)


class WatchScreen(Screen):
    BINDINGS = [
        Binding("v", "caption_view", "Captions only", id="caption_view"),
        Binding("end", "follow", "Jump to newest", show=False, id="follow"),
    ]

    def __init__(self, url: str, settings: Settings) -> None:
        super().__init__()
        self.url, self.settings = url, settings
        self.shown_url = url.split("?")[0]  # a token in the query stays off the screen
        self.turns: dict[int, FinalTurn] = {}
        self.partial: tuple[int, str] = (0, "")
        self.exit_message: str | None = None

    def compose(self) -> ComposeResult:
        yield CaptionLog(self.settings["ui.scrollback"], self.settings["ui.timestamps"], id="log")
        yield LiveCaption(self.settings["ui.low_confidence"], id="live")
        yield Label("", id="watch-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._status(f"connecting to {self.shown_url}…")
        self.run_worker(self._follow(), name="watch", exclusive=True, exit_on_error=False)
        if self.settings["ui.view"] == "captions":
            self.call_later(self.action_caption_view)

    async def _follow(self) -> None:
        try:
            async for message in follow(self.url):
                self.handle(message)
        except WatchError as exc:
            self.app.exit(return_code=2, message=f"captioner: {exc}")

    def _status(self, text: str) -> None:
        self.query_one("#watch-status", Label).update(text)
        self.query_one(LiveCaption).set_placeholder(text)

    def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "link":
            state, detail = message["state"], message.get("detail")
            where = self.shown_url
            self._status({"connecting": f"connecting to {where}…", "connected": f"following {where}",
                          "lost": f"link lost ({detail}): reconnecting…"}[state])
        elif kind == "state":
            self._status(f"following {self.shown_url}: {message.get('state')}")
        elif kind == "partial":
            self.partial = (int(message.get("turn", 0)), str(message.get("text", "")))
            self.query_one(LiveCaption).show([ev.LiveWord(w, 1.0, False) for w in self.partial[1].split()])
        elif kind in ("final", "revision") and isinstance(message.get("turn"), int):
            self._turn(message)
        elif kind == "end":
            self.query_one(LiveCaption).show([])
            self._status("the shared session has ended: press q to quit")

    def _turn(self, message: dict[str, Any]) -> None:
        index = message["turn"]
        known = self.turns.get(index)
        if known is None and message["type"] == "revision" and "text" not in message:
            return  # a revision of a turn this viewer never saw
        turn = turn_from(message, known)
        if known is not None and turn == known:
            return  # the replay after a reconnect: already on screen
        self.turns[index] = turn
        self.query_one(CaptionLog).add(turn)
        if self.partial[0] <= index:
            self.partial = (index + 1, "")
            self.query_one(LiveCaption).show([])

    def recent_captions(self, n: int) -> tuple[Caption, ...]:
        order = sorted(self.turns)[-n:]
        return captions_of([self.turns[i] for i in order], self.partial[1])

    def action_caption_view(self) -> None:
        self.app.push_screen(CaptionScreen(self.recent_captions, self.settings["ui.large_text"]))

    def action_follow(self) -> None:
        self.query_one(CaptionLog).follow()
