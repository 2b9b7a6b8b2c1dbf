"""The local server against hostile clients, over real websockets on 127.0.0.1.

Bad frames, floods, huge frames, abrupt disconnects, 50 connections at once: each bad client
gets the protocol's Error and close code (reference sections 4 and 5), a well-behaved session
running alongside still gets exactly its turns, and the server takes new sessions afterwards.
Then hypothesis drives random client action sequences against one `captioner serve` process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from v3client import chunk, expect_error, open_session, read_until_closed, recv
from tui.core.stream import protocol as p
from tui.core.stream.protocol import TERMINATE
from tui.server.scripted import make_script
from tui.server.server import LocalServer, ServerConfig

SCRIPT = make_script(["Hello, world.", "How are you?"], lead_ms=100, word_ms=200, gap_ms=50)
EXPECTED_FINALS = [(0, False, "hello world"), (0, True, "Hello, world."),
                   (1, False, "how are you"), (1, True, "How are you?")]
LONG = "See Error message for details"


def finals(msgs: list[dict]) -> list[tuple[int, bool, str]]:
    return [(m["turn_order"], m["turn_is_formatted"], m["transcript"])
            for m in msgs if m.get("type") == "Turn" and m["end_of_turn"]]


async def well_behaved(url: str, pause: float = 0.005) -> tuple[list[dict], int | None]:
    """One session that does everything right: 3.6 s of audio, Terminate, read to the close."""
    async with await open_session(url, format_turns="true") as ws:
        for _ in range(36):
            await ws.send(chunk(100))
            await asyncio.sleep(pause)
        await ws.send(TERMINATE)
        msgs = await read_until_closed(ws, timeout=20)
        return msgs, ws.close_code


def assert_clean(msgs: list[dict], code: int | None) -> None:
    assert code == 1000
    assert msgs[0]["type"] == "Begin" and msgs[-1]["type"] == "Termination"
    assert finals(msgs) == EXPECTED_FINALS


@pytest.fixture
async def server():
    async with LocalServer(ServerConfig(engine_options={"script": SCRIPT})) as srv:
        yield srv


async def closed_with(ws) -> tuple[list[dict], int | None, str | None]:
    msgs = await read_until_closed(ws, timeout=10)
    await ws.wait_closed()
    return msgs, ws.close_code, ws.close_reason


# ------------------------------------------------------------ hostile clients


async def bad_frame(url: str, frame, code: int, text_start: str) -> None:
    async with await open_session(url) as ws:
        await ws.send(frame)
        error, got_code, reason = await expect_error(ws)
    assert error["type"] == "Error" and error["error_code"] == got_code == code, (frame, error, got_code)
    assert error["error"].startswith(text_start), error
    assert reason == LONG


async def flood(url: str, frames: list, code: int | None) -> None:
    """Many frames as fast as the socket takes them (bounded); the server answers the first bad one."""
    async with await open_session(url) as ws:
        try:
            for frame in frames:
                await ws.send(frame)
        except ConnectionClosed:
            pass  # the server closed on the first bad frame while we were still sending
        if code is None:  # all good: the session still ends normally
            await ws.send(TERMINATE)
        msgs, got, reason = await closed_with(ws)
    errors = [m for m in msgs if m.get("type") == "Error"]
    if code is None:
        assert got == 1000 and not errors and msgs[-1]["type"] == "Termination"
    else:
        assert got == code and len(errors) == 1 and errors[0]["error_code"] == code and reason == LONG


async def garbage_after_terminate(url: str) -> None:
    async with await open_session(url) as ws:
        await ws.send(chunk(100))
        await ws.send(TERMINATE)
        for junk in ("{{{", b"\x01", "[]", '{"type":"Nope"}'):
            try:
                await ws.send(junk)
            except ConnectionClosed:
                break
        msgs, code, _ = await closed_with(ws)
    assert code == 1000 and msgs[-1]["type"] == "Termination"
    assert not [m for m in msgs if m.get("type") == "Error"]


async def garbage_before_terminate(url: str) -> None:
    async with await open_session(url) as ws:
        await ws.send(chunk(100))
        await ws.send("not json at all")
        try:
            await ws.send(TERMINATE)
        except ConnectionClosed:
            pass
        msgs, code, _ = await closed_with(ws)
    assert code == 3006 and msgs[-1] == {"type": "Error", "error_code": 3006,
                                         "error": "Invalid JSON: not json at all"}
    assert not [m for m in msgs if m.get("type") == "Termination"]


async def odd_binary(url: str) -> None:
    # 1601 bytes: 50.03 ms of s16le, so valid, though it ends mid-sample; the server keeps
    # the odd byte for the next frame and the session ends normally.
    async with await open_session(url) as ws:
        for _ in range(5):
            await ws.send(b"\0" * 1601)
        await ws.send(b"\0" * 3199)
        await ws.send(TERMINATE)
        msgs, code, _ = await closed_with(ws)
    assert code == 1000 and msgs[-1]["type"] == "Termination"


async def not_utf8_text(url: str) -> None:
    async with await open_session(url) as ws:
        await ws.send(b"\xff\xfe{\x80}", text=True)  # a text frame that is not UTF-8
        msgs, code, _ = await closed_with(ws)
    assert code == 1007  # RFC 6455: invalid frame payload data
    assert all(m.get("type") in ("Begin", "Error") for m in msgs)


async def huge_frame(url: str, text: bool) -> None:
    async with await open_session(url) as ws:
        try:
            await ws.send("x" * (2 << 20) if text else b"\0" * (2 << 20))
        except ConnectionClosed:
            pass
        await ws.wait_closed()
    assert ws.close_code == 1009  # message too big


async def abort_after(url: str, step: str) -> None:
    """Vanish without a close frame at some point of the session."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    if step in ("tcp", "half-request"):
        reader, writer = await asyncio.open_connection(host, port)
        if step == "half-request":
            writer.write(b"GET /v3/ws?sample_rate=16000 HTTP/1.1\r\nHost: x\r\nUpgrade: webs")
            await writer.drain()
        writer.transport.abort()
        return
    ws = await open_session(url)
    if step in ("audio", "mid-turn", "terminate"):
        for _ in range(3 if step == "audio" else 8):
            await ws.send(chunk(100))
    if step == "terminate":
        await ws.send(TERMINATE)
    if step == "half-frame":
        ws.transport.write(b"\x82\xfe\x06\x40" + b"\0" * 104)  # a masked 1600-byte binary frame, cut short
    ws.transport.abort()


