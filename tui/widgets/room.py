"""The caption view's one widget: the last turns and the live line, filling the terminal.

High contrast, bottom-aligned (the newest line is always on the last row), wrapped at word
boundaries; in large mode drawn in block letters (tui.widgets.bigtext) sized to the width.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from tui.widgets import bigtext


@dataclass(frozen=True, slots=True)
class Caption:
    """One block of the view: who said it (may be empty), what, and whether it is final."""

    label: str
    text: str
    final: bool = True


class RoomCaptions(Widget):
    COMPONENT_CLASSES = {"room--final", "room--live", "room--label"}
    DEFAULT_CSS = """
    RoomCaptions { background: #000000; color: #ffffff; padding: 0 1; }
    RoomCaptions > .room--final { color: #ffffff; text-style: bold; }
    RoomCaptions > .room--live { color: #ffe066; text-style: bold; }
    RoomCaptions > .room--label { color: #66d9ff; text-style: bold; }
    """

    def __init__(self, large: bool = False, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.large = large
        self.captions: tuple[Caption, ...] = ()
        self._rows: list[list[Segment]] = []
        self._laid_out_for: tuple | None = None

    def show(self, captions: tuple[Caption, ...]) -> bool:
        """New content; repaints only if it changed."""
        if captions == self.captions:
            return False
        self.captions = captions
        self.refresh()
        return True

    def set_large(self, large: bool) -> None:
        self.large = large
        self.refresh()

    @property
    def size_in_use(self) -> bigtext.Size | None:
        return bigtext.pick_size(self.content_size.width) if self.large else None

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name)

    def _layout(self) -> list[list[Segment]]:
        key = (self.captions, self.large, self.content_size)
        if key != self._laid_out_for:
            self._laid_out_for = key
            width, size = max(self.content_size.width, 1), self.size_in_use
            rows: list[list[Segment]] = []
            for i, caption in enumerate(self.captions):
                if i and size is not None:
                    rows.append([])  # block letters need a blank row between turns
                rows += self._block(caption, width, size)
            self._rows = rows[-max(self.content_size.height, 1):]
        return self._rows

    def _block(self, caption: Caption, width: int, size: bigtext.Size | None) -> list[list[Segment]]:
        body = self._style("room--final" if caption.final else "room--live")
        label = self._style("room--label")
        if size is None:
            text = Text(end="")
            if caption.label:
                text.append(f"{caption.label}: ", label)
            text.append(caption.text, body)
            lines = text.wrap(self.app.console, width, overflow="fold")
            return [list(line.render(self.app.console)) for line in lines]
        rows = [[Segment(caption.label[:width], label)]] if caption.label else []
        rows += [[Segment(r, body)] for r in bigtext.render(caption.text, width, size)]
        return rows

    def render_line(self, y: int) -> Strip:
        rows = self._layout()
        height, width = self.content_size.height, self.content_size.width
        at = y - (height - len(rows))  # bottom-aligned
        segments = rows[at] if 0 <= at < len(rows) else []
        return Strip(segments).crop_extend(0, width, self.rich_style)

    def plain(self) -> str:
        return "\n".join("".join(s.text for s in row).rstrip() for row in self._layout())


def turn_label(turn) -> str:
    """Speaker and source of a turn, where it has them (fields other branches may add)."""
    return " · ".join(str(v) for v in (getattr(turn, "speaker", None), getattr(turn, "source", None)) if v)


def captions_of(turns, live: str) -> tuple[Caption, ...]:
    """Finished turns (oldest first) and the live line as the view's blocks."""
    blocks = tuple(Caption(turn_label(t), t.text) for t in turns)
    return blocks + ((Caption("", live, final=False),) if live else ())
