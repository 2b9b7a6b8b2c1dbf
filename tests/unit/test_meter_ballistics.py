"""The meter's ballistics: it repaints once per frame of audio, and falls smoothly between."""

from pytest import approx

from tui.core.audio.levels import LevelSnapshot
from tui.widgets.meter import FALL_DB_PER_S, MeterBallistics


def snap(rms: float, peak: float, hold: float = -3.0) -> LevelSnapshot:
    return LevelSnapshot(rms, peak, hold, False, 0.0)


def test_rises_at_once_and_falls_no_faster_than_the_fall_rate():
    b = MeterBallistics()
    assert b.apply(snap(-40.0, -30.0), 10.0) == snap(-40.0, -30.0)
    assert b.apply(snap(-10.0, -5.0), 10.05) == snap(-10.0, -5.0)  # louder: at once
    shown = b.apply(snap(-50.0, -45.0), 10.10)  # 40 dB quieter one frame (50 ms) later
    step = FALL_DB_PER_S * 0.05
    assert (shown.rms_db, shown.peak_db) == (approx(-10.0 - step), approx(-5.0 - step))
    assert shown.hold_db == -3.0  # the hold marker keeps its own decay (LevelTracker's)
    at = 10.10
    frames = 0
    while shown.rms_db > -50.0:  # glides down, a frame at a time, to where the level is
        at += 0.05
        frames += 1
        previous = shown
        shown = b.apply(snap(-50.0, -45.0), at)
        assert previous.rms_db - shown.rms_db <= step + 1e-9
    assert abs(frames - (40.0 / step - 1)) <= 1 and shown == snap(-50.0, -45.0)


def test_no_levels_shows_none_and_starts_afresh():
    b = MeterBallistics()
    b.apply(snap(-10.0, -5.0), 1.0)
    assert b.apply(None, 1.05) is None
    assert b.apply(snap(-50.0, -45.0), 1.10) == snap(-50.0, -45.0)  # no fall from before
