"""ErrorGuard: one toast per error (again after a while), a burst or a fatal error ends the app."""

from __future__ import annotations

from tui.ui_errors import BURST, BURST_S, TOAST_EVERY_S, ErrorGuard


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def guard():
    toasts, aborts, clock = [], [], Clock()
    return ErrorGuard(toasts.append, aborts.append, clock), toasts, aborts, clock


def test_the_same_error_is_shown_once_then_again_after_a_while():
    g, toasts, aborts, clock = guard()
    for _ in range(3):
        g.handle(KeyError("x"), "here")
    g.handle(ValueError("bad\nsecond line"), "there")
    assert [t.split(".")[0] for t in toasts] == ["KeyError: 'x'", "ValueError: bad"]
    clock.now += TOAST_EVERY_S
    g.handle(KeyError("x"), "here")
    assert len(toasts) == 3 and aborts == [] and g.count == 5


def test_a_burst_ends_the_app_once_and_spread_out_errors_do_not():
    g, toasts, aborts, clock = guard()
    for _ in range(BURST * 2):
        g.handle(RuntimeError("slow"), "timer")
        clock.now += BURST_S / BURST * 1.1
    assert aborts == []
    for _ in range(BURST * 2):
        g.handle(RuntimeError("fast"), "timer")
    assert len(aborts) == 1 and aborts[0].startswith(f"internal error: RuntimeError: fast ({BURST} in ")
    assert "\n" not in aborts[0]


def test_a_fatal_error_ends_the_app_at_once():
    g, toasts, aborts, clock = guard()
    g.handle(TypeError("no compose"), "MainScreen handling Compose", fatal=True)
    assert len(aborts) == 1 and aborts[0].startswith("internal error: TypeError: no compose (details in")
    assert toasts == []


def test_an_error_while_reporting_one_is_only_logged():
    toasts, aborts = [], []

    def failing_toast(text):
        toasts.append(text)
        g.handle(RuntimeError("in the toast"), "toast")

    g = ErrorGuard(failing_toast, aborts.append, Clock())
    g.handle(RuntimeError("first"), "widget")
    assert len(toasts) == 1 and g.count == 2 and aborts == []


def test_a_worker_that_finds_its_closed_dialog_gone_is_not_an_error():
    from textual.css.query import NoMatches
    from textual.worker import WorkerFailed

    from tui.ui_errors import closed_screen_race

    assert closed_screen_race(WorkerFailed(NoMatches("No nodes match 'CommandList'")))
    assert not closed_screen_race(WorkerFailed(KeyError("x")))
    assert not closed_screen_race(NoMatches("in a handler"))
