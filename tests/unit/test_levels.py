import numpy as np
import pytest

from tui.core.audio.levels import (
    CLIP_DB,
    DECAY_DB_PER_S,
    FLOOR_DB,
    HOLD_S,
    MIN_DB,
    LevelTracker,
    block_levels,
)

RATE = 16000


def sine(amplitude: float, freq: float = 1000.0, seconds: float = 0.1) -> np.ndarray:
    # 16 samples a period, so samples land on the crest and the block holds whole periods
    t = np.arange(int(RATE * seconds)) / RATE
    return amplitude * np.sin(2 * np.pi * freq * t)


def test_full_scale_sine_float():
    rms, peak = block_levels(sine(1.0).astype(np.float32))
    assert rms == pytest.approx(-3.01, abs=0.01)
    assert peak == pytest.approx(0.0, abs=0.01)


def test_full_scale_sine_int16():
    rms, peak = block_levels(np.round(sine(32767)).astype(np.int16))
    assert rms == pytest.approx(-3.01, abs=0.01)
    assert peak == pytest.approx(0.0, abs=0.01)


def test_half_scale_is_six_db_down_and_channels_count():
    x = sine(0.5).astype(np.float32)
    rms, peak = block_levels(np.stack([x, x], axis=1))
    assert rms == pytest.approx(-3.01 - 6.02, abs=0.02)
    assert peak == pytest.approx(-6.02, abs=0.02)


def test_silence_is_the_floor():
    assert block_levels(np.zeros(800, np.int16)) == (MIN_DB, MIN_DB)
    assert block_levels(np.zeros(0, np.float32)) == (MIN_DB, MIN_DB)
    meter = LevelTracker()
    meter.update(np.zeros(800, np.int16), now=10.0)
    snap = meter.snapshot(now=10.0)
    assert (snap.rms_db, snap.peak_db, snap.hold_db) == (FLOOR_DB, FLOOR_DB, FLOOR_DB)
    assert not snap.clipping


def test_silent_for_counts_digital_silence_and_resets_on_sound():
    meter = LevelTracker()
    assert meter.snapshot(now=0.0).silent_for_s == 0.0  # nothing seen yet
    meter.update(np.zeros(800, np.int16), now=1.0)
    meter.update(np.zeros(800, np.int16), now=2.0)
    assert meter.snapshot(now=3.5).silent_for_s == pytest.approx(2.5)
    meter.update(np.array([0, 1, -1], np.int16), now=3.8)  # 1 LSB (-90.3 dBFS): still dead
    assert meter.snapshot(now=3.8).silent_for_s == pytest.approx(2.8)
    meter.update(np.array([0, 3, 0], np.int16), now=4.0)  # -80.8 dBFS: a live input
    assert meter.snapshot(now=4.0).silent_for_s == 0.0
    meter.update(np.zeros(800, np.int16), now=5.0)
    assert meter.snapshot(now=5.25).silent_for_s == pytest.approx(0.25)


def test_clipping_detected_and_held():
    meter = LevelTracker()
    meter.update(sine(10 ** (-3 / 20)), now=0.0)
    assert not meter.snapshot(now=0.0).clipping
    meter.update(sine(10 ** (CLIP_DB / 20) * 1.001), now=1.0)
    assert meter.snapshot(now=1.0).clipping
    meter.update(sine(0.01), now=1.1)  # quiet again, the warning stays a moment
    assert meter.snapshot(now=1.1).clipping
    assert not meter.snapshot(now=1.0 + HOLD_S + 0.01).clipping


def test_peak_hold_then_decay():
    meter = LevelTracker()
    meter.update(sine(0.5), now=0.0)  # -6.02 dB
    meter.update(sine(0.01), now=0.5)  # -40 dB, lower: the hold stays
    snap = meter.snapshot(now=1.0)
    assert snap.peak_db == pytest.approx(-40, abs=0.1)
    assert snap.hold_db == pytest.approx(-6.02, abs=0.02)
    late = 0.5
    assert meter.snapshot(now=HOLD_S + late).hold_db == pytest.approx(
        -6.02 - DECAY_DB_PER_S * late, abs=0.02
    )
    assert meter.snapshot(now=HOLD_S + 10).hold_db == FLOOR_DB


def test_louder_peak_takes_over_the_hold_at_once():
    meter = LevelTracker()
    meter.update(sine(0.1), now=0.0)  # -20 dB
    meter.update(sine(0.5), now=0.2)  # -6 dB
    assert meter.snapshot(now=0.3).hold_db == pytest.approx(-6.02, abs=0.02)
    # after the hold has decayed below a new, quieter peak, that peak is held instead
    meter.update(sine(0.05), now=0.2 + HOLD_S + 1.0)  # hold decayed to -26 dB; new -26.02 dB
    assert meter.snapshot(now=0.2 + HOLD_S + 1.0).hold_db == pytest.approx(-26.02, abs=0.05)


def test_a_disabled_tracker_ignores_blocks():
    meter = LevelTracker()
    meter.enabled = False  # nothing shows the levels (a headless run)
    meter.update(sine(0.5), now=1.0)
    shown = meter.snapshot(now=1.0)
    assert (shown.rms_db, shown.peak_db, shown.hold_db) == (FLOOR_DB, FLOOR_DB, FLOOR_DB)


def test_a_reader_slower_than_the_blocks_sees_the_loudest_since_its_last_look():
    meter = LevelTracker()
    meter.update(sine(0.01), now=1.00)
    meter.update(sine(0.5), now=1.05)  # loud, between two looks of a 10 Hz meter
    meter.update(sine(0.01), now=1.10)
    loudest = meter.snapshot(now=1.10, since=1.00)
    assert loudest.rms_db == pytest.approx(block_levels(sine(0.5))[0])
    assert loudest.peak_db == pytest.approx(block_levels(sine(0.5))[1])
    latest = meter.snapshot(now=1.10)  # no `since`: the latest block, as before
    assert latest.rms_db == pytest.approx(block_levels(sine(0.01))[0])
    assert meter.snapshot(now=1.10, since=1.05).rms_db == pytest.approx(latest.rms_db)  # that one was seen


def test_only_recent_blocks_are_kept_for_a_slow_reader():
    meter = LevelTracker()
    meter.update(sine(0.5), now=0.0)
    for i in range(1, 30):  # 1.45 s of quiet 50 ms frames after one loud one
        meter.update(sine(0.01), now=i * 0.05)
    assert meter.snapshot(now=1.5, since=-1.0).rms_db == pytest.approx(block_levels(sine(0.01))[0])
