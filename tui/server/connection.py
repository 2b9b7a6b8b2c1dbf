"""One v3 websocket session: admission, Begin, audio, control messages, Termination, errors.

Recognizer calls run in a per-session worker thread, one at a time and in order, so a slow
engine never blocks the event loop that serves the other sessions. The reader awaits each
call before reading the next frame, which keeps audio and control messages in order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from tui.core.stream import protocol as p
from tui.server.options import ServerConfig
from tui.server.faults import Faults, error_text
from tui.server.params import InputError, SessionParams, apply_updates, parse_params
from tui.server.client_audio import ClientAudio
from tui.server.recognizer import Engine, Recognizer
from tui.server.tokens import TokenIssuer, Unauthorized, authorize
from tui.server.endpointing import TurnDetector, TurnSettings

log = logging.getLogger("tui.server")

API_VERSION = "2025-05-12"
EXPIRED_TEXT = "Session Expired: Maximum session duration exceeded"
INACTIVE_TEXT = "Session Cancelled: Inactivity timeout exceeded"
CRASHED_TEXT = "Session Cancelled: An error occurred"


@dataclasses.dataclass(slots=True)
class SessionRules:
    """What the server decides for every session: its settings, engine, tokens and faults."""

    engine: Engine
    issuer: TokenIssuer
    config: ServerConfig
    faults: Faults = dataclasses.field(default_factory=Faults)  # this session's share of config.faults


class Session:
    def __init__(self, ws: ServerConnection, rules: SessionRules) -> None:
        self.ws = ws
        self.rules = rules
        self.id = str(uuid.uuid4())
        self._t0 = time.monotonic()
        self._last_activity = self._t0
        self._audio_ms = 0.0
        self._closed = False
        self._begun = asyncio.Event()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"session-{self.id[:8]}")
        self._recognizer: Recognizer | None = None
        self._params: SessionParams
        self._detector: TurnDetector
        self._input: ClientAudio

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        tasks: list[asyncio.Task] = []
        try:
            limit = self._admit()
            self._recognizer = await self._in_worker(
                self.rules.engine.new_recognizer, self._params.sample_rate
            )
            self._input = ClientAudio(
                self._params.encoding, self._params.sample_rate, self._recognizer.sample_rate
            )
            tasks = self._start_timers(limit)
            await self._read()
        except (Unauthorized, InputError) as exc:
            code = p.UNAUTHORIZED if isinstance(exc, Unauthorized) else p.BAD_INPUT
            prefix = "Unauthorized Connection: " if code == p.UNAUTHORIZED else ""
            await self.fail(code, prefix + str(exc))
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("session %s failed", self.id)
            await self.fail(p.SERVER_ERROR, CRASHED_TEXT)
        finally:
            for task in tasks:
                task.cancel()
            self._shutdown_worker()
            log.info("session %s ended after %.1f s of audio", self.id, self._audio_ms / 1000)

    def _admit(self) -> float:
        """Check credentials and parameters; return the session's time limit in seconds."""
        query = parse_qs(urlsplit(self.ws.request.path).query, keep_blank_values=True)
        token = query.get("token", [None])[0]
        auth = next(iter(self.ws.request.headers.get_all("Authorization")), None)
        claims = authorize(auth, token, self.rules.config.api_key, self.rules.issuer)
        self._params = parse_params(query)
        self._detector = TurnDetector(self._turn_settings())
        limit = self.rules.config.max_session_s
        return min(limit, claims.max_session_s) if claims else limit

    def _turn_settings(self) -> TurnSettings:
        prm = self._params
        return TurnSettings(
            end_of_turn_confidence_threshold=prm.end_of_turn_confidence_threshold,
            min_turn_silence=prm.min_turn_silence,
            max_turn_silence=prm.max_turn_silence,
            format_turns=prm.format_turns,
            in_model_formatting=self.rules.config.in_model_formatting,
            pro=prm.pro,
            speaker_labels=prm.speaker_labels,
            language_detection=prm.language_detection,
        )

    def _start_timers(self, limit: float) -> list[asyncio.Task]:
        tasks = [
            asyncio.create_task(self._begin(limit)),
            asyncio.create_task(self._expire(limit)),
        ]
        if self._params.session_heartbeat:
            tasks.append(asyncio.create_task(self._heartbeat()))
        if self._params.inactivity_timeout:
            tasks.append(asyncio.create_task(self._watch_inactivity(self._params.inactivity_timeout)))
        return tasks

    def _shutdown_worker(self) -> None:
        if self._recognizer is not None:
            self._worker.submit(self._recognizer.close)
        self._worker.shutdown(wait=False)

    async def _in_worker(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._worker, fn, *args)

    # --------------------------------------------------------------------- timers

    async def _begin(self, limit: float) -> None:
        try:
            await asyncio.sleep(self.rules.config.begin_delay_s)
            config = {"model": self._params.speech_model, "api_version": API_VERSION,
                      "engine": self.rules.engine.model}
            begin = p.Begin(self.id, int(time.time() + limit), config)
            await self.ws.send(p.to_json(begin))
        except ConnectionClosed:
            pass
        finally:
            self._begun.set()  # never leave a sender waiting on a dead connection

    async def _heartbeat(self) -> None:
        """With session_heartbeat: every 5 s of wall time, how fast audio arrives (addendum 3)."""
        while not self._closed:
            await asyncio.sleep(self.rules.config.heartbeat_s)
            wall_ms = (time.monotonic() - self._t0) * 1000
            rtf = self._audio_ms / wall_ms if wall_ms else 0.0
            await self._send(p.Heartbeat(round(self._audio_ms), round(wall_ms), round(rtf, 4), 0.0))

    async def _expire(self, limit: float) -> None:
        await asyncio.sleep(limit)
        await self.fail(p.EXPIRED, EXPIRED_TEXT)

    async def _watch_inactivity(self, timeout: float) -> None:
        while (idle := time.monotonic() - self._last_activity) < timeout:
            await asyncio.sleep(timeout - idle)
        await self.fail(self.rules.config.inactivity_close_code, INACTIVE_TEXT)

    # ---------------------------------------------------------------------- sends

    async def _send(self, msg: p.Begin | p.Turn | p.Termination | p.SpeechStarted | p.SpeakerRevision
                    | p.Heartbeat) -> None:
        await self._begun.wait()  # nothing goes out before Begin
        await self.ws.send(p.to_json(msg))

    async def fail(self, code: int, text: str) -> None:
        """Send an Error frame and close with its code (once; later calls do nothing)."""
        if self._closed:
            return
        self._closed = True
        log.info("session %s: closing %d: %s", self.id, code, text)
        try:
            await self.ws.send(p.to_json(p.ServerError(code, text)))
            await self.ws.close(code, p.CLOSE_REASON_LONG)
        except ConnectionClosed:
            pass

    # ---------------------------------------------------------------------- input

    async def _read(self) -> None:
        async for message in self.ws:
            self._last_activity = time.monotonic()
            if isinstance(message, bytes):
                done = await self._on_audio(message)
            else:
                done = await self._on_text(message)
            if done or self._closed:
                return

    async def _on_audio(self, data: bytes) -> bool:
        ms = len(data) / p.bytes_per_ms(self._params.sample_rate, self._params.encoding)
        if not p.MIN_CHUNK_MS <= ms <= p.MAX_CHUNK_MS:
            await self.fail(
                p.BAD_AUDIO,
                f"Input Duration Error: Input Duration Violation: {ms:.1f} ms. "
                f"Expected between {p.MIN_CHUNK_MS} and {p.MAX_CHUNK_MS} ms",
            )
            return True
        self._audio_ms += ms
        if await self._rate_exceeded() or await self._inject_faults():
            return True
        for turn in await self._in_worker(self._step, data, int(self._audio_ms)):
            await self._send(turn)
        return False

    async def _rate_exceeded(self) -> bool:
        wall_s = time.monotonic() - self._t0
        audio_s = self._audio_ms / 1000
        if audio_s - wall_s <= self.rules.config.rate_buffer_s:
            return False
        await self.fail(
            p.BAD_AUDIO,
            f"Audio Transmission Rate Exceeded: Received {audio_s:.1f} sec. audio in {wall_s:.6f} sec",
        )
        return True

    async def _inject_faults(self) -> bool:
        faults = self.rules.faults
        if faults.drop_after_audio_ms is not None and self._audio_ms >= faults.drop_after_audio_ms:
            log.info("session %s: fault: dropping the connection", self.id)
            self._closed = True
            self.ws.transport.abort()
            return True
        if faults.error_after_audio_ms is not None and self._audio_ms >= faults.error_after_audio_ms:
            await self.fail(faults.error_code, error_text(faults.error_code))
            return True
        return False

    def _step(self, data: bytes, audio_ms: int) -> list[p.Turn | p.SpeechStarted]:
        """Worker thread: feed audio, emit the partial, end the turn when it is due."""
        assert self._recognizer is not None
        pcm = self._input.convert(data)
        turns = self._detector.observe(self._recognizer.accept(pcm) if pcm else None)
        if self._detector.due(audio_ms):
            turns += self._detector.finish(self._recognizer.finalize())
        return turns

    def _finalize(self) -> list[p.Turn]:
        assert self._recognizer is not None
        return self._detector.finish(self._recognizer.finalize())

    # ------------------------------------------------------------- control messages

    async def _on_text(self, text: str) -> bool:
        try:
            msg = json.loads(text)
        except (ValueError, RecursionError):
            await self.fail(p.BAD_INPUT, f"Invalid JSON: {text[:200]}")
            return True
        if not isinstance(msg, dict):
            await self.fail(p.BAD_INPUT, f"Invalid Message: {text[:200]}")
            return True
        kind = msg.get("type")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self.fail(p.BAD_INPUT, f"Invalid Message Type: {kind}")
            return True
        return await handler(self, msg)

    async def _terminate(self, _msg: dict) -> bool:
        faults = self.rules.faults
        if faults.ignore_terminate:
            log.info("session %s: fault: ignoring Terminate", self.id)
            return False
        final_turns = await self._in_worker(self._finalize)
        self._closed = True  # from here on, a timer's Error must not cut in
        for turn in final_turns:
            await self._send(turn)
        if (revision := self._detector.revisions()) is not None:
            await self._send(revision)  # the end-of-session speaker pass, right before Termination
        await asyncio.sleep(faults.termination_delay_s)
        wall_s = time.monotonic() - self._t0
        await self._send(p.Termination(math.ceil(round(self._audio_ms) / 1000), int(wall_s)))
        await self.ws.close(p.NORMAL, "Session Ended")
        return True

    async def _force_endpoint(self, _msg: dict) -> bool:
        for turn in await self._in_worker(self._finalize):
            await self._send(turn)
        return False

    async def _update_configuration(self, msg: dict) -> bool:
        params = dataclasses.replace(self._params)  # all fields apply, or none
        try:
            apply_updates(params, msg)
        except InputError as exc:
            # No response is documented: keep the session, note the bad field.
            log.warning("session %s: UpdateConfiguration ignored: %s", self.id, exc)
            return False
        self._params = params
        settings = self._turn_settings()
        await self._in_worker(setattr, self._detector, "settings", settings)
        return False

    async def _keep_alive(self, _msg: dict) -> bool:
        return False  # reading it already reset the inactivity timer

    _handlers = {
        "Terminate": _terminate,
        "ForceEndpoint": _force_endpoint,
        "UpdateConfiguration": _update_configuration,
        "KeepAlive": _keep_alive,
    }
