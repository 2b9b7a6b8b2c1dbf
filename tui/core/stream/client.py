"""The v3 streaming client: one logical caption stream over one or more service sessions.

Audio frames go in; events (tui/core/stream/events.py) come out. The client keeps every frame that
is not yet covered by a final turn, so when a connection dies it opens a new session and
sends them again: no words fall into the gap. Fatal errors (bad key, bad parameter) are not
retried. A clean end sends Terminate and waits for Termination, so the last words arrive.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI

from tui.core.stream import events as ev
from tui.core.stream import protocol as p
from tui.core.audio.source import Frame
from tui.core.stream import rollover as ro
from tui.core.stream.failures import connect_failure
from tui.core.stream.timeline import SessionClock
from tui.core.transcript.model import FinalTurn, Marker
from tui.core.stream.assembly import TurnAssembler

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.2
BACKOFF_MAX_S = 8.0
# Backlog pacing after a reconnect: the service tolerates about 1.25x real time (reference
# 6.2); stay under it, with a head start so catching up begins at once.
CATCHUP_RATE = 1.2
CATCHUP_LEAD_MS = 10_000.0
# Errors that a new session fixes: no need to alarm the user beyond "reconnecting".
RECOVERABLE_CODES = frozenset({1011, 3005, 3007, 3008})


class StreamError(Exception):
    """The stream cannot go on (bad key, bad parameter, gave up reconnecting)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Connection:
    """Where and how to connect. The key is only ever put in a header or a token request."""

    url: str  # ws(s)://host[:port]/v3/ws
    params: dict[str, Any] = field(default_factory=dict)
    api_key: str = field(default="", repr=False)
    temporary_token: bool = False
    insecure: bool = False
    open_timeout: float = 10.0
    terminate_timeout: float = 5.0
    ping_interval: float = 10.0  # pings find half-open connections
    ping_timeout: float = 20.0
    catchup_rate: float = CATCHUP_RATE  # backlog sending speed, x real time
    catchup_lead_ms: float = CATCHUP_LEAD_MS
    rollover: bool = True  # move to a new session before the service's session limit
    give_up_after_s: float = 600.0  # stop reconnecting after this long without a session

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def format_turns(self) -> bool:
        return bool(self.params.get("format_turns"))

    @property
    def sample_rate(self) -> int:
        return int(self.params.get("sample_rate", 16000))

    def check(self) -> None:
        """Refuse to send a key in the clear to another machine."""
        parts = urlsplit(self.url)
        if parts.scheme not in ("ws", "wss"):
            raise StreamError(f"service URL must start with ws:// or wss:// (got {parts.scheme}://)")
        if (self.api_key and parts.scheme == "ws" and not p.is_loopback_host(parts.hostname)
                and not self.insecure):
            raise StreamError(f"refusing to send the API key over plain ws:// to {parts.hostname}; "
                              "use wss:// or pass --insecure")


class Rechunker:
    """Re-buffer whatever the source gives into frames of exactly `size` bytes.

    The service needs 50-1000 ms per message; 10-20 ms device blocks must be joined and
    long blocks split. Each output frame keeps its true timeline start and capture time.
    """

    def __init__(self, size: int, bytes_per_ms: float) -> None:
        self.size, self.bpms = size, bytes_per_ms
        self._buf = bytearray()
        self._t0 = 0.0
        self._due = 0.0

    def push(self, frame: Frame) -> list[Frame]:
        if not self._buf or abs(self._t0 + len(self._buf) / self.bpms - frame.t0_ms) > 0.5:
            out = self.flush()  # a jump on the timeline: never join across it
            self._t0 = frame.t0_ms
        else:
            out = []
        self._buf += frame.pcm
        self._due = frame.due
        while len(self._buf) >= self.size:
            chunk = bytes(self._buf[: self.size])
            del self._buf[: self.size]
            left_ms = len(self._buf) / self.bpms  # audio after this chunk, captured before `due`
            out.append(Frame(chunk, self._t0, self._due - left_ms / 1000.0))
            self._t0 += self.size / self.bpms
        return out

    def flush(self) -> list[Frame]:
        if not self._buf:
            return []
        out = [Frame(bytes(self._buf), self._t0, self._due)]
        self._t0 += len(self._buf) / self.bpms
        self._buf.clear()
        return out