async def test_hostile_clients_do_not_disturb_a_well_behaved_session(server):
    url = server.url
    hostile = [
        bad_frame(url, "not json", 3006, "Invalid JSON: not json"),
        bad_frame(url, "[1, 2]", 3006, "Invalid Message: [1, 2]"),
        bad_frame(url, "42", 3006, "Invalid Message: 42"),
        bad_frame(url, '{"type": "Bogus"}', 3006, "Invalid Message Type: Bogus"),
        bad_frame(url, '{"type": 7}', 3006, "Invalid Message Type: 7"),
        bad_frame(url, '{"type": null}', 3006, "Invalid Message Type: None"),
        bad_frame(url, "[" * 100_000, 3006, "Invalid JSON: [[["),
        bad_frame(url, "", 3006, "Invalid JSON: "),
        bad_frame(url, b"", 3007, "Input Duration Error: Input Duration Violation: 0.0 ms."),
        bad_frame(url, b"\x01\x02\x03", 3007, "Input Duration Error: Input Duration Violation: 0.1 ms."),
        bad_frame(url, b"\0" * 1599, 3007, "Input Duration Error: Input Duration Violation: 50.0 ms."),
        bad_frame(url, b"\0" * 32001, 3007, "Input Duration Error: Input Duration Violation: 1000.0 ms."),
        flood(url, ['{"type":"KeepAlive"}'] * 300 + [chunk(50)] * 100, None),
        flood(url, ["x"] * 300, 3006),
        flood(url, [b"\0" * 10] * 300, 3007),
        flood(url, [chunk(50)] * 20 + ['{"type":"ForceEndpoint"}'] * 50 + [b"\0"] * 100, 3007),
        garbage_after_terminate(url),
        garbage_before_terminate(url),
        odd_binary(url),
        not_utf8_text(url),
        huge_frame(url, text=False),
        huge_frame(url, text=True),
        *(abort_after(url, step) for step in
          ("tcp", "half-request", "open", "audio", "mid-turn", "terminate", "half-frame")),
    ]
    results = await asyncio.gather(well_behaved(url), *hostile, return_exceptions=True)
    for result in results[1:]:
        if isinstance(result, BaseException):
            raise result
    assert_clean(*results[0])
    # Every session is gone (aborted ones included) and a new one gets the whole flow.
    for _ in range(100):
        if server.session_count == 0:
            break
        await asyncio.sleep(0.05)
    assert server.session_count == 0
    assert_clean(*await well_behaved(url, pause=0))


