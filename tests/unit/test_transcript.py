"""The transcript model and its dict forms."""

from __future__ import annotations

import json

from sample_transcripts import STARTED, info, sample_transcript

from tui.core.stream import events
from tui.core.transcript.model import (
    FinalTurn,
    Marker,
    TimedWord,
    Transcript,
    info_from_dict,
    info_to_dict,
    marker_from_dict,
    marker_to_dict,
    turn_from_dict,
    turn_to_dict,
)


def test_events_use_the_model_classes():
    assert events.FinalTurn is FinalTurn and events.Marker is Marker


def test_turns_and_markers_keep_arrival_order():
    t = sample_transcript()
    assert [x.index for x in t.turns] == [0, 1, 2, 3]
    assert [m.kind for m in t.markers] == ["pause", "reconnect"]
    kinds = ["T" if isinstance(e, FinalTurn) else "M" for e in t.entries]
    assert kinds == ["T", "T", "M", "T", "M", "T"]


def test_add_replaces_a_turn_with_the_same_index():
    t = Transcript(info())
    t.add(FinalTurn(0, 0, 900, "hello world", [], STARTED))
    t.add(Marker("gap", 1000, STARTED, 500))
    t.add(FinalTurn(0, 0, 950, "Hello, world.", [], STARTED + 1))
    assert [x.text for x in t.turns] == ["Hello, world."]
    assert len(t.entries) == 2 and isinstance(t.entries[0], FinalTurn)


def test_duration_covers_turns_markers_and_footer():
    t = Transcript(info())
    assert t.duration_ms() == 0
    t.add(FinalTurn(0, 100, 2_000, "a", [], STARTED))
    assert t.duration_ms() == 2_000
    t.add(Marker("pause", 2_500, STARTED, duration_ms=10_000))
    assert t.duration_ms() == 12_500
    t.footer = {"audio_duration_s": 20.25, "session_duration_s": 30.0, "turns": 1}
    assert t.duration_ms() == 20_250


def test_dict_round_trips_are_exact_and_json_safe():
    turn = FinalTurn(
        3, 1_000, 2_400, "Ünïcode “quotes” & <tags>", [TimedWord("Ünïcode", 1_000, 1_300, 0.91)],
        STARTED + 0.123456, speaker="B", language="de",
    )
    back = turn_from_dict(json.loads(json.dumps(turn_to_dict(turn))))
    assert back.index == turn.index and back.text == turn.text and back.words == turn.words
    assert (back.speaker, back.language) == ("B", "de")
    assert abs(back.wall_time - turn.wall_time) < 1e-5

    plain = turn_to_dict(FinalTurn(0, 0, 1, "x", [], STARTED))
    assert "speaker" not in plain and "language" not in plain

    marker = Marker("reconnect", 5_000, STARTED + 5, 0, "connection lost (1006)")
    m2 = marker_from_dict(json.loads(json.dumps(marker_to_dict(marker))))
    assert (m2.kind, m2.at_ms, m2.duration_ms, m2.detail) == ("reconnect", 5_000, 0, "connection lost (1006)")
    assert abs(m2.wall_time - marker.wall_time) < 1e-5

    i = info()
    assert info_from_dict(json.loads(json.dumps(info_to_dict(i)))) == i
