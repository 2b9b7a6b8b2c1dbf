"""URL building, message parsing and error texts (reference sections 1, 3, 5)."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tui.core.stream import protocol as p


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_url_sends_speech_model_booleans_and_keyterms_as_one_json_array():
    url = p.build_url("wss://streaming.assemblyai.com/v3/ws", {
        "sample_rate": 16000, "speech_model": "universal-streaming-english", "format_turns": True,
        "keyterms_prompt": ["AssemblyAI", "Dr. Smith"], "inactivity_timeout": None,
    })
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("wss", "streaming.assemblyai.com", "/v3/ws")
    q = query(url)
    assert q["speech_model"] == ["universal-streaming-english"]
    assert q["format_turns"] == ["true"]
    assert q["sample_rate"] == ["16000"]
    assert len(q["keyterms_prompt"]) == 1
    assert json.loads(q["keyterms_prompt"][0]) == ["AssemblyAI", "Dr. Smith"]
    assert "inactivity_timeout" not in q


def test_url_for_bare_host_gets_v3_path():
    assert urlsplit(p.build_url("ws://127.0.0.1:9", {})).path == "/v3/ws"


@pytest.mark.parametrize("region,host", [("auto", "streaming.assemblyai.com"),
                                         ("us", "streaming.us.assemblyai.com"),
                                         ("eu", "streaming.eu.assemblyai.com")])
def test_region_hosts(region, host):
    assert p.cloud_url(region) == f"wss://{host}/v3/ws"


def test_token_url_uses_same_host_over_http_scheme():
    url = p.token_url("wss://streaming.eu.assemblyai.com/v3/ws", 60, 600)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "streaming.eu.assemblyai.com", "/v3/token")
    assert query(url) == {"expires_in_seconds": ["60"], "max_session_duration_seconds": ["600"]}
    assert urlsplit(p.token_url("ws://127.0.0.1:5/v3/ws", 5)).scheme == "http"


def test_redact_url_drops_token():
    assert p.redact_url("ws://h:1/v3/ws?token=SECRET&sample_rate=16000") == "ws://h:1/v3/ws"


def test_parse_begin_with_configuration():
    m = p.parse_server_message('{"type":"Begin","id":"aa","expires_at":1789752682,'
                               '"configuration":{"model":"universal-streaming-english"}}')
    assert m == p.Begin("aa", 1789752682, {"model": "universal-streaming-english"})


def test_parse_partial_turn_with_empty_transcript_and_nonfinal_word():
    m = p.parse_server_message(
        '{"turn_order":0,"turn_is_formatted":false,"end_of_turn":false,"transcript":"",'
        '"end_of_turn_confidence":0.017454,"words":[{"start":1920,"end":2000,"text":"hi",'
        '"confidence":0.874618,"word_is_final":false}],"utterance":"","type":"Turn"}')
    assert isinstance(m, p.Turn)
    assert m.transcript == "" and not m.end_of_turn
    assert m.words == [p.Word(1920, 2000, "hi", 0.874618, False)]


def test_turn_round_trips_with_wire_key_order():
    t = p.Turn(3, True, True, "Hi, Sonny.", [p.Word(1, 2, "Hi,", 0.9, True)], 0.5, "",
               language_code="en", speaker_label="A")
    d = t.to_dict()
    assert list(d)[-1] == "type"
    assert list(d["words"][0]) == ["start", "end", "text", "confidence", "word_is_final"]
    assert p.parse_server_message(p.to_json(t)) == t


def test_parse_termination_and_both_error_shapes():
    assert p.parse_server_message('{"type":"Termination","audio_duration_seconds":4,'
                                  '"session_duration_seconds":7}') == p.Termination(4, 7)
    assert p.parse_server_message('{"type":"Error","error_code":3008,"error":"Session Expired"}') \
        == p.ServerError(3008, "Session Expired")
    assert p.parse_server_message('{"error":"Invalid API key"}') == p.ServerError(None, "Invalid API key")


def test_parse_optional_messages_and_unknown_types():
    assert p.parse_server_message('{"type":"SpeechStarted","timestamp":1200,"confidence":0.9}') \
        == p.SpeechStarted(1200, 0.9)
    assert p.parse_server_message('{"type":"Warning","warning_code":1,"warning":"slow"}') \
        == p.Warning(1, "slow")
    m = p.parse_server_message('{"type":"Heartbeat","total_audio_received_ms":5}')
    assert m == p.Heartbeat(5, 0, 0.0, 0.0)


@pytest.mark.parametrize("frame,why", [
    (b"\x00\x01", "binary"),
    ("not json", "invalid JSON"),
    ("[1,2]", "not a JSON object"),
    ('{"no":"type"}', "no message type"),
    ('{"type":"Turn","turn_order":"x"}', "turn_order"),
    ('{"type":"Turn","turn_order":0,"words":{}}', "words"),
    ('{"type":"Turn","turn_order":0,"words":[{"start":"a"}]}', "start"),
    ('{"type":"Begin","id":5,"expires_at":1}', "id"),
    ('{"type":"Termination","audio_duration_seconds":true}', "audio_duration_seconds"),
    ("x" * (p.MAX_MESSAGE_BYTES + 1), "too large"),
])
def test_malformed_frames_never_raise(frame, why):
    m = p.parse_server_message(frame)
    assert isinstance(m, p.Malformed) and why in m.reason


def test_client_control_messages():
    assert json.loads(p.TERMINATE) == {"type": "Terminate"}
    assert json.loads(p.FORCE_ENDPOINT) == {"type": "ForceEndpoint"}
    assert json.loads(p.KEEP_ALIVE) == {"type": "KeepAlive"}
    assert json.loads(p.update_configuration(max_turn_silence=900, keyterms_prompt=["a"])) == {
        "type": "UpdateConfiguration", "max_turn_silence": 900, "keyterms_prompt": ["a"]}
    with pytest.raises(ValueError, match="sample_rate"):
        p.update_configuration(sample_rate=8000)


@pytest.mark.parametrize("code,words", [
    (1008, "ASSEMBLYAI_API_KEY"), (3006, "parameter"), (3007, "audio chunk"),
    (3008, "maximum duration"), (3005, "cancelled"), (3009, "concurrent"), (1006, "without a close"),
])
def test_close_codes_have_advice(code, words):
    assert words in p.describe_close(code, "x")


def test_describe_close_hides_the_generic_reason():
    assert "See Error" not in p.describe_close(1008, p.CLOSE_REASON_LONG)


def test_normalize_text():
    assert p.normalize_text("Hi, my name is Sonny. It's 5 o'clock — ok?") == "hi my name is sonny it's 5 o'clock ok"


def test_loopback_hosts():
    assert p.is_loopback_host("127.0.0.1") and p.is_loopback_host("localhost") and p.is_loopback_host("[::1]")
    assert not p.is_loopback_host("10.0.0.1") and not p.is_loopback_host("example.com")


@pytest.mark.parametrize("frame", [
    '{"type":"Silence","start_ms":100,"end_ms":900}',
    '{"type":"LLMGatewayResponse","turn_order":0,"transcript":"x","data":{}}',
    '{"type":"SomethingNew2027","x":1}',
])
def test_optional_message_types_are_tolerated(frame):
    m = p.parse_server_message(frame)
    assert isinstance(m, p.Other) and m.type == p.json.loads(frame)["type"]
