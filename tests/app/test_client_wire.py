"""The client against the cloud's literal frames, replayed by a tiny websocket peer.

The local server covers the protocol's flow; this covers the exact on-wire shapes the
reference records from the live service (sections 3.1-3.6, 5), including the ones our own
server does not send: optional message types, the bare error shape, an empty final Turn
before Termination, and close codes after an Error frame.
"""

import asyncio
import json

import pytest
from websockets.asyncio.server import serve

from tui.core.stream import events as ev
from tui.core.audio.source import Frame
from tui.core.stream.client import Connection, StreamError, StreamingClient

BEGIN = '{"type":"Begin","id":"aa006a1d-0000","expires_at":4102444800,"configuration":{"model":"universal-streaming-english","mode":null,"api_version":"2025-05-12"}}'
# Section 3.3's condensed example, turn 0 with format_turns=true.
TURN_0 = [
    '{"turn_order":0,"turn_is_formatted":false,"end_of_turn":false,"transcript":"","end_of_turn_confidence":0.017454,"words":[{"start":1920,"end":2000,"text":"hi","confidence":0.874618,"word_is_final":false}],"utterance":"","type":"Turn"}',
    '{"turn_order":0,"turn_is_formatted":false,"end_of_turn":false,"transcript":"hi","end_of_turn_confidence":1.4e-05,"words":[{"start":1920,"end":2000,"text":"hi","confidence":0.874618,"word_is_final":true},{"start":2800,"end":2880,"text":"my","confidence":0.812831,"word_is_final":false}],"utterance":"","type":"Turn"}',
    '{"type":"SpeechStarted","timestamp":1900,"confidence":0.8}',
    '{"type":"Heartbeat","total_audio_received_ms":3000,"total_duration_ms":3100,"realtime_factor":0.97,"max_speech_probability":0.9}',
    '{"type":"Warning","warning_code":1,"warning":"something non-fatal"}',
    '{"type":"SomethingNew2027","x":1}',
    'this is not json',
    '{"turn_order":0,"turn_is_formatted":false,"end_of_turn":true,"transcript":"hi my name is sonny","end_of_turn_confidence":0.5005,"words":[{"start":1920,"end":2000,"text":"hi","confidence":0.87,"word_is_final":true},{"start":2800,"end":2880,"text":"my","confidence":0.81,"word_is_final":true},{"start":2960,"end":3040,"text":"name","confidence":0.9,"word_is_final":true},{"start":3120,"end":3200,"text":"is","confidence":0.9,"word_is_final":true},{"start":3600,"end":3840,"text":"sonny","confidence":0.82,"word_is_final":true}],"utterance":"Hi my name is sonny","type":"Turn"}',
    '{"turn_order":0,"turn_is_formatted":true,"end_of_turn":true,"transcript":"Hi, my name is Sonny.","end_of_turn_confidence":0.5005,"words":[{"start":1920,"end":2000,"text":"Hi,","confidence":0.87,"word_is_final":true},{"start":2800,"end":2880,"text":"my","confidence":0.81,"word_is_final":true},{"start":2960,"end":3040,"text":"name","confidence":0.9,"word_is_final":true},{"start":3120,"end":3200,"text":"is","confidence":0.9,"word_is_final":true},{"start":3600,"end":3840,"text":"Sonny.","confidence":0.82,"word_is_final":true}],"utterance":"","type":"Turn"}',
]
# Section 3.4: after Terminate, an empty final Turn, then Termination, then close 1000.
EMPTY_FINAL = '{"turn_order":1,"turn_is_formatted":false,"end_of_turn":true,"transcript":"","end_of_turn_confidence":0.265551,"words":[],"utterance":"","type":"Turn"}'
TERMINATION = '{"type":"Termination","audio_duration_seconds":4,"session_duration_seconds":7}'


class Peer:
    """A websocket peer that replays frames; records what the client sent."""

    def __init__(self, script):
        self.script = script
        self.received: list = []
        self.headers: list = []
        self.paths: list[str] = []

    async def handler(self, ws):
        self.headers.append(dict(ws.request.headers))
        self.paths.append(ws.request.path)
        await self.script(self, ws)

    async def until_terminate(self, ws):
        async for msg in ws:
            self.received.append(msg)
            if isinstance(msg, str) and json.loads(msg).get("type") == "Terminate":
                return


