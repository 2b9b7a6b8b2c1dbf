"""Mouse selection in the scrollback: drag selects, a double-click selects a turn, c copies it."""

from __future__ import annotations

from apphelpers import TURNS, options_for, scripted_server, settings_for, wait_for

from tui.app import CaptionerApp

SIZE = (80, 24)
PAD = 1  # the log's left padding (captioner.tcss)


def lines(log) -> list[str]:
    return [line.plain for row in log.rows for line in row.lines]


async def finished_app(pilot, app):
    main = app.main
    await wait_for(pilot, lambda: main.exit_code is not None, what="the input to end")
    assert [e.text for e in main.log_view.entries] == TURNS
    return main


async def test_drag_double_and_triple_click_select_and_c_copies(tmp_path):
    async with scripted_server() as server:
        app = CaptionerApp(settings_for(tmp_path, server.url), options_for(tmp_path, seconds=8, speed=4))
        async with app.run_test(size=SIZE) as pilot:
            main = await finished_app(pilot, app)
            log = main.log_view
            shown = lines(log)
            stamp = len("00:00:00 ")

            # drag across the first two lines, from the first word of turn 1 into turn 2
            await pilot.mouse_down(log, offset=(PAD + stamp, 0))
            await pilot.hover(log, offset=(PAD + stamp + 10, 1))
            await pilot.mouse_up(log, offset=(PAD + stamp + 10, 1))
            expected = shown[0][stamp:] + "\n" + shown[1][:stamp + 11]
            assert main.get_selected_text() == expected
            await pilot.press("c")
            assert app.clipboard == expected

            # a double-click selects the whole turn under the pointer (it crashed the app)
            await pilot.double_click(log, offset=(PAD + 12, 1))
            assert main.get_selected_text() == shown[1]
            assert TURNS[1] in shown[1]
            await pilot.press("c")
            assert app.clipboard == shown[1]

            # a triple-click selects everything on the screen's log
            await pilot.triple_click(log, offset=(PAD + 3, 2))
            assert all(line in main.get_selected_text() for line in shown)

            # a click elsewhere clears it; c copies the last turn again
            await pilot.click(log, offset=(PAD + 3, 10))
            assert not main.get_selected_text()
            await pilot.press("c")
            assert app.clipboard == TURNS[-1]
            assert app.is_running
            await pilot.press("q")
        assert app.return_code == 0


async def test_a_double_click_below_the_last_turn_selects_nothing(tmp_path):
    async with scripted_server() as server:
        app = CaptionerApp(settings_for(tmp_path, server.url), options_for(tmp_path, seconds=8, speed=4))
        async with app.run_test(size=SIZE) as pilot:
            main = await finished_app(pilot, app)
            await pilot.double_click(main.log_view, offset=(PAD + 3, 12))
            assert not main.get_selected_text()
            assert app.is_running
            await pilot.press("q")
        assert app.return_code == 0
