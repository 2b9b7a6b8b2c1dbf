"""A Pilot-level monkey: hypothesis drives random keys, clicks, drags, wheel, pastes and resizes
through the captioning screen (fed a session's events, as the snapshot tests do). Here the
app does not contain errors (tests/app/conftest.py): any bug fails the example with its
traceback. The slow, real-process version is tests/e2e/test_monkey.py.
"""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_snapshots import feed_live_session, frozen_app
from textual import events
from textual.pilot import OutOfBounds

from tui.core.stream import events as ev
from tui.core.transcript.model import FinalTurn

KEYS = ["space", "p", "s", "ctrl+s", "f", "c", "slash", "n", "N", "t", "ctrl+l", "end", "escape",
        "question_mark", "f1", "tab", "shift+tab", "enter", "up", "down", "pageup", "pagedown", "home",
        "backspace", "ctrl+p", "f5", "a", "x", "z", "1", "left", "right"]  # no quit keys

point = st.tuples(st.integers(0, 199), st.integers(0, 59))
actions = st.lists(st.one_of(
    st.tuples(st.just("key"), st.sampled_from(KEYS)),
    st.tuples(st.just("click"), point, st.integers(1, 3), st.sampled_from([1, 2, 3])),
    st.tuples(st.just("drag"), point, point),
    st.tuples(st.just("wheel"), point, st.booleans()),
    st.tuples(st.just("paste"), st.text(max_size=40)),
    st.tuples(st.just("resize"), st.integers(20, 200), st.integers(6, 60)),
    st.tuples(st.just("turn"), st.text(min_size=1, max_size=80)),
), min_size=5, max_size=25)


def fit(app, xy: tuple[int, int]) -> tuple[int, int]:
    return xy[0] % app.size.width, xy[1] % app.size.height


def aim(app, xy: tuple[int, int]):
    """(widget under the point, offset in it): a click aimed at a widget, as a terminal's is."""
    x, y = fit(app, xy)
    widget, region = app.get_widget_at(x, y)
    return widget, (x - region.x, y - region.y)


async def act(pilot, action) -> None:
    app, kind = pilot.app, action[0]
    if kind == "key":
        await pilot.press(action[1])
    elif kind == "click":
        widget, offset = aim(app, action[1])
        await pilot.click(widget, offset=offset, times=action[2], button=action[3])
    elif kind == "drag":
        await pilot.mouse_down(*aim(app, action[1]))
        await pilot.hover(offset=fit(app, action[2]))
        await pilot.mouse_up(offset=fit(app, action[2]))
    elif kind == "wheel":
        x, y = fit(app, action[1])
        widget, _ = app.get_widget_at(x, y)
        cls = events.MouseScrollUp if action[2] else events.MouseScrollDown
        widget.post_message(cls(widget, x, y, 0, 0, 0, False, False, False, screen_x=x, screen_y=y))
    elif kind == "paste":
        (app.screen.focused or app.screen).post_message(events.Paste(action[1]))
    elif kind == "resize":
        await pilot.resize_terminal(action[1], action[2])
    else:
        main = app.main
        index = len(main.session.transcript.turns)
        main.session.on_stream_event(ev.TurnFinal(FinalTurn(index, index * 1000, index * 1000 + 900,
                                                            action[1], [], 0.0), 300.0))
    await pilot.pause()


async def storm(tmp_path, steps) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await feed_live_session(pilot)
        for action in steps:
            if not app.is_running:
                break  # the palette's Quit or the footer's "q Quit" ended it: a clean end
            try:
                await act(pilot, action)
            except OutOfBounds:
                pass
        if app.is_running:
            await pilot.press("escape", "escape", "q")
    assert app.return_code == 0


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions)
def test_random_input_never_breaks_the_screen(tmp_path, steps):
    asyncio.run(storm(tmp_path, steps))