async def run_client(script, n_frames=60, **conn_kw):
    peer = Peer(script)
    async with serve(peer.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        events = []
        conn = Connection(f"ws://127.0.0.1:{port}/v3/ws", {"sample_rate": 16000, "format_turns": True,
                                                           "speech_model": "universal-streaming-english"},
                          terminate_timeout=2.0, **conn_kw)
        client = StreamingClient(conn, events.append)
        error = None
        try:
            await asyncio.wait_for(client.run(frames(n_frames)), 30)
        except StreamError as exc:
            error = exc
    return peer, events, error


async def frames(n, ms=50):
    for i in range(n):
        yield Frame(b"\1\0" * (16 * ms), i * float(ms), 0.0)
        await asyncio.sleep(0.001)


def finals(events):
    return [e.turn.text for e in events if isinstance(e, ev.TurnFinal)]


async def test_reference_frames_give_one_formatted_final():
    async def script(peer, ws):
        await ws.send(BEGIN)
        for frame in TURN_0:
            await ws.send(frame)
        await peer.until_terminate(ws)
        await ws.send(EMPTY_FINAL)
        await ws.send(TERMINATION)
        await ws.close(1000, "Session Ended")

    peer, events, error = await run_client(script)
    assert error is None
    assert finals(events) == ["Hi, my name is Sonny."]
    began = [e for e in events if isinstance(e, ev.SessionBegan)][0]
    assert began.session_id == "aa006a1d-0000" and began.expires_at == 4102444800
    assert [e.state for e in events if isinstance(e, ev.StateChanged)][-1] == ev.CLOSED
    partial_texts = [[w.text for w in e.words] for e in events if isinstance(e, ev.PartialTurn)]
    assert ["hi"] in partial_texts and ["hi", "my"] in partial_texts
    # What went over the wire: binary audio of 50 ms, then Terminate; headers and path.
    audio = [m for m in peer.received if isinstance(m, bytes)]
    assert audio and all(len(m) == 1600 for m in audio)
    assert peer.received[-1] == '{"type": "Terminate"}'
    assert peer.paths[0].startswith("/v3/ws?sample_rate=16000")
    assert "speech_model=universal-streaming-english" in peer.paths[0]


async def test_authorization_header_carries_the_raw_key():
    async def script(peer, ws):
        await ws.send(BEGIN)
        await peer.until_terminate(ws)
        await ws.send(TERMINATION)
        await ws.close(1000, "Session Ended")

    peer, _, error = await run_client(script, n_frames=3, api_key="raw-key-123")
    assert error is None
    assert peer.headers[0]["authorization"] == "raw-key-123"  # no "Bearer" prefix
    assert "raw-key-123" not in peer.paths[0]


@pytest.mark.parametrize("frame,code,words", [
    ('{"type":"Error","error_code":1008,"error":"Unauthorized Connection: Invalid API key"}', 1008, "ASSEMBLYAI_API_KEY"),
    ('{"error":"Unauthorized Connection: Invalid API key"}', 1008, "ASSEMBLYAI_API_KEY"),
    ('{"type":"Error","error_code":3006,"error":"User Input Validation Error: Invalid \'keyterms_prompt\': Value error, Invalid JSON array"}', 3006, "keyterms_prompt"),
    ('{"type":"Error","error_code":3009,"error":"Unauthorized Connection: Too many concurrent sessions"}', 3009, "concurrent"),
])
async def test_fatal_errors_stop_without_retrying(frame, code, words):
    async def script(peer, ws):
        await ws.send(frame)
        await ws.close(code, "See Error message for details")

    peer, events, error = await run_client(script)
    assert error is not None and error.code == code
    assert words in str(error)
    assert len(peer.headers) == 1  # one connection: no retry loop


@pytest.mark.parametrize("code,text", [
    (3007, "Input Duration Error: Audio Transmission Rate Exceeded: Received 314.9 sec. audio in 1.3 sec"),
    (3005, "Session Cancelled: An error occurred"),
    (1011, "Internal Server Error"),
])
async def test_recoverable_errors_reconnect_and_resend(code, text):
    async def script(peer, ws):
        first = len(peer.headers) == 1
        await ws.send(BEGIN)
        if first:
            async for msg in ws:
                peer.received.append(msg)
                if len([m for m in peer.received if isinstance(m, bytes)]) == 20:
                    break
            await ws.send(json.dumps({"type": "Error", "error_code": code, "error": text}))
            await ws.close(code, "See Error message for details")
            return
        await peer.until_terminate(ws)
        await ws.send(TURN_0[-1])
        await ws.send(TERMINATION)
        await ws.close(1000, "Session Ended")

    peer, events, error = await run_client(script)
    assert error is None
    assert len(peer.headers) == 2
    assert finals(events) == ["Hi, my name is Sonny."]
    states = [e for e in events if isinstance(e, ev.StateChanged) and e.state == ev.RECONNECTING and e.attempt]
    assert str(code) in states[0].detail


async def test_close_before_begin_is_handled():
    async def script(peer, ws):
        await ws.close(1008, "See Error message for details")

    peer, events, error = await run_client(script)
    assert error is not None and error.code == 1008
