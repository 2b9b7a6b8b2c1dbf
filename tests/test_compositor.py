"""The cropping compositor (tui/screens/compositor.py) sends the terminal exactly what Textual's
own compositor sends, for any changed area of a full captioning screen."""

from __future__ import annotations

import copy
import random

from test_snapshots import feed_live_session, frozen_app
from textual._compositor import Compositor
from textual.geometry import Region

from tui.screens.compositor import CroppingCompositor


def update_for(compositor: Compositor, dirty: list[Region], console) -> str:
    compositor._dirty_regions = set(dirty)
    update = compositor.render_partial_update()
    return update.render_segments(console) if update else ""


async def test_partial_updates_match_textuals_compositor(tmp_path):
    app = frozen_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await feed_live_session(pilot)
        app.main.notify("A toast drawn over the meter and the status bar", timeout=30)
        await pilot.pause(0.2)
        cropping = app.main._compositor
        assert isinstance(cropping, CroppingCompositor)
        stock = copy.copy(cropping)
        stock.__class__ = Compositor
        rnd = random.Random(7)
        areas = [Region(0, y, 80, 1) for y in range(24)]  # every row, as a one-line widget repaints
        for _ in range(150):
            x, y = rnd.randrange(80), rnd.randrange(24)
            areas.append(Region(x, y, rnd.randint(1, 80 - x), rnd.randint(1, 24 - y)))
        for area in areas:
            for widget in app.main.query("*"):
                widget._styles_cache.clear()  # both render from the widgets, not from a cache
            expected = update_for(stock, [area], app.console)
            assert expected  # the area has something in it
            assert update_for(cropping, [area], app.console) == expected, area
