"""The level meter repaints at most ui.meter_rate times a second (10 by default), and a loud
frame that came between two repaints still shows at the next one."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import numpy as np
from test_snapshots import frozen_app

from tui.core.audio.levels import LevelTracker, block_levels
from tui.widgets.meter import LevelMeter


def frame(amplitude: float) -> np.ndarray:
    """50 ms of a 1 kHz tone at 16 kHz, as the capture thread meters it."""
    t = np.arange(800) / 16000
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16).reshape(-1, 1)


def shown_rms(db: float) -> str:
    return f"{db:4.0f} dB  peak"


async def test_a_loud_frame_between_two_repaints_shows_at_the_next(tmp_path):
    app = frozen_app(tmp_path)
    async with app.run_test(size=(80, 24)):
        main = app.main
        tracker = LevelTracker()  # what the capture thread feeds, one block per frame
        main.session.source = SimpleNamespace(levels=tracker, stopped=False, name="tone",
                                              device_rate=16000, overflows=0, progress=None)
        meter = main.query_one(LevelMeter)
        quiet, loud = block_levels(frame(0.01))[0], block_levels(frame(0.5))[0]
        await asyncio.sleep(0.1)  # the screen painted its "waiting for audio" as it mounted

        tracker.update(frame(0.01))
        main._on_frame()  # the session's LevelsChanged, once per frame
        assert shown_rms(quiet) in meter.plain()
        tracker.update(frame(0.5))
        main._on_frame()  # 50 ms later in real life: within the 100 ms of a 10 Hz meter
        assert shown_rms(quiet) in meter.plain(), "repainted sooner than ui.meter_rate allows"
        await asyncio.sleep(0.1)
        tracker.update(frame(0.01))
        main._on_frame()
        assert shown_rms(loud) in meter.plain(), "the loud frame between two repaints was lost"
