"""The live line: the turn being spoken, newest words always visible, fixed height."""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui.core.stream.events import LiveWord
from tui.widgets.paint import PaintedLines, fit


def layout_words(words: list[tuple[str, Style]], width: int, height: int) -> list[list[tuple[str, Style]]]:
    """Greedy word wrap into at most `height` lines of (piece, style), keeping the last (newest).

    A word wider than the line is cut into pieces, so nothing can push the layout.
    """
    width = max(width, 1)
    lines: list[list[tuple[str, Style]]] = [[]]
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
    return lines[-height:]


class LiveCaption(PaintedLines):
    """The open turn. Final words plain, the provisional tail dim italic, unsure words marked."""

    DEFAULT_CSS = """
    LiveCaption { height: 3; }
    LiveCaption > .live-caption--provisional { color: $text-muted; text-style: italic not bold; }
    LiveCaption > .live-caption--low-confidence { color: $text-warning; text-style: underline; }
    LiveCaption > .live-caption--placeholder { color: $text-muted; text-style: italic not bold; }
    LiveCaption > .live-caption--label { color: $accent; text-style: bold; }
    """
    COMPONENT_CLASSES = {"live-caption--provisional", "live-caption--low-confidence",
                         "live-caption--placeholder", "live-caption--label"}

    def __init__(self, low_confidence: float = 0.0, label: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.low_confidence = low_confidence
        self.label = label  # the source's name, with two sources: "You:" before the words
        self.words: tuple[LiveWord, ...] = ()
        self.placeholder = ""
        self._lines: list[Strip] | None = None  # laid out for the current words and width

    def show(self, words: list[LiveWord] | tuple[LiveWord, ...]) -> bool:
        """Show these words; True if that changed anything (only then it repaints)."""
        words = tuple(words)
        if words == self.words:
            return False
        self.words = words
        self.repaint()
        return True

    def set_placeholder(self, text: str) -> None:
        if text != self.placeholder:
            self.placeholder = text
            if not self.words:
                self.repaint()

    def repaint(self) -> None:
        self._lines = None
        super().repaint()

    def styled_words(self) -> list[tuple[str, Style]]:
        """(text, style) per word, on the widget's base style: the four word styles are looked
        up once (line_style keeps them), not added and hashed per word at every repaint."""
        low = self.low_confidence
        out: list[tuple[str, Style]] = []
        if self.label:
            out.append((f"{self.label}:", self.line_style("live-caption--label")))
        for w in self.words:
            out.append((w.text, self.line_style(
                None if w.final else "live-caption--provisional",
                "live-caption--low-confidence" if low and w.confidence < low else None)))
        return out

    def render_line(self, y: int) -> Strip:
        """Textual's line API: segments straight from the laid-out words (no Text-to-Content
        conversion, the most expensive part of a repaint: bench/RESULTS.md)."""
        if self._lines is None:
            self._lines = self._layout()
        return self._lines[y] if y < len(self._lines) else Strip([])

    def _layout(self) -> list[Strip]:
        base = self.line_style()
        width, height = self.size  # the content area's (one compositor lookup)
        if not self.words:
            return [fit(Strip([Segment(self.placeholder, self.line_style("live-caption--placeholder"))]), width)]
        lines = []
        for line in layout_words(self.styled_words(), width, max(height, 1)):
            segments = []
            for i, (piece, style) in enumerate(line):
                if i:
                    segments.append(Segment(" ", base))
                segments.append(Segment(piece, style))
            lines.append(Strip(segments))
        return lines

    def on_resize(self) -> None:
        self._lines = None

    def notify_style_update(self) -> None:
        self._lines = None
        super().notify_style_update()

    def plain(self) -> str:
        return " ".join(w.text for w in self.words)
