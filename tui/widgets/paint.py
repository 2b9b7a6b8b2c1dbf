"""Widgets that repaint by writing their lines straight to the terminal, without a Textual frame.

A Textual frame costs ~0.8 ms of CPU however little changed (timer, message hops, compositor,
styles cache), and the level meter changes up to 30 times a second: that was most of the app's
CPU (bench/RESULTS.md). A line-API widget that nothing is drawn over can write the lines a frame
would write there itself, for a fraction of that.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.color import Color
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget

from tui import textual_hacks


def fit(strip: Strip, width: int) -> Strip:
    """`strip` if it fits in `width` cells, else cut to end in an ellipsis."""
    if strip.cell_length <= width:
        return strip
    return Strip([*strip.crop(0, max(width - 1, 0)), Segment("…", list(strip)[-1].style)])


@dataclass(frozen=True, slots=True)
class Surround:
    """What Textual's styles cache draws around a plain widget's content."""

    outer: Size  # the widget's region's size, the cache key: Widget.size asks the compositor
    size: Size
    padding: tuple[int, int, int, int]  # top, right, bottom, left
    inner: RichStyle  # padding and fill
    background: Color  # for the app's line filters


class PaintedLines(Widget):
    """A line-API widget (it implements render_line) whose repaint() paints it at once when it can."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._surround: Surround | None = None
        self._placed: tuple[object, Region | None] = (None, None)  # (compositor map, region)
        self._home: tuple | None = None  # (app, screen): looked up once, they never change
        self._line_styles: dict[tuple[str | None, ...], RichStyle] = {}

    def repaint(self) -> None:
        """Show a change now, or at the next frame if something else is drawn over the widget."""
        if not self.paint_now():
            self.refresh()

    def notify_style_update(self) -> None:
        self._surround = None
        self._line_styles.clear()
        super().notify_style_update()

    def line_style(self, *components: str | None) -> RichStyle:
        """The widget's style with these component classes' on top (None: no class), kept until
        the CSS or theme changes: Textual drops its own cache at every refresh, and looking
        styles up was a quarter of a meter repaint's cost."""
        style = self._line_styles.get(components)
        if style is None:
            style = self.visual_style.rich_style
            for name in filter(None, components):
                style += self.get_component_rich_style(name, partial=True)
            self._line_styles[components] = style
        return style

    def paint_now(self) -> bool:
        if self._home is None:
            self._home = (self.app, self.screen)
        app, screen = self._home
        if (app.is_headless or app.is_inline or app.screen is not screen
                or textual_hacks.frame_pending(app, screen)):  # a frame will come anyway
            return False
        region = self._region_on_top(screen)
        lines = self.plain_lines(region) if region is not None else None
        if lines is None:
            return False
        return textual_hacks.write_lines(app, screen, self, lines, region)

    def _region_on_top(self, screen) -> Region | None:
        """The widget's region if it is wholly visible and nothing is drawn over it."""
        widgets = textual_hacks.visible_widgets(screen)
        if widgets is None:
            return None
        if self._placed[0] is not widgets:
            self._placed = (widgets, None)
            for other, (region, clip) in widgets.items():
                if other is self:
                    if clip.contains_region(region):
                        self._placed = (widgets, region)
                    break
                if region.intersection(clip).overlaps(self.region):
                    break  # a toast, tooltip or layer above it
        return self._placed[1]

    def plain_lines(self, region: Region | None = None) -> list[Strip] | None:
        """The lines as Textual's styles cache draws them (content, padding, background, the
        app's line filters) over `region` (the widget's own); None for a widget with borders
        or effects, left to a frame."""
        outer = (region or self.region).size
        surround = self._surround
        if surround is None or surround.outer != outer:
            surround = self._surround = self._measure_surround(outer)
        if surround is None:
            return None
        width, height = surround.size
        top, right, bottom, left = surround.padding
        inner = surround.inner
        filters = self.get_line_filters()
        lines = []
        for y in range(height):
            if top <= y < height - bottom:
                line = self.render_line(y - top).adjust_cell_length(width - left - right, inner)
                if left or right:
                    line = Strip([Segment(" " * left, inner), *line, Segment(" " * right, inner)], width)
            else:
                line = Strip.blank(width, inner)
            for line_filter in filters:
                line = line.apply_filter(line_filter, surround.background)
            lines.append(line)
        return lines

    def _measure_surround(self, outer: Size) -> Surround | None:
        styles = self.styles
        if (any(edge for edge, _ in styles.border) or any(edge for edge, _ in styles.outline)
                or styles.tint.a or self.opacity != 1 or styles.text_opacity != 1
                or textual_hacks.has_border_titles(self)
                or (styles.has_rule("hatch") and styles.hatch != "none")):
            return None
        base_background, background = self.background_colors
        inner = Style(background=base_background + background).rich_style
        return Surround(outer, self.size, tuple(styles.padding), inner, background)
