"""Speakers: labels, PENDING, SpeakerRevision before and after its final, renames, journal replay."""

from __future__ import annotations

import json

from tui.core.stream import events as ev
from tui.core.stream import protocol as p
from tui.core.stream.assembly import TurnAssembler
from tui.core.stream.client import Connection, StreamingClient
from tui.core.stream.timeline import SessionClock
from tui.core.transcript.exports import render
from tui.core.transcript.journal import Journal, read_journal
from tui.core.transcript.model import FinalTurn, SessionInfo, TimedWord, Transcript
from tui.core.transcript.speakers import parse_rename, speaker_name, speaker_spans
from tui.headless import revision_json, turn_json


def final(order, text, label, word_labels=None, start=0):
    spec = text.split()
    labels = word_labels or [label] * len(spec)
    ws = [p.Word(start + i * 300, start + i * 300 + 200, t, 0.9, True, s) for i, (t, s) in enumerate(zip(spec, labels))]
    return p.Turn(order, True, True, text, ws, 1.0, text, speaker_label=label)


class Rec:
    def __init__(self):
        self.finals, self.n = [], 0
        self.asm = TurnAssembler(SessionClock(), False, self.next, lambda w: None, self.finals.append)

    def next(self):
        self.n += 1
        return self.n - 1


def test_pending_and_unknown_are_not_speakers():
    r = Rec()
    r.asm.feed(final(0, "Hi there.", "PENDING", ["PENDING", "UNKNOWN"]))
    assert r.finals[0].speaker is None and [w.speaker for w in r.finals[0].words] == [None, None]


def test_revision_after_its_final_reissues_the_turn():
    r = Rec()
    r.asm.feed(final(0, "Hello world.", "A"))
    r.asm.feed(final(1, "How are you?", "A", start=2000))
    rev = p.parse_server_message(json.dumps({"type": "SpeakerRevision", "revisions": [
        {"turn_order": 1, "speaker_label": "A", "words": []},
        {"turn_order": 1, "speaker_label": "B", "words": [
            {"text": w, "speaker": s, "start": 0, "end": 1} for w, s in (("How", "B"), ("are", "B"), ("you?", "A"))]},
    ]}))
    changed = r.asm.revise(rev.revisions)
    assert len(changed) == 1  # the last item for a turn wins, reported once
    turn = changed[0]
    assert (turn.index, turn.speaker, turn.text) == (1, "B", "How are you?")
    assert [w.speaker for w in turn.words] == ["B", "B", "A"]
    assert [w.start_ms for w in turn.words] == [w.start_ms for w in r.finals[1].words]  # times never change


def test_revision_before_its_final_is_kept_until_the_final():
    r = Rec()
    early = p.Revision(0, "B", [])
    assert r.asm.revise([early]) == []
    r.asm.feed(final(0, "Hello world.", "A"))
    assert r.finals[0].speaker == "B" and [w.speaker for w in r.finals[0].words] == [None, None]


def test_revision_of_a_turn_never_seen_is_harmless():
    r = Rec()
    r.asm.feed(final(0, "Hello.", "A"))
    assert r.asm.revise([p.Revision(9, "B", [])]) == []


def test_mid_turn_speaker_change_makes_spans():
    t = FinalTurn(0, 0, 900, "Yes. I agree.", [TimedWord("Yes.", 0, 200, 1, "A"), TimedWord("I", 300, 400, 1, "B"),
                                                TimedWord("agree.", 400, 900, 1, "B")], 0.0, "A")
    spans = speaker_spans(t)
    assert [(s.speaker, s.text) for s in spans] == [("A", "Yes."), ("B", "I agree.")]
    assert speaker_name("A", {"A": "Alice"}) == "Alice" and speaker_name("B", {}) == "B"
    assert speaker_name(None) is None


def test_parse_rename():
    assert parse_rename("A=Alice Smith") == ("A", "Alice Smith")
    for bad in ("A", "=Bob", "A="):
        try:
            parse_rename(bad)
        except ValueError as exc:
            assert "LABEL=NAME" in str(exc)
        else:
            raise AssertionError(bad)


