"""Painting one small widget straight to the terminal, without a full Textual frame."""

from __future__ import annotations

from textual._compositor import LayoutUpdate
from textual.geometry import Region
from textual.widget import Widget


def paint_now(widget: Widget) -> bool:
    """Write `widget`'s lines to the terminal now; False if it must wait for a normal frame.

    A Textual frame costs ~0.8 ms of CPU however little changed (timer, message hops,
    compositor), and the level meter changes up to 30 times a second: that was most of the
    app's CPU (bench/RESULTS.md). When nothing is drawn over the widget, its own rendered
    lines are exactly what the frame would write there, so they are written directly.
    """
    app = widget.app
    screen = widget.screen
    if (app.is_headless or app.is_inline or app._batch_count or app.screen is not screen
            or screen._layout_required):  # positions may be about to change: a frame will come
        return False
    placed = None
    for other, (region, clip) in screen._compositor.visible_widgets.items():  # front to back
        if other is widget:
            placed = region, clip
            break
        if region.intersection(clip).overlaps(widget.region):
            return False  # a toast, tooltip or layer above it
    if placed is None or not placed[1].contains_region(placed[0]):
        return False
    region = placed[0]
    widget._styles_cache.clear()
    strips = widget.render_lines(Region(0, 0, region.width, region.height))
    app._display(screen, LayoutUpdate([[strip] for strip in strips], region))
    return True
