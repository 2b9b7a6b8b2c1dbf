"""Under the pinned Textual, every private part tui.textual_hacks reaches for is there.

A Textual release that renames one makes the app fall back to plain refreshes (slower, still
correct); this test is what notices: it fails if any fallback was taken.
"""

from __future__ import annotations

import pytest
import textual

from test_snapshots import feed_live_session, frozen_app

from tui import textual_hacks
from tui.terminal_driver import TerminalWriter, captioner_driver
from tui.widgets.meter import LevelMeter


async def test_no_fallback_is_taken_under_the_pinned_textual(tmp_path):
    assert textual.__version__ == textual_hacks.WRITTEN_FOR, "check each private name, then update WRITTEN_FOR"
    app = frozen_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await feed_live_session(pilot)
        screen = app.main
        assert isinstance(screen._compositor, textual_hacks.CroppingCompositor)
        await pilot.pause(0.2)
        assert not textual_hacks.frame_pending(app, screen)
        widgets = textual_hacks.visible_widgets(screen)
        meter = screen.query_one(LevelMeter)
        assert meter in widgets
        assert textual_hacks.write_lines(app, screen, meter, meter.plain_lines(), meter.region)
        textual_hacks.prompt_screen_updates(screen)
        assert screen._update_timer._skip is False
        assert not textual_hacks.has_border_titles(meter)
    assert textual_hacks.FALLBACKS == set()


def test_a_missing_private_name_takes_the_plain_path(monkeypatch):
    monkeypatch.setattr(textual_hacks, "FALLBACKS", set())

    class Bare:
        pass

    assert textual_hacks.frame_pending(Bare(), Bare())  # so the widget refreshes instead
    assert textual_hacks.visible_widgets(Bare()) is None
    assert textual_hacks.FALLBACKS == {"App._batch_count", "Screen._compositor.visible_widgets"}


async def test_a_press_on_a_widget_removed_since_the_last_frame_is_ignored():
    """Textual 8.2.8 raised AttributeError there (found by tests/e2e/test_monkey.py)."""
    from textual import events
    from textual.app import App
    from textual.widgets import Label

    class Bare(App):
        def compose(self):
            yield Label("hello world", id="gone")

    textual_hacks.ignore_presses_on_removed_widgets()
    app = Bare()
    async with app.run_test(size=(40, 10)):
        await app.query_one("#gone").remove()
        press = events.MouseDown(None, 2, 0, 0, 0, 1, False, False, False, screen_x=2, screen_y=0)
        app.screen._forward_event(press)  # raised before
    assert "Screen._forward_event" not in textual_hacks.FALLBACKS


async def test_a_screen_dismissed_twice_leaves_the_screen_below_alone():
    """The command palette clicked twice on its background popped the main screen too."""
    from textual.app import App
    from textual.screen import ModalScreen, Screen

    textual_hacks.dismiss_only_the_top_screen()
    app = App()
    async with app.run_test() as pilot:
        main, dialog = Screen(), ModalScreen()
        await app.push_screen(main)
        await app.push_screen(dialog)
        dialog.dismiss()
        await pilot.pause()
        dialog.dismiss()
        await pilot.pause()
        assert app.screen is main


async def test_a_click_on_an_option_gone_since_the_last_frame_is_ignored():
    """The palette's list refilled under a click: IndexError before (monkey seed 618)."""
    from rich.style import Style
    from textual import events
    from textual.app import App
    from textual.widgets import OptionList

    class Options(App):
        def compose(self):
            yield OptionList("one", "two", "three")

    textual_hacks.ignore_clicks_on_stale_options()
    app = Options()
    async with app.run_test() as pilot:
        options = app.query_one(OptionList)
        options.clear_options()
        click = events.Click(options, 1, 2, 0, 0, 1, False, False, False, style=Style(meta={"option": 2}))
        await options._on_click(click)  # raised IndexError before
        options.add_option("four")
        await pilot.pause()
        await options._on_click(events.Click(options, 1, 0, 0, 0, 1, False, False, False,
                                             style=Style(meta={"option": 0})))
        assert options.highlighted == 0  # a click on a real option still selects it


async def test_paging_a_list_that_has_no_room_yet_is_ignored():
    """An OptionList with no room has no lines laid out (the palette's, as it refills): its
    PageDown raised KeyError (monkey seed 575466)."""
    from textual.app import App
    from textual.widgets import OptionList

    class Options(App):
        CSS = "OptionList { height: 0; }"

        def compose(self):
            yield OptionList()

    textual_hacks.ignore_clicks_on_stale_options()
    app = Options()
    async with app.run_test(size=(40, 10)) as pilot:
        options = app.query_one(OptionList)
        options.add_options([f"option {i}" for i in range(30)])
        options.highlighted = 0
        options.action_page_down()  # raised KeyError: 0 before
        assert options.highlighted == 0
        options.styles.height = 5
        await pilot.pause()
        options.action_page_down()  # room now: a page down moves
        assert options.highlighted > 0


def _switches(native_id: int) -> int:
    with open(f"/proc/self/task/{native_id}/status") as f:
        return int(next(line for line in f if line.startswith("voluntary_ctxt_switches")).split()[1])


async def test_the_input_thread_sleeps_until_a_key_and_wakes_to_exit():
    """Textual's input thread woke 10 times a second while nobody typed; this one reads keys,
    times out a lone Escape, and leaves at once when told to."""
    import os
    import threading
    import time

    from textual import events
    from textual.drivers.linux_driver import LinuxDriver

    driver_class = captioner_driver(LinuxDriver)
    assert driver_class is not LinuxDriver and textual_hacks.FALLBACKS == set()
    driver = driver_class(object())
    read_end, write_end = os.pipe()
    driver.fileno = read_end  # a pipe stands in for the terminal
    got: list = []
    driver.process_message = got.append
    thread = threading.Thread(target=driver.run_input_thread)
    thread.start()
    try:
        time.sleep(0.3)
        before = _switches(thread.native_id)
        time.sleep(1.0)
        assert _switches(thread.native_id) - before <= 1  # Textual's own: 10
        os.write(write_end, b"q")
        os.write(write_end, b"\x1b")  # a lone Escape: a key once the parser's timeout is up
        deadline = time.monotonic() + 2
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [e.key for e in got if isinstance(e, events.Key)] == ["q", "escape"]
    finally:
        driver.exit_event.set()
        thread.join(1.0)
        os.close(read_end)
        os.close(write_end)
    assert not thread.is_alive()



async def test_the_terminal_writer_joins_a_loop_iteration_and_survives_a_closed_terminal():
    """One write per loop iteration; and where Textual's writer thread died at the first failed
    write (the app then hung on its full queue), this one notes the terminal is gone."""
    import asyncio
    import os

    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    writer = TerminalWriter(os.fdopen(write_end, "w"))
    for part in ("\x1b[?2026h", "\x1b[5;1Hlevel", "\x1b[?2026l"):  # one repaint, as _display writes it
        writer.write(part)
    with pytest.raises(BlockingIOError):
        os.read(read_end, 100)  # nothing yet: written once the loop comes round
    await asyncio.sleep(0)
    assert os.read(read_end, 100) == b"\x1b[?2026h\x1b[5;1Hlevel\x1b[?2026l"
    os.close(read_end)  # the terminal closes
    for _ in range(100):  # far more than Textual's queue of 30
        writer.write("paint")
        await asyncio.sleep(0)
    writer.stop()
    assert writer.gone