def test_journal_replays_revisions_and_names(tmp_path):
    info = SessionInfo("abc123", 1_700_000_000.0, "url", "universal-3-6-pro", "talk.wav", "1")
    turns = [FinalTurn(i, i * 2000, i * 2000 + 900, text, [TimedWord(w, i * 2000, i * 2000 + 400) for w in text.split()],
                       1_700_000_001.0 + i, label) for i, (text, label) in enumerate((("Hello there.", "A"),
                                                                                         ("Hi.", "B"), ("Bye now.", "A")))]
    j = Journal.create(tmp_path, info)
    for t in turns:
        j.append(t)
    j.append_revision(turns[2].with_speakers("B", ["B", "A"]))
    j.append_name("B", "Bob")
    j.close()
    back = read_journal(j.path)
    assert [t.speaker for t in back.turns] == ["A", "B", "B"]
    assert [w.speaker for w in back.turns[2].words] == ["B", "A"]
    assert back.speaker_names == {"B": "Bob"}
    txt = render(back, "txt", timestamps=False)
    assert txt == "A: Hello there.\n\nBob: Hi.\n\nBye A: now.\n"  # a name only where it changes


def test_exports_prefix_names_only_when_the_speaker_changes():
    info = SessionInfo("x", 0.0, "url", "m", "in", "1")
    t = Transcript(info, [FinalTurn(i, i * 3000, i * 3000 + 900, text, [], 0.0, label)
                          for i, (text, label) in enumerate((("One.", "A"), ("Two.", "A"), ("Three.", "B")))])
    t.speaker_names["A"] = "Alice"
    assert render(t, "txt", timestamps=False) == "Alice: One.\n\nTwo.\n\nB: Three.\n"
    srt = render(t, "srt")
    assert "Alice: One." in srt and "\nTwo.\n" in srt and "B: Three." in srt
    doc = json.loads(render(t, "json"))
    assert doc["speakers"] == {"A": "Alice", "B": "B"}
    assert [(x["speaker"], x["speaker_name"]) for x in doc["turns"]] == [("A", "Alice"), ("A", "Alice"), ("B", "B")]


def test_jsonl_carries_speaker_and_revision_lines():
    t = FinalTurn(3, 0, 500, "Hi.", [TimedWord("Hi.", 0, 500, 1.0, "A")], 0.0, "A", "en", 0.98)
    line = json.loads(turn_json(t))
    assert line["speaker"] == "A" and line["words"][0]["speaker"] == "A"
    assert (line["language"], line["language_confidence"]) == ("en", 0.98)
    assert json.loads(turn_json(FinalTurn(0, 0, 1, "x", [], 0.0)))["speaker"] is None
    rev = json.loads(revision_json(t.with_speakers("B", None)))
    assert rev == {"type": "revision", "turn_order": 3, "speaker": "B", "words": [{"text": "Hi.", "speaker": None}]}


def test_client_warns_once_when_the_service_runs_another_model():
    seen = []
    client = StreamingClient(Connection("ws://127.0.0.1:9/v3/ws", {"speech_model": "universal-3-6-pro"}), seen.append)
    client._check_model("universal-3-6-pro")
    assert seen == []
    client._check_model("universal-3-5-pro")
    client._check_model("universal-3-5-pro")
    assert seen == [ev.Notice("warning", "the service runs universal-3-5-pro, not the requested universal-3-6-pro")]


class _Live:
    """The parts of an open session that _handle reads for these messages."""

    def __init__(self):
        self.clock = SessionClock()
        self.assembler = TurnAssembler(self.clock, False, lambda: 0, lambda w: None, lambda t: None)
        self.outcome = None


def handled(frame: str) -> list:
    seen = []
    client = StreamingClient(Connection("ws://127.0.0.1:9/v3/ws", {}), seen.append)
    assert client._handle(_Live(), p.parse_server_message(frame)) is False  # the session goes on
    return seen


def test_warning_is_a_notice_and_the_session_goes_on():
    assert handled('{"type":"Warning","warning":"slow audio","warning_code":1234}') == [
        ev.Notice("warning", "service warning: slow audio (1234)")]


def test_speech_started_and_heartbeat_reach_the_front_end():
    assert handled('{"type":"SpeechStarted","timestamp":4480,"confidence":0.950008}') == [ev.SpeechDetected(4480)]
    assert handled('{"type":"Heartbeat","total_audio_received_ms":45000,"total_duration_ms":45205,'
                   '"realtime_factor":0.9964,"max_speech_probability":0.999954}') == [ev.ServiceLoad(0.9964)]


def test_silence_llm_gateway_and_unknown_types_are_tolerated():
    for frame in ('{"type":"Silence","start_ms":10,"end_ms":900}',
                  '{"type":"LLMGatewayResponse","turn_order":0,"transcript":"Hi.","data":{}}',
                  '{"type":"BrandNew","x":1}'):
        assert handled(frame) == []
