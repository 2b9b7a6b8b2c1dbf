"""The caption-only view (v, or --view captions): nothing but the captions, for the room.

It reads what the screen under it has (the last turns and the live line) at a fixed rate,
so the session's event routing is untouched; painting happens only when something changed.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from tui.widgets.room import Caption, RoomCaptions

REFRESH_S = 0.05  # 20 checks a second: a partial shows here within 50 ms of the main screen

# n -> the last n turns and the live line, oldest first
CaptionSource = Callable[[int], tuple[Caption, ...]]


class CaptionScreen(Screen):
    DEFAULT_CSS = """
    CaptionScreen { background: #000000; }
    CaptionScreen RoomCaptions { height: 1fr; }
    """
    BINDINGS = [
        Binding("v", "close", "Full screen (back)", id="caption_view"),
        Binding("l", "large", "Large text", id="large_text"),
        Binding("space,p", "pause", "Pause", show=False, id="pause"),
    ]

    def __init__(self, source: CaptionSource, large: bool = False,
                 pause: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.source, self.large, self._pause = source, large, pause

    def compose(self) -> ComposeResult:
        yield RoomCaptions(self.large)

    @property
    def room(self) -> RoomCaptions:
        return self.query_one(RoomCaptions)

    def on_mount(self) -> None:
        self.update_captions()
        self.set_interval(REFRESH_S, self.update_captions, name="captions")

    def update_captions(self) -> None:
        self.room.show(self.source(max(self.room.content_size.height, 24)))

    def action_close(self) -> None:
        self.dismiss()

    def action_large(self) -> None:
        self.large = not self.large
        self.room.set_large(self.large)

    def action_pause(self) -> None:
        if self._pause is not None:
            self._pause()
