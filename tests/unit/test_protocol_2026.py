"""Every literal frame of the 2026 addendum (shared/docs/assemblyai-v3-protocol-2026.md) parses."""

from __future__ import annotations

import json

import pytest

from tui.core.stream import protocol as p

BEGIN = ('{"type":"Begin","id":"abc","expires_at":1781207829,"configuration":'
         '{"model":"u3-rt-pro","mode":"balanced","api_version":"2025-05-12"}}')
BEGIN_3P = ('{"type":"Begin","id":"abc","expires_at":1781207829,"configuration":{"model":"universal-3-5-pro",'
            '"mode":"balanced","api_version":"2025-05-12","speaker_labels":true,"redact_pii":false,'
            '"filter_profanity":false,"domain":null,"voice_focus":null}}')
TURN_SPEAKERS = ('{"type":"Turn","turn_order":1,"turn_is_formatted":true,"end_of_turn":true,"transcript":"Hello world",'
                 '"end_of_turn_confidence":0.85,"words":[{"start":0,"end":100,"confidence":0.9,"text":"Hello",'
                 '"word_is_final":true,"speaker":"A"},{"start":110,"end":200,"confidence":0.9,"text":"world",'
                 '"word_is_final":true,"speaker":"B"}],"speaker_label":"A"}')
PRO_PARTIAL = ('{"turn_order":0,"turn_is_formatted":true,"end_of_turn":false,"transcript":"Paris at a moment",'
               '"end_of_turn_confidence":0.0,"words":[{"start":0,"end":273,"text":"Paris","confidence":0.995975,'
               '"word_is_final":false}],"utterance":"","type":"Turn"}')
REVISION = ('{"type":"SpeakerRevision","revisions":[{"turn_order":3,"speaker_label":"B","words":[{"start":1000,'
            '"end":1200,"confidence":0.9,"text":"hello","word_is_final":true,"speaker":"B"},{"start":1210,"end":1400,'
            '"confidence":0.88,"text":"world","word_is_final":true,"speaker":"A"}]},'
            '{"turn_order":7,"speaker_label":"A","words":[]}]}')
HEARTBEAT = ('{"type":"Heartbeat","total_audio_received_ms":45000,"total_duration_ms":45205,'
             '"realtime_factor":0.9964,"max_speech_probability":0.999954}')
LLM = ('{"type":"LLMGatewayResponse","turn_order":0,"transcript":"Hello world.","data":{"request_id":'
       '"3c90c3cc-0d44-4b50-8888-8dd25736052a","choices":[{"index":0,"message":{"role":"assistant","content":'
       '"Hello! How can I help?"},"finish_reason":"stop"}],"usage":{"input_tokens":12,"output_tokens":8,'
       '"total_tokens":20},"response_time":123456789}}')


def test_begin_configuration():
    for frame, model in ((BEGIN, "u3-rt-pro"), (BEGIN_3P, "universal-3-5-pro")):
        msg = p.parse_server_message(frame)
        assert isinstance(msg, p.Begin) and msg.configuration["model"] == model
    assert p.parse_server_message(BEGIN_3P).configuration["speaker_labels"] is True


def test_turn_with_word_speakers():
    msg = p.parse_server_message(TURN_SPEAKERS)
    assert isinstance(msg, p.Turn) and msg.speaker_label == "A"
    assert [(w.text, w.speaker) for w in msg.words] == [("Hello", "A"), ("world", "B")]
    assert json.loads(p.to_json(msg))["words"][1]["speaker"] == "B"  # the server sends it back out


def test_pro_partial():
    msg = p.parse_server_message(PRO_PARTIAL)
    assert isinstance(msg, p.Turn) and not msg.end_of_turn and msg.turn_is_formatted
    assert msg.transcript == "Paris at a moment" and not msg.words[0].word_is_final
    assert msg.words[0].speaker is None and msg.speaker_label is None


def test_speaker_revision():
    msg = p.parse_server_message(REVISION)
    assert isinstance(msg, p.SpeakerRevision)
    first, second = msg.revisions
    assert (first.turn_order, first.speaker_label, [w.speaker for w in first.words]) == (3, "B", ["B", "A"])
    assert (second.turn_order, second.speaker_label, second.words) == (7, "A", [])
    assert p.parse_server_message(p.to_json(msg)) == msg


def test_revision_with_null_label_and_spec_words():
    frame = ('{"type":"SpeakerRevision","revisions":[{"turn_order":0,"speaker_label":null,'
             '"words":[{"text":"hi","speaker":"A","start":0,"end":90}]}]}')
    msg = p.parse_server_message(frame)
    assert msg.revisions[0].speaker_label is None and msg.revisions[0].words[0].speaker == "A"


@pytest.mark.parametrize("frame,expected", [
    ('{"type":"SpeechStarted","timestamp":1280}', p.SpeechStarted(1280, 0.0)),
    ('{"type":"SpeechStarted","timestamp":4480,"confidence":0.950008}', p.SpeechStarted(4480, 0.950008)),
    (HEARTBEAT, p.Heartbeat(45000, 45205, 0.9964, 0.999954)),
    ('{"type":"Warning","warning":"slow audio","warning_code":1234}', p.Warning(1234, "slow audio")),
    ('{"type":"Termination","audio_duration_seconds":12,"session_duration_seconds":13}', p.Termination(12, 13)),
    ('{"type":"Error","error_code":3008,"error":"Session Expired: Maximum session duration exceeded"}',
     p.ServerError(3008, "Session Expired: Maximum session duration exceeded")),
])
def test_small_messages(frame, expected):
    assert p.parse_server_message(frame) == expected


@pytest.mark.parametrize("frame,kind", [(LLM, "LLMGatewayResponse"),
                                        ('{"type":"Silence","start_ms":10,"end_ms":980}', "Silence")])
def test_tolerated_messages(frame, kind):
    msg = p.parse_server_message(frame)
    assert isinstance(msg, p.Other) and msg.type == kind


def test_pending_and_unknown_are_not_speakers():
    assert p.known_speaker("A") == "A"
    assert p.known_speaker("PENDING") is None and p.known_speaker("UNKNOWN") is None and p.known_speaker(None) is None


def test_model_ids_and_families():
    assert p.is_model_id("universal-3-6-pro") and p.is_model_id("assemblyai-stt-3-7-realtime")
    assert p.is_model_id("u3.9") and not p.is_model_id("no spaces allowed") and not p.is_model_id("")
    assert not p.is_pro_model("universal-streaming-english") and not p.is_pro_model("whisper-rt")
    for pro in ("universal-3-5-pro", "universal-3-6-pro", "u3-rt-pro", "assemblyai-stt-3-7-realtime-agent"):
        assert p.is_pro_model(pro), pro


@pytest.mark.parametrize("code,reason,words", [
    (1009, "", "128 KB"),
    (1011, "", "internal error"),
    (3006, "Session Cancelled: Inactivity timeout exceeded", "inactivity"),
    (3006, "Invalid Message Type: Foo", "rejected a parameter"),
])
def test_close_codes(code, reason, words):
    assert words in p.describe_close(code, reason)
