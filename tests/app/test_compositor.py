"""The cropping compositor (tui/textual_hacks.py) sends the terminal exactly what Textual's
own compositor sends, for any changed area of a full captioning screen."""

from __future__ import annotations

import copy
import random

import pytest

from test_snapshots import feed_live_session, frozen_app
from textual._compositor import Compositor
from textual.geometry import Region

from tui.textual_hacks import CroppingCompositor
from tui.widgets.live import LiveCaption
from tui.widgets.meter import LevelMeter
from tui.widgets.status import StatusBar


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


def cells(strips) -> list[list[tuple[str, object]]]:
    """Each line as (character, style) per cell: how the segments are split does not show."""
    return [[(ch, seg.style) for seg in strip for ch in seg.text] for strip in strips]


@pytest.mark.parametrize("no_color", [False, True])
async def test_painted_lines_match_textuals_styles_cache(tmp_path, monkeypatch, no_color):
    """What paint_now writes for the meter, live line and status bar is what a frame would."""
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")  # Textual adds a line filter
    app = frozen_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await feed_live_session(pilot)
        for theme in ("textual-dark", "textual-light", "ansi-dark", "nord"):
            app.theme = theme
            await pilot.pause()
            for widget in (app.main.query_one(LiveCaption), app.main.query_one(LevelMeter),
                           app.main.query_one(StatusBar)):
                widget._styles_cache.clear()
                expected = widget.render_lines(Region(0, 0, *widget.size))
                assert cells(widget.plain_lines()) == cells(expected), (theme, widget)
