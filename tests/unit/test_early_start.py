"""EventRelay: a session's events before the screen is up, handed over in order."""

from tui.core.stream import events as ev
from tui.early_start import EventRelay


def test_events_wait_for_the_screen_then_flow_straight_through():
    relay = EventRelay()
    first, newest = ev.PartialTurn([ev.LiveWord("hel", 0.5, False)]), ev.PartialTurn([ev.LiveWord("hello", 0.9, False)])
    for event in (ev.StateChanged(ev.CONNECTING), ev.LevelsChanged(), first, ev.StateChanged(ev.LIVE),
                  ev.LevelsChanged(), newest, ev.Notice("warning", "w")):
        relay(event)
    got: list = []
    relay.attach(got.append)
    # in order; only the newest partial; level updates dropped (the next frame repaints the meter)
    assert got == [ev.StateChanged(ev.CONNECTING), ev.StateChanged(ev.LIVE), newest, ev.Notice("warning", "w")]
    relay(ev.LevelsChanged())
    relay(ev.Finished(0))
    assert got[-2:] == [ev.LevelsChanged(), ev.Finished(0)]
