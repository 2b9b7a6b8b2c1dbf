"""A compositor that renders each widget only where the screen changed."""

from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip


class CroppingCompositor(Compositor):
    """Textual's partial update asks every widget whose *clip* (its container's area) overlaps
    the changed area to render all of its visible lines, and then keeps only the changed
    ones: each 30 Hz meter repaint rendered all seven widgets of the screen, most of the
    app's CPU (bench/RESULTS.md). Here a widget renders only its lines on the changed rows.
    The picture is the same (tests/test_compositor.py)."""

    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        if crop is None:
            yield from super()._get_renders(crop)
            return
        intersection = Region.intersection
        top, bottom = crop.y, crop.bottom
        for widget, (region, clip) in self.visible_widgets.items():
            # Whole rows: the update writes whole chops (widget edge to widget edge) of a row.
            clip = intersection(clip, Region(clip.x, top, clip.width, bottom - top))
            x, y, width, height = intersection(region, clip)
            if width and height:
                yield region, clip, widget.render_lines(Region(x - region.x, y - region.y, width, height))
