"""The deterministic scripted recognizer and the engine factory."""

from __future__ import annotations

import json

import pytest

from tui.server.engines import ENGINE_NAMES, create_engine
from tui.server.scripted import (
    ScriptedEngine,
    load_script,
    make_script,
    script_duration_ms,
    validate_script,
)

RATE = 16000
SCRIPT = {
    "turns": [
        {"words": [["Hello,", 200, 480], ["world.", 560, 900]]},
        {"words": [["Second", 2000, 2300], ["turn", 2400, 2700], ["here.", 2800, 3000]]},
    ]
}


def ms(n: int) -> bytes:
    return b"\0" * (RATE * n // 1000 * 2)


def feed(rec, total_ms: int, step: int = 100):
    """Feed audio in steps; return the hypotheses that came back (None dropped)."""
    out = []
    for _ in range(total_ms // step):
        h = rec.accept(ms(step))
        if h is not None:
            out.append(h)
    return out


def test_make_script_lays_words_out_on_a_timeline():
    s = make_script(["Hi there.", "Bye."], lead_ms=100, word_ms=200, gap_ms=50, pause_ms=1000)
    assert s["turns"][0]["words"] == [["Hi", 100, 300], ["there.", 350, 550]]
    assert s["turns"][1]["words"] == [["Bye.", 1550, 1750]]
    assert script_duration_ms(s) == 2750
    assert s["repeat"] is False


def test_duration_without_duration_ms_adds_a_pause():
    assert script_duration_ms(SCRIPT) == 3000 + 1500


def test_words_are_released_at_start_and_stable_after_end():
    rec = ScriptedEngine(SCRIPT).new_recognizer(RATE)
    assert rec.accept(ms(200)) is None  # audio time 200 has not passed the start
    h = rec.accept(ms(100))  # 300
    assert [w.text for w in h.words] == ["Hello,"] and h.stable == 0 and h.speech_end_ms is None
    h = feed(rec, 300)[-1]  # 600: "world." started, "Hello," ended at 480 (+80 = 560)
    assert [w.text for w in h.words] == ["Hello,", "world."]
    assert h.stable == 1 and h.speech_end_ms is None and h.eot_confidence is None
    h = feed(rec, 300)[-1]  # 900: the last word has ended
    assert h.speech_end_ms == 900 and h.stable == 1
    h = feed(rec, 100)[-1]  # 1000: stable too
    assert h.stable == 2 and (h.words[1].start, h.words[1].end) == (560, 900)
    assert rec.accept(ms(100)) is None  # nothing changed


def test_finalize_returns_released_words_and_drops_the_tail():
    rec = ScriptedEngine(SCRIPT).new_recognizer(RATE)
    feed(rec, 300)
    assert [w.text for w in rec.finalize()] == ["Hello,"]
    assert rec.finalize() == []
    hyps = feed(rec, 2800)  # to 3100: "world." was dropped with its turn
    texts = [w.text for w in hyps[-1].words]
    assert texts == ["Second", "turn", "here."]
    assert [w.text for w in rec.finalize()] == texts


def test_next_turn_words_join_an_open_turn():
    rec = ScriptedEngine(SCRIPT).new_recognizer(RATE)
    hyps = feed(rec, 2500)  # no finalize: the recognizer does not decide turns
    assert [w.text for w in hyps[-1].words] == ["Hello,", "world.", "Second", "turn"]


def test_script_ends_without_repeat_and_loops_with_it():
    once = ScriptedEngine(SCRIPT).new_recognizer(RATE)
    feed(once, 3200)
    once.finalize()
    assert feed(once, 5000) == []
    looped = ScriptedEngine(SCRIPT, repeat=True).new_recognizer(RATE)
    feed(looped, 3200)
    looped.finalize()
    hyps = feed(looped, 1600)  # to 4800: second pass starts at 4500 + 200
    assert [(w.text, w.start, w.end) for w in hyps[-1].words] == [("Hello,", 4700, 4980)]


def test_other_sample_rates_count_the_same_time():
    rec = ScriptedEngine(SCRIPT).new_recognizer(8000)
    assert rec.sample_rate == 8000
    assert rec.accept(b"\0" * (8000 * 2 * 3 // 10)) is not None  # 300 ms at 8 kHz


def test_builtin_script_repeats_so_serve_works_out_of_the_box():
    engine = create_engine("scripted")
    assert engine.repeat and engine.name == "scripted"
    rec = engine.new_recognizer(RATE)
    total = script_duration_ms(engine.script)
    words = 0
    for _ in range(2):
        hyps = feed(rec, total, step=500)
        words += len(hyps[-1].words) if hyps else 0
        rec.finalize()
    assert words > 0
    assert feed(rec, total)  # the third pass still speaks


def test_load_script_from_a_file(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SCRIPT))
    engine = create_engine("scripted", {"script": str(path), "repeat": True})
    assert engine.script == SCRIPT and engine.repeat


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"turns": "x"},
        {"turns": [{"words": [["Hi", 200]]}]},
        {"turns": [{"words": [["Hi", 300, 200]]}]},
        {"turns": [{"words": [["Hi", 100, 200], ["there", 150, 300]]}]},
        {"turns": [{"words": [[1, 100, 200]]}]},
        {"turns": [{"words": [["Hi", 100, 200]]}], "duration_ms": 150},
    ],
)
def test_bad_scripts_are_rejected(bad):
    with pytest.raises(ValueError):
        validate_script(bad)


def test_load_script_defaults_to_builtin():
    assert load_script(None)["repeat"] is True


def test_engine_factory_names():
    assert set(ENGINE_NAMES) == {"scripted", "moonshine"}
    with pytest.raises(ValueError, match="unknown engine"):
        create_engine("nope")
