"""The local v3 server over real websockets on 127.0.0.1 (protocol reference 3, 4, 5, 9.2)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

import numpy as np
import pytest
import soundfile as sf
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from v3client import (
    chunk,
    expect_error,
    http_get,
    open_session,
    read_until,
    read_until_closed,
    recv,
    send_audio,
    turns,
)
from tui.core.stream.protocol import TERMINATE, token_url
from tui.server.client_audio import MULAW_TABLE, ClientAudio
from tui.server.faults import Faults
from tui.server.recognizer import Engine
from tui.server.scripted import ScriptedRecognizer, make_script
from tui.server.server import LocalServer, ServerConfig
from tui.server.wer import wer
import paths

# Turn 0: "Hello," 100-300, "world." 350-550. Turn 1: "How" 2050-2250 ... "you?" 2550-2750.
SCRIPT = make_script(["Hello, world.", "How are you?"], lead_ms=100, word_ms=200, gap_ms=50)
KEY = "test-key-123"


def config(**kw) -> ServerConfig:
    return ServerConfig(engine_options={"script": SCRIPT}, **kw)


@pytest.fixture
async def server():
    async with LocalServer(config()) as srv:
        yield srv


@pytest.fixture
async def keyed():
    async with LocalServer(config(api_key=KEY)) as srv:
        yield srv


def is_final(m: dict) -> bool:
    return m.get("type") == "Turn" and m["end_of_turn"]


def final_texts(msgs: list[dict]) -> list[tuple[int, bool, str]]:
    return [(m["turn_order"], m["turn_is_formatted"], m["transcript"]) for m in turns(msgs) if m["end_of_turn"]]


# ------------------------------------------------------------------ session basics


async def test_begin_fields(server):
    assert server.url.startswith("ws://127.0.0.1:") and server.url.endswith("/v3/ws")
    async with await open_session(server.url) as ws:
        begin = await recv(ws)
    assert begin["type"] == "Begin"
    uuid.UUID(begin["id"])
    assert abs(begin["expires_at"] - (time.time() + 10800)) <= 2
    assert isinstance(begin["expires_at"], int)
    assert begin["configuration"]["model"] == "universal-streaming-english"
    async with await open_session(server.url, speech_model="u3-rt-pro", bogus_param="x") as ws:
        assert (await recv(ws))["configuration"]["model"] == "u3-rt-pro"


async def test_bare_root_path_is_tolerated(server):
    root = server.url.removesuffix("/v3/ws") + "/"
    async with await open_session(root) as ws:
        assert (await recv(ws))["type"] == "Begin"


async def test_audio_before_begin_is_processed():
    async with LocalServer(config(begin_delay_s=0.3)) as srv:
        async with await open_session(srv.url, format_turns="True") as ws:
            await send_audio(ws, 1000)  # sent before Begin arrives
            msgs = await read_until(ws, lambda m: is_final(m) and m["turn_is_formatted"])
    assert msgs[0]["type"] == "Begin"
    assert final_texts(msgs) == [(0, False, "hello world"), (0, True, "Hello, world.")]


async def test_partials_then_end_of_turn_then_formatted(server):
    async with await open_session(server.url, format_turns="true") as ws:
        await recv(ws)
        await send_audio(ws, 3600)
        msgs = await read_until(ws, lambda m: is_final(m) and m["turn_order"] == 1 and m["turn_is_formatted"])
    partials = [m for m in turns(msgs) if not m["end_of_turn"] and m["turn_order"] == 0]
    assert partials and all(not m["turn_is_formatted"] and m["utterance"] == "" for m in partials)
    assert partials[0]["transcript"] == "" and partials[0]["words"][0]["text"] == "hello"
    assert partials[0]["words"][0]["word_is_final"] is False
    finals = [m for m in turns(msgs) if m["end_of_turn"]]
    plain, formatted = finals[0], finals[1]
    assert plain["transcript"] == "hello world" and plain["utterance"] == "Hello world"
    assert formatted["transcript"] == "Hello, world." and formatted["utterance"] == ""
    assert plain["turn_order"] == formatted["turn_order"] == 0
    assert msgs.index(plain) + 1 == msgs.index(formatted)
    assert [w["text"] for w in formatted["words"]] == ["Hello,", "world."]
    assert all(w["word_is_final"] for w in plain["words"])
    assert final_texts(msgs)[2:] == [(1, False, "how are you"), (1, True, "How are you?")]
    assert list(plain)[-1] == "type"  # key order as live frames have it


async def test_without_format_turns_no_formatted_turn(server):
    async with await open_session(server.url) as ws:
        await send_audio(ws, 3600)
        msgs = await read_until(ws, lambda m: is_final(m) and m["turn_order"] == 1)
    assert final_texts(msgs) == [(0, False, "hello world"), (1, False, "how are you")]
    assert not any(m["turn_is_formatted"] for m in turns(msgs))


async def test_terminate_flushes_the_turn_then_termination_then_close(server):
    async with await open_session(server.url, format_turns="true") as ws:
        await send_audio(ws, 300)  # "Hello," heard, "world." (from 350 ms) not yet
        await ws.send(TERMINATE)
        msgs = await read_until_closed(ws)
    assert final_texts(msgs) == [(0, False, "hello"), (0, True, "Hello,")]
    assert msgs[-1] == {"type": "Termination", "audio_duration_seconds": 1, "session_duration_seconds": 0}
    assert (ws.close_code, ws.close_reason) == (1000, "Session Ended")


async def test_force_endpoint_ends_the_turn_and_drops_its_tail(server):
    async with await open_session(server.url) as ws:
        await send_audio(ws, 200)
        await ws.send(json.dumps({"type": "ForceEndpoint"}))
        first = await read_until(ws, is_final)
        await send_audio(ws, 3000)
        await ws.send(TERMINATE)
        rest = await read_until_closed(ws)
    assert final_texts(first) == [(0, False, "hello")]
    assert final_texts(rest) == [(1, False, "how are you")]
    assert "world" not in json.dumps(rest)


async def test_update_configuration_changes_turn_detection(server):
    async with await open_session(server.url) as ws:
        update = {"type": "UpdateConfiguration", "end_of_turn_confidence_threshold": 1,
                  "max_turn_silence": 3000, "format_turns": True}
        await ws.send(json.dumps(update))
        await send_audio(ws, 3600)
        await ws.send(TERMINATE)
        msgs = await read_until_closed(ws)
    # Confidence can no longer exceed 1 and the pause is under 3 s: one long turn.
    assert final_texts(msgs) == [
        (0, False, "hello world how are you"),
        (0, True, "Hello, world. How are you?"),
    ]
    assert ws.close_code == 1000


async def test_bad_update_configuration_is_ignored(server):
    async with await open_session(server.url) as ws:
        bad = {"type": "UpdateConfiguration", "max_turn_silence": 3000, "min_turn_silence": "x"}
        await ws.send(json.dumps(bad))
        await send_audio(ws, 1100)
        msgs = await read_until(ws, is_final)
    assert final_texts(msgs) == [(0, False, "hello world")]


async def test_keep_alive_resets_the_inactivity_timer(server):
    async with await open_session(server.url, inactivity_timeout=5) as ws:
        await recv(ws)
        await asyncio.sleep(3)
        await ws.send(json.dumps({"type": "KeepAlive"}))
        with pytest.raises(TimeoutError):
            await recv(ws, timeout=3.5)  # past the first 5 s: still open
        error, code, reason = await expect_error(ws)
    assert error == {"type": "Error", "error_code": 3005,
                     "error": "Session Cancelled: Inactivity timeout exceeded"}
    assert (code, reason) == (3005, "See Error message for details")


# ---------------------------------------------------------------------- 3006 / 3007


@pytest.mark.parametrize(
    "frame,text",
    [
        ("not json", "Invalid JSON: not json"),
        ("[]", "Invalid Message: []"),
        ('"Terminate"', 'Invalid Message: "Terminate"'),
        ('{"type": "Nope"}', "Invalid Message Type: Nope"),
        ('{"hello": 1}', "Invalid Message Type: None"),
    ],
)
async def test_bad_text_frames_get_3006(server, frame, text):
    async with await open_session(server.url) as ws:
        await ws.send(frame)
        error, code, reason = await expect_error(ws)
    assert error == {"type": "Error", "error_code": 3006, "error": text}
    assert (code, reason) == (3006, "See Error message for details")


@pytest.mark.parametrize(
    "params,text",
    [
        ({"sample_rate": None}, "Invalid 'sample_rate': Field required"),
        ({"sample_rate": "abc"}, "Invalid 'sample_rate': Input should be a valid integer"),
        ({"sample_rate": "0"}, "Invalid 'sample_rate': Input should be greater than or equal to 1"),
        ({"encoding": "flac"}, "Invalid 'encoding': Input should be 'pcm_s16le' or 'pcm_mulaw'"),
        ({"speech_model": "no spaces"}, "Invalid 'speech_model': Input should be a valid speech model id"),
        ({"format_turns": "maybe"}, "Invalid 'format_turns': Input should be a valid boolean"),
        ({"end_of_turn_confidence_threshold": "2"}, "Invalid 'end_of_turn_confidence_threshold': Input should be less"),
        ({"min_turn_silence": "-1"}, "Invalid 'min_turn_silence': Input should be greater"),
        ({"min_end_of_turn_silence_when_confident": "x"}, "Invalid 'min_turn_silence': Input should be a valid integer"),
        ({"keyterms_prompt": "a,b"}, "Invalid 'keyterms_prompt': Value error, Invalid JSON array"),
        ({"keyterms_prompt": json.dumps(["x"] * 101)}, "Invalid 'keyterms_prompt': Value error, Max 100 items"),
        ({"inactivity_timeout": "2"}, "Invalid 'inactivity_timeout': Input should be greater than or equal to 5"),
    ],
)
async def test_bad_query_parameters_get_3006(server, params, text):
    async with await open_session(server.url, **params) as ws:
        error, code, _ = await expect_error(ws)
    assert error["error_code"] == code == 3006
    assert error["error"].startswith("User Input Validation Error: " + text)


async def test_repeated_keyterms_are_rejected(server):
    url = server.url + "?sample_rate=16000&keyterms_prompt=%5B%22a%22%5D&keyterms_prompt=%5B%22b%22%5D"
    async with await connect(url) as ws:
        error, code, _ = await expect_error(ws)
    assert error["error"].endswith("Invalid JSON array") and code == 3006


async def test_valid_parameters_and_aliases_are_accepted(server):
    params = {"format_turns": "on", "min_end_of_turn_silence_when_confident": "160",
              "keyterms_prompt": json.dumps(["Sonny", "x" * 60]), "vad_threshold": "0.5",
              "encoding": "pcm_s16le", "speech_model": "universal-streaming-multilingual"}
    async with await open_session(server.url, **params) as ws:
        assert (await recv(ws))["type"] == "Begin"


@pytest.mark.parametrize("ms,shown", [(20, "20.0"), (1200, "1200.0")])
async def test_chunk_duration_out_of_range_gets_3007(server, ms, shown):
    async with await open_session(server.url) as ws:
        await ws.send(chunk(ms))
        error, code, reason = await expect_error(ws)
    assert error["error"] == (f"Input Duration Error: Input Duration Violation: {shown} ms. "
                              "Expected between 50 and 1000 ms")
    assert (error["error_code"], code, reason) == (3007, 3007, "See Error message for details")


async def test_audio_faster_than_real_time_gets_3007():
    async with LocalServer(config(rate_buffer_s=1.0)) as srv:
        async with await open_session(srv.url) as ws:
            await send_audio(ws, 3000, chunk_ms=1000)
            error, code, _ = await expect_error(ws)
    assert code == 3007
    assert error["error"].startswith("Audio Transmission Rate Exceeded: Received 2.0 sec. audio in 0.")


async def test_huge_frame_closes_without_harming_the_server(server):
    async with await open_session(server.url) as ws:
        await ws.send(b"\0" * (2 << 20))
        await ws.wait_closed()
    assert ws.close_code == 1009
    async with await open_session(server.url) as ws:
        assert (await recv(ws))["type"] == "Begin"


# --------------------------------------------------------------------- expiry / auth


async def test_session_expires_with_3008():
    async with LocalServer(config(max_session_s=0.5)) as srv:
        async with await open_session(srv.url) as ws:
            begin = await recv(ws)
            error, code, _ = await expect_error(ws)
    assert begin["expires_at"] <= time.time() + 1
    assert error == {"type": "Error", "error_code": 3008,
                     "error": "Session Expired: Maximum session duration exceeded"}
    assert code == 3008


@pytest.mark.parametrize(
    "headers,text",
    [
        (None, "Unauthorized Connection: Missing Authorization header"),
        ({"Authorization": "wrong"}, "Unauthorized Connection: Invalid API key"),
    ],
)
async def test_missing_or_bad_key_gets_1008_after_the_upgrade(keyed, headers, text):
    async with await open_session(keyed.url, headers=headers) as ws:  # the 101 succeeds
        error, code, reason = await expect_error(ws)
    assert error == {"type": "Error", "error_code": 1008, "error": text}
    assert (code, reason) == (1008, "See Error message for details")


async def test_right_key_is_accepted(keyed):
    async with await open_session(keyed.url, headers={"Authorization": KEY}) as ws:
        assert (await recv(ws))["type"] == "Begin"


async def mint(srv, expires: int, max_session: int | None = None, key: str | None = KEY):
    headers = {"Authorization": key} if key else None
    return await asyncio.to_thread(http_get, token_url(srv.url, expires, max_session), headers)


async def test_token_minting_and_use_in_query_and_header(keyed):
    status, body = await mint(keyed, 60, 120)
    assert status == 200 and body["expires_in_seconds"] == 60 and body["token"]
    async with await open_session(keyed.url, token=body["token"]) as ws:
        begin = await recv(ws)
    assert abs(begin["expires_at"] - (time.time() + 120)) <= 2  # the token's cap, not 3 h
    async with await open_session(keyed.url, headers={"Authorization": body["token"]}) as ws:
        assert (await recv(ws))["type"] == "Begin"
    status, body = await mint(keyed, 60)
    async with await open_session(keyed.url, token=body["token"]) as ws:
        begin = await recv(ws)
    assert abs(begin["expires_at"] - (time.time() + 10800)) <= 2


async def test_expired_forged_and_foreign_tokens_are_refused(keyed):
    _, body = await mint(keyed, 1)
    token = body["token"]
    payload, sig = token.split(".")
    async with LocalServer(config(api_key=KEY)) as other:
        _, foreign = await mint(other, 60)
    await asyncio.sleep(1.1)
    for bad in (token, payload + "." + sig[::-1], foreign["token"], "garbage"):
        async with await open_session(keyed.url, token=bad) as ws:
            error, code, _ = await expect_error(ws)
        assert (error["error"], code) == ("Unauthorized Connection: Invalid API key", 1008)


@pytest.mark.parametrize(
    "query,key,status",
    [
        ("expires_in_seconds=0", KEY, 400),
        ("expires_in_seconds=601", KEY, 400),
        ("", KEY, 400),
        ("expires_in_seconds=abc", KEY, 400),
        ("expires_in_seconds=60&max_session_duration_seconds=59", KEY, 400),
        ("expires_in_seconds=60&max_session_duration_seconds=10801", KEY, 400),
        ("expires_in_seconds=60", None, 401),
        ("expires_in_seconds=60", "wrong", 401),
    ],
)
async def test_bad_token_requests(keyed, query, key, status):
    parts = urlsplit(keyed.url)
    url = f"http://{parts.netloc}/v3/token?{query}"
    got, body = await asyncio.to_thread(http_get, url, {"Authorization": key} if key else None)
    assert got == status and isinstance(body["error"], str) and body["error"]


async def test_unknown_path_is_404(server):
    parts = urlsplit(server.url)
    status, body = await asyncio.to_thread(http_get, f"http://{parts.netloc}/v2/realtime/ws")
    assert status == 404 and body == {"error": "Not Found"}


async def test_too_many_sessions_get_1008():
    async with LocalServer(config(max_connections=1)) as srv:
        async with await open_session(srv.url) as first:
            await recv(first)
            async with await open_session(srv.url) as second:
                error, code, _ = await expect_error(second)
            assert (error["error"], code) == ("Unauthorized Connection: Too many concurrent sessions", 1008)
            await first.send(TERMINATE)
            await read_until_closed(first)
        async with await open_session(srv.url) as third:
            assert (await recv(third))["type"] == "Begin"


# ------------------------------------------------------------------ robustness


async def test_garbage_and_abrupt_disconnects_do_not_disturb_another_session(server):
    async def victim():
        async with await open_session(server.url, format_turns="true") as ws:
            for _ in range(36):
                await ws.send(chunk(100))
                await asyncio.sleep(0.005)
            await ws.send(TERMINATE)
            return await read_until_closed(ws), ws.close_code

    async def vandal(action):
        ws = await open_session(server.url)
        if action == "abort":
            await ws.send(chunk(100))
            ws.transport.abort()
            return
        await ws.send(action)
        await read_until_closed(ws)

    results = await asyncio.gather(
        victim(),
        vandal(b"\x01\x02\x03"),
        vandal("{{{"),
        vandal("abort"),
        vandal(b"\0" * 50000),
        vandal("abort"),
    )
    msgs, code = results[0]
    assert code == 1000 and msgs[-1]["type"] == "Termination"
    assert final_texts(msgs) == [
        (0, False, "hello world"), (0, True, "Hello, world."),
        (1, False, "how are you"), (1, True, "How are you?"),
    ]
    await asyncio.sleep(0.2)
    assert server.session_count == 0


async def test_in_model_formatting_mode():
    async with LocalServer(config(in_model_formatting=True)) as srv:
        async with await open_session(srv.url, format_turns="true") as ws:
            await send_audio(ws, 1100)
            msgs = await read_until(ws, is_final)
            with pytest.raises(TimeoutError):
                await recv(ws, timeout=0.3)  # no second, formatted copy
    assert all(m["turn_is_formatted"] for m in turns(msgs))
    assert turns(msgs)[0]["words"][0]["text"] == "Hello,"
    assert msgs[-1]["transcript"] == msgs[-1]["utterance"] == "Hello, world."


class FixedRateEngine(Engine):
    """A scripted engine whose recognizer insists on 16 kHz, so the server must resample."""

    name = model = "fixed-rate"

    def new_recognizer(self, sample_rate: int = 16000):
        return ScriptedRecognizer(SCRIPT, False, 16000)


async def test_mulaw_at_8khz_is_decoded_and_resampled():
    async with LocalServer(config(), engine=FixedRateEngine()) as srv:
        async with await open_session(srv.url, sample_rate=8000, encoding="pcm_mulaw") as ws:
            await send_audio(ws, 1200, rate=8000, encoding="pcm_mulaw")
            await ws.send(TERMINATE)
            msgs = await read_until_closed(ws)
    assert final_texts(msgs) == [(0, False, "hello world")]
    assert msgs[-1]["audio_duration_seconds"] == 2  # ceil(1.2)


def test_client_audio_conversion():
    assert (MULAW_TABLE[0xFF], MULAW_TABLE[0x7F], MULAW_TABLE[0x00], MULAW_TABLE[0x80]) == (0, 0, -32124, 32124)
    mulaw = ClientAudio("pcm_mulaw", 8000, 16000)
    out = b"".join(mulaw.convert(b"\x80" * 800) for _ in range(10))  # 1 s at 8 kHz
    assert 16000 - 1600 < len(out) // 2 <= 16000  # soxr holds back under 100 ms
    middle = np.frombuffer(out, dtype="<i2")[4000:12000]
    assert middle.min() > 31000  # a constant 32124 stays (about) constant at 16 kHz
    odd = ClientAudio("pcm_s16le", 16000, 16000)
    samples = np.array([1000, -2000], dtype="<i2").tobytes()
    assert odd.convert(samples[:3]) == samples[:2] and odd.convert(samples[3:]) == samples[2:]


# ------------------------------------------------------------------ fault injection


async def test_fault_drop_aborts_without_a_close_frame():
    async with LocalServer(config(faults=Faults(drop_after_audio_ms=300))) as srv:
        async with await open_session(srv.url) as ws:
            await send_audio(ws, 500)
            with pytest.raises(ConnectionClosedError):
                while True:
                    await recv(ws)
    assert ws.close_code == 1006


async def test_fault_error_and_first_sessions_only():
    faults = Faults(error_after_audio_ms=300, error_code=1011, first_sessions=1)
    async with LocalServer(config(faults=faults)) as srv:
        async with await open_session(srv.url) as ws:
            await send_audio(ws, 500)
            error, code, _ = await expect_error(ws)
        assert (error["error_code"], code) == (1011, 1011)
        async with await open_session(srv.url) as ws:  # the second session is healthy
            await send_audio(ws, 500)
            await ws.send(TERMINATE)
            msgs = await read_until_closed(ws)
        assert msgs[-1]["type"] == "Termination" and ws.close_code == 1000


async def test_fault_ignore_terminate():
    async with LocalServer(config(faults=Faults(ignore_terminate=True))) as srv:
        async with await open_session(srv.url) as ws:
            await recv(ws)
            await ws.send(TERMINATE)
            with pytest.raises(TimeoutError):
                await recv(ws, timeout=0.5)


async def test_fault_termination_delay():
    async with LocalServer(config(faults=Faults(termination_delay_s=0.4))) as srv:
        async with await open_session(srv.url) as ws:
            await recv(ws)
            await ws.send(TERMINATE)
            with pytest.raises(TimeoutError):
                await recv(ws, timeout=0.2)
            assert (await recv(ws))["type"] == "Termination"


# ------------------------------------------------------- the offline engine's turn ends

DATA = paths.DATA


async def silence_until_final(url: str, name: str, **params) -> tuple[int, dict]:
    """Send a fixture's speech, then silence in real time, 50 ms a frame, until a final comes.

    Returns the final and how much audio after its last word had been sent by then: no less
    than the silence the server waited for (so only lower bounds can be checked with it).
    """
    audio, _ = sf.read(DATA / f"{name}.wav", dtype="int16")
    pcm = audio.astype("<i2").tobytes()
    pcm += bytes(-len(pcm) % 3200)  # whole 100 ms frames
    async with await open_session(url, **params) as ws:
        await recv(ws)  # Begin
        for i in range(0, len(pcm), 3200):
            await ws.send(pcm[i : i + 3200])
        await asyncio.sleep(1.0)  # the server works through the speech; the silence below is timed
        sent_ms = len(pcm) // 32
        for _ in range(80):
            await ws.send(chunk(50))
            sent_ms += 50
            try:
                while not is_final(msg := await recv(ws, timeout=0.05)):
                    pass
            except TimeoutError:
                continue
            return sent_ms - msg["words"][-1]["end"], msg
        # 4 s of silence is more than any rule here waits for, in audio: a busy server may
        # only be late, so wait for it (the silence counted stays an upper bound).
        while not is_final(msg := await recv(ws, timeout=60)):
            pass
        return sent_ms - msg["words"][-1]["end"], msg


async def final_after_silence(url: str, name: str, silence_ms: int) -> tuple[int, dict]:
    """Send a fixture's speech and then `silence_ms` of silence, and nothing more; wait for a final.

    The server decides where turns end on the audio it has received, so a final that comes
    was decided with at most the audio sent. Returns that final and how much audio after
    its last word had been sent: an upper bound, in audio, of the silence it waited for.
    """
    audio, _ = sf.read(DATA / f"{name}.wav", dtype="int16")
    pcm = audio.astype("<i2").tobytes()
    pcm += bytes(-len(pcm) % 3200) + chunk(silence_ms)  # whole 100 ms frames
    async with await open_session(url) as ws:
        await recv(ws)  # Begin
        for i in range(0, len(pcm), 3200):
            await ws.send(pcm[i : i + 3200])
        while not is_final(msg := await recv(ws, timeout=60)):
            pass
    return len(pcm) // 32 - msg["words"][-1]["end"], msg


async def test_offline_engine_ends_a_turn_without_a_period_on_the_confidence_rule():
    """Moonshine ends ls_0890 "ill-disposed," when speech ends: with the default parameters
    the turn must still end on the confidence rule, not after max_turn_silence (1280 ms).
    The final comes although well under max_turn_silence of silence was ever sent."""
    async with LocalServer(ServerConfig(engine="moonshine")) as srv:
        sent_silence, final = await final_after_silence(srv.url, "ls_0890", silence_ms=700)
    assert final["end_of_turn_confidence"] > 0.4
    assert sent_silence <= 1000, sent_silence
    said = final["transcript"]
    assert wer((DATA / "ls_0890.txt").read_text(), said) <= 0.15, said


@pytest.mark.parametrize("threshold,least,most", [(0.7, 800, 2000), (1.0, 400, 1500), (0.0, 300, 1280)])
async def test_offline_engine_honours_the_turn_parameters(threshold, least, most):
    """Whatever the engine's confidence, a turn ends only by the reference's rules (3.3)."""
    params = {"end_of_turn_confidence_threshold": threshold, "min_turn_silence": least,
              "max_turn_silence": most}
    async with LocalServer(ServerConfig(engine="moonshine")) as srv:
        silence, final = await silence_until_final(srv.url, "ls_0890", **params)
    confident = final["end_of_turn_confidence"] > threshold
    assert silence >= (least if confident else most), (silence, final["end_of_turn_confidence"])


# ------------------------------------------------------------------ the process


SERVE = (
    "import sys; from tui.server.server import ServerConfig, run_serve; "
    "sys.exit(run_serve(ServerConfig(api_key='proc-key', exit_on_stdin_eof={eof})))"
)


def start_serve(eof: bool) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SERVE.format(eof=eof)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=str(paths.ROOT),
    )


async def session_works(url: str) -> None:
    async with await open_session(url, headers={"Authorization": "proc-key"}) as ws:
        assert (await recv(ws))["type"] == "Begin"
        await send_audio(ws, 2000, chunk_ms=500)
        await ws.send(TERMINATE)
        msgs = await read_until_closed(ws)
    assert turns(msgs) and msgs[-1]["type"] == "Termination"  # the built-in script speaks


@pytest.mark.parametrize("how", ["stdin-eof", "sigterm"])
async def test_serve_process_prints_the_url_first_and_stops_cleanly(how):
    proc = start_serve(eof=how == "stdin-eof")
    try:
        line = (await asyncio.to_thread(proc.stdout.readline)).decode().strip()
        assert line.startswith("listening on ws://127.0.0.1:") and line.endswith("/v3/ws")
        await session_works(line.removeprefix("listening on "))
        if how == "stdin-eof":
            proc.stdin.close()
        else:
            proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 10) == 0
        assert b"proc-key" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