async def test_fifty_concurrent_sessions_each_get_their_turns(server):
    async def one(i: int):
        if i % 5 == 4:  # every fifth is a vandal that leaves mid-session
            await abort_after(server.url, "mid-turn")
            return None
        return await well_behaved(server.url, pause=0.01)

    results = await asyncio.gather(*(one(i) for i in range(50)))
    done = [r for r in results if r is not None]
    assert len(done) == 40
    for msgs, code in done:
        assert_clean(msgs, code)
    ids = {msgs[0]["id"] for msgs, _ in done}
    assert len(ids) == 40  # every session its own Begin id
    for _ in range(100):
        if server.session_count == 0:
            break
        await asyncio.sleep(0.05)
    assert server.session_count == 0
    assert server.sessions_started == 50


async def test_connections_beyond_the_limit_are_refused_and_the_rest_unharmed():
    config = ServerConfig(engine_options={"script": SCRIPT}, max_connections=5)
    async with LocalServer(config) as srv:
        holders = [await open_session(srv.url) for _ in range(4)]
        for ws in holders:
            assert (await recv(ws))["type"] == "Begin"
        victim = asyncio.create_task(well_behaved(srv.url, pause=0.02))
        await asyncio.sleep(0.2)  # the victim holds the fifth place
        extra = [await open_session(srv.url) for _ in range(10)]
        refusals = await asyncio.gather(*(expect_error(ws) for ws in extra))
        for error, code, reason in refusals:
            assert error == {"type": "Error", "error_code": 1008,
                             "error": "Unauthorized Connection: Too many concurrent sessions"}
            assert (code, reason) == (1008, LONG)
        assert_clean(*await victim)
        for ws in holders:
            ws.transport.abort()
        for _ in range(100):
            if srv.session_count == 0:
                break
            await asyncio.sleep(0.05)
        assert srv.session_count == 0
        assert_clean(*await well_behaved(srv.url, pause=0))


