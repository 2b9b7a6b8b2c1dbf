"""The live line: the turn being spoken, newest words always visible, fixed height."""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tui.core.events import LiveWord


def layout_words(words: list[tuple[str, Style | str]], width: int, height: int) -> Text:
    """Greedy word wrap into at most `height` lines, keeping the last (newest) lines.

    A word wider than the line is cut into pieces, so nothing can push the layout.
    """
    width = max(width, 1)
    lines: list[list[tuple[str, Style | str]]] = [[]]
    used = 0
    for text, style in words:
        pieces = [text[i:i + width] for i in range(0, len(text), width)] or [""]
        for piece in pieces:
            need = cell_len(piece) + (1 if used else 0)
            if used and used + need > width:
                lines.append([])
                used = 0
                need = cell_len(piece)
            lines[-1].append((piece, style))
            used += need
    out = Text(no_wrap=True, overflow="crop", end="")
    for n, line in enumerate(lines[-height:]):
        if n:
            out.append("\n")
        for i, (piece, style) in enumerate(line):
            if i:
                out.append(" ")
            out.append(piece, style)
    return out


class LiveCaption(Widget):
    """The open turn. Final words plain, the provisional tail dim italic, unsure words marked."""

    DEFAULT_CSS = """
    LiveCaption { height: 3; }
    LiveCaption > .live-caption--provisional { color: $text-muted; text-style: italic not bold; }
    LiveCaption > .live-caption--low-confidence { color: $text-warning; text-style: underline; }
    LiveCaption > .live-caption--placeholder { color: $text-muted; text-style: italic not bold; }
    """
    COMPONENT_CLASSES = {"live-caption--provisional", "live-caption--low-confidence",
                         "live-caption--placeholder"}

    def __init__(self, low_confidence: float = 0.0, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.low_confidence = low_confidence
        self.words: tuple[LiveWord, ...] = ()
        self.placeholder = ""

    def show(self, words: list[LiveWord] | tuple[LiveWord, ...]) -> bool:
        """Show these words; True if that changed anything (only then it repaints)."""
        words = tuple(words)
        if words == self.words:
            return False
        self.words = words
        self.refresh()
        return True

    def set_placeholder(self, text: str) -> None:
        if text != self.placeholder:
            self.placeholder = text
            if not self.words:
                self.refresh()

    def styled_words(self) -> list[tuple[str, Style | str]]:
        provisional = self.get_component_rich_style("live-caption--provisional", partial=True)
        low = self.get_component_rich_style("live-caption--low-confidence", partial=True)
        out: list[tuple[str, Style | str]] = []
        for w in self.words:
            style = Style()
            if not w.final:
                style += provisional
            if self.low_confidence and w.confidence < self.low_confidence:
                style += low
            out.append((w.text, style))
        return out

    def render(self) -> Text:
        if not self.words:
            style = self.get_component_rich_style("live-caption--placeholder", partial=True)
            return Text(self.placeholder, style=style, no_wrap=True, overflow="ellipsis")
        return layout_words(self.styled_words(), self.content_region.width or self.size.width,
                            max(self.content_region.height, 1))

    def plain(self) -> str:
        return " ".join(w.text for w in self.words)