@dataclass(slots=True)
class _Outcome:
    """How one service session ended."""

    clean: bool = False  # Termination received after our Terminate
    code: int | None = None
    reason: str = ""
    began: bool = False
    handoff: bool = False  # rolled over to a new session, still draining


class _Repeat:
    """Call `fn` every `seconds` on the running loop until cancelled."""

    def __init__(self, seconds: float, fn) -> None:
        self._seconds, self._fn = seconds, fn
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_later(seconds, self._run)

    def _run(self) -> None:
        self._handle = self._loop.call_later(self._seconds, self._run)
        self._fn()

    def cancel(self) -> None:
        self._handle.cancel()


@dataclass(eq=False)
class _Live:
    """One open service session."""

    ws: ClientConnection
    clock: SessionClock
    assembler: TurnAssembler
    outcome: _Outcome
    expires_at: float | None = None
    began_at: float = 0.0
    handoff: asyncio.Event = field(default_factory=asyncio.Event)
    after_rollover: bool = False  # took over from a session that rolled over: no burst


async def ws_send_quietly(ws: ClientConnection, data: str | bytes) -> None:
    try:
        await ws.send(data)
    except ConnectionClosed:
        pass


class StreamingClient:
    # Benchmark instrumentation (bench/display.py): when set, called as trace(kind, item) with
    # ("recv", raw frame) right after a server frame is read from the socket and ("sent", Frame)
    # right after an audio frame is handed to the websocket. Set it on the class (a bound method
    # or a staticmethod) or on one client. Off by default (None): the cost is one attribute
    # test per message.
    trace: Callable[[str, Any], None] | None = None

    def __init__(self, conn: Connection, emit: Callable[[ev.Event], None], *,
                 buffer_s: float = 120.0, chunk_ms: int = 50,
                 on_first_send: Callable[[], None] | None = None) -> None:
        conn.check()
        self.conn = conn
        self.emit = emit
        self._on_first_send = on_first_send  # called once, after the first audio frame is sent
        self.chunk_ms = chunk_ms
        self._bpms = p.bytes_per_ms(conn.sample_rate)
        self._buffer_ms = buffer_s * 1000.0
        self._frames: deque[Frame] = deque()  # not yet covered by a final turn
        self._unsent = 0  # how many frames at the end of _frames the current session has not had
        self._have_frames = asyncio.Event()
        self._input_done = False
        self._chunks = Rechunker(int(chunk_ms * self._bpms), self._bpms)
        self._stopping = False
        self._suspended = False
        self._gap: list[float] | None = None  # [timeline ms, ms lost] not yet reported
        self._live: _Live | None = None
        self._drains: set[asyncio.Task] = set()
        self._turn_index = 0
        self._model_warned = False
        self.model_used: str | None = None  # set when the service runs another model than asked
        self.expires_at: float | None = None
        self.frames_dropped = 0
        self.last_latency_ms: float | None = None
        self.audio_seconds = 0.0
        self.session_seconds = 0.0
        self._due_times: deque[tuple[float, float, float]] = deque(maxlen=1200)  # t0, t1, due
        self._quiet = ro.QuietTracker(self._bpms)
        self._rolled_over = False  # the next session takes over from a rollover
        self.rollovers: list[str] = []  # each planned rollover: ro.PAUSE or ro.DEADLINE

    # ----------------------------------------------------------------- commands

    def force_endpoint(self) -> None:
        self._send_text(p.FORCE_ENDPOINT)

    def end_turn_with_silence(self, ms: float) -> bytes:
        """Let the service finish the open turn by itself: append `ms` of silence.

        Used on pause. Unlike ForceEndpoint, which may drop the words in flight, silence lets
        the service's own end-of-turn rule close the turn with its tail. Returns the silence
        (the caller records exactly what is sent).
        """
        if not self._frames and not self._due_times:
            return b""
        t0 = self._due_times[-1][1]  # right after the last audio on the timeline
        chunk_ms = self.chunk_ms
        count = max(1, round(ms / chunk_ms))
        chunk = bytes(int(chunk_ms * self._bpms))
        now = time.monotonic()
        for i in range(count):
            self._add_frame(Frame(chunk, t0 + i * chunk_ms, now))
        return chunk * count

    def stop(self) -> None:
        """Finish: send what is buffered, Terminate, wait for the last turns."""
        self._stopping = True
        self._have_frames.set()

    def _send_text(self, text: str) -> None:
        if self._live is not None:
            asyncio.ensure_future(ws_send_quietly(self._live.ws, text))

    @property
    def connected(self) -> bool:
        return self._live is not None and self._live.outcome.began

    # ---------------------------------------------------------------- main loop

    async def run(self, frames: AsyncIterator[Frame] | None = None) -> None:
        """Stream `frames`, or the frames push()ed, until they end (end_input() or stop());
        raises StreamError when it cannot go on."""
        pump = asyncio.create_task(self._pump(frames)) if frames is not None else None
        try:
            await self._sessions()
            await asyncio.gather(*self._drains)
        finally:
            self._report_gap()
            if pump is not None:
                pump.cancel()
                await asyncio.gather(pump, return_exceptions=True)

    def push(self, frame: Frame) -> None:
        """One captured frame, from the event loop (before or while run() runs).

        A call, not a queue: the capture task hands each frame straight to the sender (one
        task wake-up less per frame)."""
        if self._stopping or self._input_done:
            return
        for chunk in self._chunks.push(frame):
            self._add_frame(chunk)

    def end_input(self) -> None:
        """No more frames: what is buffered is sent, then the session ends with Terminate."""
        if self._input_done:
            return
        for chunk in self._chunks.flush():
            self._add_frame(chunk)
        self._input_done = True
        self._have_frames.set()

    async def _pump(self, frames: AsyncIterator[Frame]) -> None:
        try:
            async for frame in frames:
                if self._stopping:
                    break
                self.push(frame)
        finally:
            self.end_input()

    def _add_frame(self, frame: Frame) -> None:
        self._suspended = False
        self._frames.append(frame)
        self._unsent += 1
        dur = len(frame.pcm) / self._bpms
        self._due_times.append((frame.t0_ms, frame.t0_ms + dur, frame.due))
        self._quiet.add(frame.pcm, frame.t0_ms)
        while self._frames and self._span_ms() > self._buffer_ms and self._unsent < len(self._frames):
            self._frames.popleft()  # sent long ago and still not final: oldest goes first
        if self._span_ms() > self._buffer_ms:
            self._drop_unsent()
        self._have_frames.set()

    def _drop_unsent(self) -> None:
        """Buffer full while disconnected: drop the oldest unsent audio; the gap is reported."""
        while self._frames and self._span_ms() > self._buffer_ms:
            frame = self._frames.popleft()
            self._unsent = min(self._unsent, len(self._frames))
            self.frames_dropped += 1
            if self._gap is None:
                self._gap = [frame.t0_ms, 0.0]
            self._gap[1] += len(frame.pcm) / self._bpms

    def _report_gap(self) -> None:
        if self._gap:
            at, lost = self._gap
            self._gap = None
            self._marker("gap", at, lost, "audio buffer overflowed while disconnected")

    def _span_ms(self) -> float:
        if not self._frames:
            return 0.0
        last = self._frames[-1]
        return last.t0_ms + len(last.pcm) / self._bpms - self._frames[0].t0_ms

    def _finished(self) -> bool:
        return (self._ending() or self._suspended) and self._unsent == 0

    async def _sessions(self) -> None:
        attempt, failing_since, ever_began, tries_after_end = 0, None, False, 0
        while True:
            self.emit(ev.StateChanged(ev.RECONNECTING if attempt else ev.CONNECTING, attempt=attempt))
            outcome = await self._one_session(attempt)
            ever_began = ever_began or outcome.began
            if outcome.handoff:
                attempt, failing_since, self._rolled_over = 0, None, True
                continue
            if outcome.clean and self._suspended and not self._ending():
                if not await self._wait_for_resume():
                    self.emit(ev.StateChanged(ev.CLOSED))
                    return
                attempt, failing_since = 0, None
                continue
            if outcome.clean:
                self.emit(ev.StateChanged(ev.CLOSED))
                return
            detail = p.describe_close(outcome.code, outcome.reason)
            if outcome.code in p.FATAL_CODES:
                raise StreamError(detail, outcome.code)
            if not ever_began and attempt >= 4:
                where = "" if self.conn.host in detail else f" to {self.conn.host}"
                raise StreamError(f"cannot connect{where}: {detail}", outcome.code)
            if self._ending():
                tries_after_end += 1
                if tries_after_end > 2:
                    raise StreamError(f"the last turns never arrived: {detail}", outcome.code)
            if outcome.began:
                attempt, failing_since = 0, None
            failing_since = failing_since or time.monotonic()
            if time.monotonic() - failing_since > self.conn.give_up_after_s:
                raise StreamError(f"gave up reconnecting to {self.conn.host}: {detail}", outcome.code)
            attempt += 1
            self.emit(ev.StateChanged(ev.RECONNECTING, detail, attempt))
            resend_from = self._resend_from()
            if ever_began:
                self._marker("reconnect", resend_from, 0.0, detail)
            await asyncio.sleep(self._backoff(attempt))

    def _ending(self) -> bool:
        return self._input_done or self._stopping

    async def _wait_for_resume(self) -> bool:
        """Paused long enough that the session was closed; True once audio comes again."""
        self.emit(ev.StateChanged(ev.PAUSED, "session closed while paused"))
        while self._suspended and not self._ending():
            self._have_frames.clear()
            await self._have_frames.wait()
        return not self._ending() or bool(self._unsent)

    def suspend(self) -> None:
        """Close the session (stops billing); the next frame opens a new one."""
        self._suspended = True
        self._have_frames.set()

    def _backoff(self, attempt: int) -> float:
        base = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)

    def _resend_from(self) -> float:
        """Every frame not covered by a final turn goes to the next session."""
        self._unsent = len(self._frames)
        return self._frames[0].t0_ms if self._frames else 0.0

    def _resend_after(self, final_end_ms: int | None) -> float:
        """Like _resend_from, first dropping frames that finals up to final_end_ms covered."""
        if final_end_ms is not None:
            while self._frames and self._frames[0].t0_ms + len(self._frames[0].pcm) / self._bpms <= final_end_ms:
                self._frames.popleft()
        self._unsent = len(self._frames)
        return self._frames[0].t0_ms if self._frames else float(final_end_ms or 0)

    def _marker(self, kind: str, at_ms: float, duration_ms: float, detail: str) -> None:
        self.emit(ev.MarkerAdded(Marker(kind, int(at_ms), time.time(), int(duration_ms), detail)))

    # ------------------------------------------------------------- one session

    async def _one_session(self, attempt: int) -> _Outcome:
        outcome = _Outcome()
        try:
            ws = await self._connect()
        except InvalidStatus as exc:
            status = exc.response.status_code
            outcome.code = p.UNAUTHORIZED if status in (401, 403) else None
            outcome.reason = f"HTTP {status}" if outcome.code else connect_failure(exc, self.conn.host)
            return outcome
        except (OSError, asyncio.TimeoutError, InvalidURI, websockets.InvalidHandshake) as exc:
            outcome.reason = connect_failure(exc, self.conn.host, self.conn.open_timeout,
                                             tls=self.conn.url.startswith("wss:"))
            return outcome
        clock = SessionClock()
        live = _Live(ws, clock, TurnAssembler(clock, self.conn.format_turns, self._new_index,
                                              self._partial, self._final), outcome)
        live.after_rollover, self._rolled_over = self._rolled_over, False
        self._live = live
        receiver = asyncio.create_task(self._receive(live))
        sender = asyncio.create_task(self._send_audio(live))
        handoff = asyncio.create_task(live.handoff.wait())
        await asyncio.wait({receiver, handoff}, return_when=asyncio.FIRST_COMPLETED)
        handoff.cancel()
        if live.handoff.is_set() and not receiver.done():
            # Rollover: the old session drains its last turns while a new one takes the audio.
            outcome.handoff = True
            self._drains.add(asyncio.create_task(self._drain(live, receiver, sender)))
            return outcome
        await self._end_session(live, receiver, sender)
        return outcome

    async def _connect(self) -> ClientConnection:
        url, headers = await self._endpoint()
        return await connect(url, additional_headers=headers, open_timeout=self.conn.open_timeout,
                             ping_interval=self.conn.ping_interval, ping_timeout=self.conn.ping_timeout,
                             max_size=p.MAX_MESSAGE_BYTES, close_timeout=2)

    async def _drain(self, live: "_Live", receiver: asyncio.Task, sender: asyncio.Task) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(receiver), self.conn.terminate_timeout + 1)
        except asyncio.TimeoutError:
            pass
        await self._end_session(live, receiver, sender)

    async def _end_session(self, live: "_Live", receiver: asyncio.Task, sender: asyncio.Task) -> None:
        for task in (sender, receiver):
            task.cancel()
        results = await asyncio.gather(sender, receiver, return_exceptions=True)
        if self._live is live:
            self._live = None
        await live.ws.close()
        live.assembler.flush()
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, ConnectionClosed):
                raise result  # a bug, not a network fault: let it show

    async def _endpoint(self) -> tuple[str, dict[str, str]]:
        params = dict(self.conn.params)
        headers: dict[str, str] = {}
        if self.conn.temporary_token and self.conn.api_key:
            params["token"] = await asyncio.to_thread(self._mint_token)
        elif self.conn.api_key:
            headers["Authorization"] = self.conn.api_key
        return p.build_url(self.conn.url, params), headers

    def _mint_token(self) -> str:
        import urllib.error  # only with temporary tokens: not loaded before the first frame
        import urllib.request

        req = urllib.request.Request(p.token_url(self.conn.url, 60),
                                     headers={"Authorization": self.conn.api_key})
        try:
            with urllib.request.urlopen(req, timeout=self.conn.open_timeout) as resp:
                return json.loads(resp.read())["token"]
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise InvalidStatus(type("R", (), {"status_code": exc.code})()) from None
            raise OSError(f"token request failed: HTTP {exc.code}") from None
        except (KeyError, ValueError) as exc:
            raise OSError(f"token request gave no token ({exc})") from None

    async def _receive(self, live: "_Live") -> None:
        ticker = _Repeat(0.5, live.assembler.tick)  # a held final's grace is checked on a timer,
        try:  # not by a wait_for (a task and a timer) on every message
            while True:
                frame = await live.ws.recv()
                if self.trace is not None:
                    self.trace("recv", frame)
                if self._handle(live, p.parse_server_message(frame)):
                    return
        except ConnectionClosed as exc:
            rcvd, outcome = exc.rcvd, live.outcome
            if outcome.code is None:  # an Error frame's code is the better one
                outcome.code = rcvd.code if rcvd else 1006
                outcome.reason = outcome.reason or (rcvd.reason if rcvd else "")
        finally:
            ticker.cancel()

    def _handle(self, live: "_Live", msg: p.ServerMessage) -> bool:
        """Handle one server message; True when the session is over."""
        outcome = live.outcome
        match msg:
            case p.Turn():
                live.assembler.feed(msg)
                self._covered(live)
            case p.Begin():
                outcome.began = True
                self._report_gap()
                live.expires_at = self.expires_at = float(msg.expires_at)
                live.began_at = time.time()
                self.emit(ev.SessionBegan(msg.id, float(msg.expires_at), self.conn.host))
                self.emit(ev.StateChanged(ev.LIVE))
                self._check_model(msg.configuration.get("model"))
            case p.Termination():
                live.assembler.flush()
                self._covered(live)
                self.audio_seconds += msg.audio_duration_seconds
                self.session_seconds += msg.session_duration_seconds
                outcome.clean = live.handoff.is_set() or self._finished()
                return True
            case p.ServerError():
                outcome.code, outcome.reason = msg.error_code, msg.error
                if msg.error_code not in RECOVERABLE_CODES:
                    self.emit(ev.Notice("error", f"service error: {p.describe_close(msg.error_code, msg.error)}"))
            case p.SpeakerRevision():
                for turn in live.assembler.revise(msg.revisions):
                    self.emit(ev.TurnRevised(turn))
            case p.SpeechStarted():
                self.emit(ev.SpeechDetected(int(live.clock.to_timeline(msg.timestamp))))
            case p.Heartbeat():
                self.emit(ev.ServiceLoad(msg.realtime_factor))
            case p.Warning():
                log.warning("service warning %s: %s", msg.warning_code, msg.warning)
                self.emit(ev.Notice("warning", f"service warning: {msg.warning} ({msg.warning_code})"))
            case p.Malformed():
                log.warning("ignored a malformed server message: %s", msg.reason)
            case _:
                log.debug("ignored server message %r", msg)
        return False

    def _check_model(self, used: Any) -> None:
        """Say once when the service runs another model than the one asked for (addendum 1)."""
        asked = self.conn.params.get("speech_model")
        if not asked or not isinstance(used, str) or used == asked or self._model_warned:
            return
        self._model_warned = True
        self.model_used = used
        text = f"the service runs {used}, not the requested {asked}"
        log.warning("%s", text)
        self.emit(ev.Notice("warning", text))

    # ------------------------------------------------------------------- audio

    async def _send_audio(self, live: "_Live") -> None:
        """Send unsent frames, paced for backlog; Terminate when the input is done or at rollover."""
        # Woken once a second while idle, so a rollover still happens in a long silence (one
        # timer, not a wait_for per frame).
        nudge = _Repeat(1.0, self._have_frames.set)
        try:
            await self._send_loop(live)
        finally:
            nudge.cancel()

    async def _send_loop(self, live: "_Live") -> None:
        started = time.monotonic()
        min_bytes = int(p.MIN_CHUNK_MS * self._bpms)
        ws, clock = live.ws, live.clock
        while True:
            if self._finished():
                await ws.send(p.TERMINATE)
                self.emit(ev.StateChanged(ev.CLOSING))
                await asyncio.sleep(self.conn.terminate_timeout)
                await ws.close(1000)  # no Termination in time: the session is over anyway
                return
            if self._rollover_now(live):
                # Planned reconnect: the next session gets every frame after this session's
                # last final; this one finishes (Terminate) but its later turns are dropped.
                live.assembler.retire(self._resend_after(live.assembler.last_final_end_ms))
                await ws.send(p.TERMINATE)
                live.handoff.set()
                return
            if not self._unsent:
                self._have_frames.clear()
                await self._have_frames.wait()
                continue
            frame = self._frames[len(self._frames) - self._unsent]
            await self._pace(live, started)
            pcm = frame.pcm if len(frame.pcm) >= min_bytes else frame.pcm.ljust(min_bytes, b"\0")
            await ws.send(pcm)
            if self._on_first_send is not None:
                self._on_first_send()
                self._on_first_send = None
            if self.trace is not None:
                self.trace("sent", frame)
            clock.add(frame.t0_ms, len(pcm) / self._bpms)
            self._unsent -= 1

    def _rollover_now(self, live: "_Live") -> bool:
        """Time to move to a fresh session: close to expiry, at a pause (tui/core/stream/rollover.py)."""
        if not (self.conn.rollover and live.expires_at) or live.handoff.is_set():
            return False
        due = ro.rollover_due(time.time(), live.began_at, live.expires_at, live.assembler.open_turn,
                              self._quiet)
        if due is not None:
            self.rollovers.append(due)
            log.info("rollover at a %s (%.0f ms quiet)", due, self._quiet.quiet_ms)
        return due is not None

    async def _pace(self, live: "_Live", started: float) -> None:
        """Backlog pacing. After a reconnect, catch up with a head start; after a planned
        rollover the backlog is short and is sent with no head start, at most the rate the
        service tolerates (or a little faster than the input itself, for a sped-up file)."""
        rate, lead = self.conn.catchup_rate, self.conn.catchup_lead_ms
        if live.after_rollover:
            rate = min(rate, max(CATCHUP_RATE, 1.25 * ro.input_rate(self._due_times)))
            lead = float(self.chunk_ms)
        allowed = (time.monotonic() - started) * 1000.0 * rate + lead
        if live.clock.sent_ms > allowed:
            await asyncio.sleep((live.clock.sent_ms - allowed) / 1000.0 / rate)

    def _covered(self, live: "_Live") -> None:
        """Drop frames that final turns have covered: they never need sending again."""
        end = live.assembler.last_final_end_ms
        if end is None or live.assembler.open_turn:
            return
        sent = len(self._frames) - self._unsent
        while sent and self._frames[0].t0_ms + len(self._frames[0].pcm) / self._bpms <= end:
            self._frames.popleft()
            sent -= 1

    # ------------------------------------------------------------------ turns

    def _new_index(self) -> int:
        self._turn_index += 1
        return self._turn_index - 1

    def _partial(self, words: list[ev.LiveWord]) -> None:
        self.emit(ev.PartialTurn(words))

    def _final(self, turn: FinalTurn) -> None:
        self.last_latency_ms = self._latency(turn.end_ms)
        self.emit(ev.TurnFinal(turn, self.last_latency_ms))

    def _latency(self, end_ms: float) -> float | None:
        """Capture time of the turn's last word to now."""
        for t0, t1, due in reversed(self._due_times):
            if t0 <= end_ms <= t1:
                return max(0.0, (time.monotonic() - (due - (t1 - end_ms) / 1000.0)) * 1000.0)
        return None