# ------------------------------------------------------ hypothesis: action sequences


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`captioner serve` as a real process with the scripted engine (looping script)."""
    path = tmp_path_factory.mktemp("fuzz") / "script.json"
    path.write_text(json.dumps(dict(SCRIPT, repeat=True)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "serve", "--engine", "scripted", "--port", "0", "--script", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={k: v for k, v in os.environ.items() if k != "CAPTIONER_SERVER_KEY"},
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on ws://127.0.0.1:"), line
        yield proc, line.removeprefix("listening on ")
    finally:
        proc.terminate()
        proc.wait(10)


# Each query parameter: (wire value or None to leave it out, valid?)
PARAMS = {
    "sample_rate": [("16000", True), ("8000", True), ("48000", True), ("0", False), ("abc", False),
                    ("-5", False), ("16000.5", False), (None, False), ("1e400", False)],
    "encoding": [(None, True), ("pcm_s16le", True), ("pcm_mulaw", True), ("opus", False), ("", False)],
    # Any well-formed model id is taken (issue 14: new ids work before the client knows them).
    "speech_model": [(None, True), ("universal-streaming-english", True), ("u3-rt-pro", True),
                     ("best", True), ("no spaces", False)],
    "format_turns": [(None, True), ("true", True), ("False", True), ("on", True), ("maybe", False)],
    "end_of_turn_confidence_threshold": [(None, True), ("0.7", True), ("2", False), ("nan", False)],
    "min_turn_silence": [(None, True), ("160", True), ("-1", False), ("1.5", False)],
    "keyterms_prompt": [(None, True), ('["a","b"]', True), ("a,b", False), ('{"a":1}', False),
                        (json.dumps(["k"] * 101), False)],
    "inactivity_timeout": [(None, True), ("30", True), ("2", False), ("x", False)],
    "bogus_param": [(None, True), ("anything", True)],  # unknown parameters are ignored
}

TEXTS = [  # (frame, fatal close code or None)
    ('{"type":"KeepAlive"}', None),
    ('{"type":"ForceEndpoint"}', None),
    ('{"type":"UpdateConfiguration","max_turn_silence":900}', None),
    ('{"type":"UpdateConfiguration","end_of_turn_confidence_threshold":"high"}', None),  # ignored
    ('{"type":"UpdateConfiguration","keyterms_prompt":[1,2]}', None),  # ignored
    ('{"type":"UpdateConfiguration","nonsense":[{}]}', None),
    ("garbage", 3006), ("[]", 3006), ("null", 3006), ('{"type":"terminate"}', 3006),
    ('{"no_type":1}', 3006), ('{"type":["Terminate"]}', 3006), ("{" * 5000, 3006),
]

ACTION = st.one_of(
    st.tuples(st.just("audio"), st.sampled_from([0, 10, 49, 50, 51, 100, 250, 999, 1000, 1001, 1500])),
    st.tuples(st.just("odd"), st.integers(1, 40_000)),  # a byte count, odd or even
    st.tuples(st.just("text"), st.sampled_from(range(len(TEXTS)))),
    st.tuples(st.just("terminate"), st.just(0)),
    st.tuples(st.just("abort"), st.just(0)),
)


def width(encoding: str | None) -> int:
    return 1 if encoding == "pcm_mulaw" else 2


async def play(url: str, query: dict, actions: list) -> None:
    """Run one session; check that the server's answers follow the protocol."""
    valid = all(ok for _, ok in query.values())
    wire = {k: v for k, (v, _) in query.items() if v is not None}
    rate = int(wire["sample_rate"]) if valid else 16000
    bytes_per_ms = rate * width(wire.get("encoding")) / 1000
    expect_code, sent = None, []
    async with await connect(f"{url}?{urlencode(wire)}", open_timeout=5) as ws:
        if not valid:
            msgs, code, reason = await closed_with(ws)
            assert code == 3006 and reason == LONG, (wire, msgs, code)
            assert msgs[-1]["type"] == "Error" and msgs[-1]["error_code"] == 3006
            bad = [k for k, (_, ok) in query.items() if not ok]
            assert any(f"Invalid '{k}'" in msgs[-1]["error"] for k in bad), msgs
            assert msgs[-1]["error"].startswith("User Input Validation Error: ")
            return
        for kind, arg in actions:
            if kind == "abort":
                ws.transport.abort()
                return
            if kind == "audio":
                frame = b"\0" * int(arg * bytes_per_ms)
            elif kind == "odd":
                frame = b"\0" * arg
            elif kind == "text":
                frame = TEXTS[arg][0]
            else:
                frame = TERMINATE
            try:
                await ws.send(frame)
            except ConnectionClosed:
                break
            sent.append(frame)
            if isinstance(frame, bytes):
                ms = len(frame) / bytes_per_ms
                if not p.MIN_CHUNK_MS <= ms <= p.MAX_CHUNK_MS:
                    expect_code = 3007
            elif kind == "text" and TEXTS[arg][1]:
                expect_code = TEXTS[arg][1]
            elif kind == "terminate":
                expect_code = 1000
            if expect_code:
                break
        if expect_code is None:
            await ws.send(TERMINATE)
            expect_code = 1000
        msgs, code, reason = await closed_with(ws)
    types = [m.get("type") for m in msgs]
    for m in msgs:  # everything the server sends is a well-formed v3 message
        assert not isinstance(p.parse_server_message(json.dumps(m)), p.Malformed), m
    assert types.count("Begin") <= 1 and (not msgs or "Begin" not in types or types[0] == "Begin")
    orders = [m["turn_order"] for m in msgs if m.get("type") == "Turn"]
    assert orders == sorted(orders)
    assert code == expect_code, (actions, msgs[-3:], code)
    if code == 1000:
        assert types[-1] == "Termination" and "Error" not in types and reason == "Session Ended"
        audio = sum(len(f) for f in sent if isinstance(f, bytes)) / bytes_per_ms
        assert audio / 1000 - 1e-6 <= msgs[-1]["audio_duration_seconds"] < audio / 1000 + 1
    else:
        assert types[-1] == "Error" and msgs[-1]["error_code"] == code and reason == LONG
        assert "Termination" not in types


@st.composite
def queries(draw) -> dict:
    """Mostly valid queries (so sessions get going), sometimes with one or two bad values."""
    bad = set(draw(st.sampled_from([[], [], [], [], ["x"], ["x", "y"]])))
    bad_keys = set(draw(st.permutations(sorted(PARAMS)))[: len(bad)])
    out = {}
    for key, options in PARAMS.items():
        pool = [o for o in options if o[1] != (key in bad_keys)] or options
        out[key] = draw(st.sampled_from(pool))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries(), actions=st.lists(ACTION, max_size=8))
def test_random_client_sessions_get_protocol_answers(served, query, actions):
    proc, url = served
    asyncio.run(asyncio.wait_for(play(url, query, actions), 30))
    assert proc.poll() is None, "the server process died"


def test_server_process_still_serves_after_the_fuzzing(served):
    proc, url = served
    msgs, code = asyncio.run(asyncio.wait_for(well_behaved(url, pause=0), 30))
    assert code == 1000 and msgs[0]["type"] == "Begin" and msgs[-1]["type"] == "Termination"
    assert [t for *_, t in finals(msgs)] == ["hello world", "Hello, world.", "how are you", "How are you?"]
    assert proc.poll() is None
