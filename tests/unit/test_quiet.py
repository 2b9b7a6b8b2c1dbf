"""The rollover's pause detector: how long the input has been below speech level."""

from __future__ import annotations

import numpy as np
import pytest

from tui.core.audio.levels import block_levels
from tui.core.stream.rollover import QUIET_DB, QuietTracker


def frame(dbfs: float, ms: int = 50) -> bytes:
    """A 1 kHz sine at this RMS level, s16le at 16 kHz."""
    t = np.arange(16 * ms) / 16000
    amplitude = 32768 * 10 ** (dbfs / 20) * np.sqrt(2)
    return np.round(amplitude * np.sin(2 * np.pi * 1000 * t)).astype("<i2").tobytes()


@pytest.mark.parametrize("dbfs, loud", [(QUIET_DB - 1, False), (QUIET_DB + 1, True), (-10, True),
                                        (-120, False)])
def test_speech_level_frames_end_the_quiet(dbfs, loud):
    quiet = QuietTracker(32.0)
    quiet.add(frame(-20), 0.0)
    pcm = frame(dbfs) if dbfs > -100 else bytes(1600)
    assert (block_levels(np.frombuffer(pcm, "<i2"))[0] >= QUIET_DB) == loud  # the fixture is right
    for i in range(1, 7):
        quiet.add(pcm, i * 50.0)
    assert quiet.quiet_ms == (0.0 if loud else 300.0)


def test_an_odd_byte_and_an_empty_frame_count_as_time_not_as_sound():
    quiet = QuietTracker(32.0)
    quiet.add(frame(-20) + b"\x01", 0.0)
    quiet.add(b"", 50.0)
    quiet.add(bytes(1600), 50.0)
    assert quiet.quiet_ms == pytest.approx(50.0 - 1 / 32.0)  # the loud frame ended 1/32 ms late


def test_measured_when_asked_newest_first():
    quiet = QuietTracker(32.0)
    for i in range(10):
        quiet.add(frame(-20 if i in (2, 6) else -60), i * 50.0)
    assert quiet.quiet_ms == 150.0  # frames 7-9 after the loud frame 6
    quiet.add(frame(-60), 500.0)
    assert quiet.quiet_ms == 200.0
    quiet.add(frame(-20), 550.0)
    assert quiet.quiet_ms == 0.0


def test_a_frame_never_measured_counts_as_loud():
    """Frames unasked-about for longer than RECENT are taken as speech: quiet is never overstated."""
    quiet = QuietTracker(32.0)
    n = QuietTracker.RECENT + 5
    for i in range(n):
        quiet.add(frame(-60), i * 50.0)
    assert quiet.quiet_ms == QuietTracker.RECENT * 50.0
