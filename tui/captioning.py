"""One captioning run: audio source -> streaming client -> transcript, journal, recording.

Front ends (the Textual app, the headless printer) create a CaptionSession, give it an
`emit` callback for events, and call run(). Everything a person could lose lives here:
finished turns go to the journal the moment they are final.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tui import __version__
from tui.config import Settings
from tui.core.stream import events as ev
from tui.core.stream import protocol as p
from tui.core.audio.source import AudioError, AudioSource, Frame
from tui.core.audio.inputs import open_source
from tui.core.stream.client import Connection, StreamError, StreamingClient
from tui.core.transcript.formats import ExportError
from tui.core.transcript.journal import Journal, default_sessions_dir
from tui.core.audio.recorder import WavRecorder
from tui.core.transcript.model import Marker, SessionInfo, Transcript
from tui.service_params import connection_params, ignored_settings, max_turn_silence

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
LOCAL_CATCHUP_RATE = 4.0
# Silence sent on pause beyond max_turn_silence: the last word may still be in progress.
PAUSE_PAD_MS = 700
LOCAL_CATCHUP_LEAD_MS = 60_000.0


@dataclass
class RunOptions:
    """What this run captions and where it writes, beyond the settings."""

    input: str | None = None  # None: microphone from settings; "-": stdin; a path; a device
    stdin_rate: int = 16000
    output: Path | None = None  # transcript written at the end (format from the extension)
    speed: float = 1.0  # file pacing, only for tests and benchmarks against the local server
    journal_dir: Path | None = None
    local_args: tuple[str, ...] = field(default_factory=tuple)  # extra `captioner serve` flags
    share: object | None = None  # a tui.share.address.ShareSpec: serve the captions while running
    meter: bool = True  # False: nothing shows the input levels (headless), so none are measured


@dataclass(slots=True)
class Status:
    """A snapshot for the status bar; cheap to take at the UI's repaint rate."""

    engine: str
    endpoint: str
    state: str
    detail: str
    attempt: int  # reconnect attempt, while reconnecting
    started: float  # monotonic
    expires_at: float | None
    device: str
    device_rate: int
    dropped: int
    overflows: int
    latency_ms: float | None
    progress: tuple[float, float] | None
    realtime_factor: float | None = None
    model_used: str | None = None  # only when the service runs another model than asked


class SetupError(Exception):
    """Bad input or settings found before streaming: exit status 2."""


def resolve_engine(settings: Settings) -> str:
    """'assemblyai', 'local' or 'url' (a given endpoint)."""
    engine = settings["service.engine"]
    if settings["service.url"]:
        return "url"
    if engine == "auto":
        return "assemblyai" if settings.api_key else "local"
    if engine == "assemblyai" and not settings.api_key:
        raise SetupError("service.engine is assemblyai but no API key is set: "
                         "export ASSEMBLYAI_API_KEY=... (or use engine = local)")
    return engine


class Broadcaster:
    """What one session and a call of two have in common: events go to the front end first,
    then to any added listener; at the end the journal footer and --output are written."""

    def __init__(self, emit: Callable[[ev.Event], None]) -> None:
        self._listeners = [emit]

    def add_listener(self, listener: Callable[[ev.Event], None]) -> None:
        """Another receiver of every event (the share server), after the front end's."""
        self._listeners.append(listener)

    def _emit(self, event: ev.Event) -> None:
        self._listeners[0](event)
        for listener in self._listeners[1:]:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a viewer-side bug must not stop the captions
                log.exception("event listener failed")

    def _fail(self, message: str, code: int, notify: bool = True) -> int:
        if notify:
            self._emit(ev.Notice("error", message))
        return code

    def _write_out(self, client: StreamingClient | None, code: int) -> int:
        """The journal's footer, then the --output file; an export that fails fails the run."""
        if self.journal:
            try:
                self.journal.close(client.audio_seconds if client else None,
                                   client.session_seconds if client else None)
            except OSError as exc:
                self._emit(ev.Notice("error", f"journal footer not written: {exc.strerror}"))
        if self.options.output:
            try:
                path = self.save(self.options.output)
                self._emit(ev.Notice("information", f"transcript saved to {path}"))
            except ExportError as exc:
                code = self._fail(f"{exc} (the journal {self.journal_path} keeps the transcript)",
                                  code or EXIT_FAILED)
        return code


class CaptionSession(Broadcaster):
    def __init__(self, settings: Settings, emit: Callable[[ev.Event], None],
                 options: RunOptions | None = None) -> None:
        super().__init__(emit)
        self.settings = settings
        self.options = options or RunOptions()
        self.engine = resolve_engine(settings)
        self.source: AudioSource | None = None
        self.client: StreamingClient | None = None
        self.journal: Journal | None = None
        self.transcript = Transcript(SessionInfo(secrets.token_hex(16), time.time(), self.engine, "", "", __version__))
        self.paused = False
        self._pause_started: tuple[float, float] | None = None  # (timeline ms, wall time)
        self._pause_timer: asyncio.TimerHandle | None = None
        self._timeline_ms = 0.0
        self._state, self._detail, self._attempt = ev.STARTING, "", 0
        self._endpoint, self._expires_at, self._latency_ms = "", None, None
        self._realtime_factor: float | None = None  # from Heartbeat, when asked for
        self._started = time.monotonic()
        self._recorder: WavRecorder | None = None
        self._server = None
        self.audio_error: str | None = None
        self._early: list[Frame] = []  # captured before the client existed (engine loading)
        self._input_ended = False
        self._capture: asyncio.Task | None = None
        self.source_tag: str | None = None  # "mic"/"system": stamped on turns and partials
        # Start-up no longer needs the CPU: the first audio frame has gone out, the offline
        # engine is loading (in its own process), or the run ended. The full screen imports
        # Textual after this, so that import does not delay the first frame (tui/early_start.py).
        self.started_up = asyncio.Event()

    # ------------------------------------------------------------ front end API

    def pause(self) -> None:
        if self.paused:
            return
        self.paused = True
        self._pause_started = (self._timeline_ms, time.time())
        if self.client:  # what was said before the pause is captioned now, not after it
            silence = self.client.end_turn_with_silence(max_turn_silence(self.settings) + PAUSE_PAD_MS)
            if self._recorder:
                self._recorder.write(silence)
        self._emit_state(ev.PAUSED)
        loop = asyncio.get_running_loop()
        self._pause_timer = loop.call_later(self.settings["service.pause_close_after_s"], self._suspend)

    def resume(self) -> None:
        if not self.paused:
            return
        self.paused = False
        if self._pause_timer:
            self._pause_timer.cancel()
        self._end_pause_marker()
        self._emit_state(ev.LIVE if self.client and self.client.connected else ev.CONNECTING)

    def toggle_pause(self) -> None:
        self.resume() if self.paused else self.pause()

    def force_endpoint(self) -> None:
        if self.client:
            self.client.force_endpoint()

    def stop(self) -> None:
        """Finish cleanly: stop capture, flush the last turns, Terminate. Thread-safe via the loop."""
        if self.source:
            self.source.stop()
        if self.client:
            self.client.stop()

    def levels(self, since: float | None = None):
        """The input level now (the loudest block after `since`, a monotonic time, if given);
        None once capture has ended (nothing to show)."""
        if self.source is None or self.source.stopped:
            return None
        return self.source.levels.snapshot(since=since)

    def status(self) -> Status:
        src, cl = self.source, self.client
        return Status(
            engine={"local": "offline engine", "url": "custom endpoint"}.get(self.engine, "AssemblyAI"),
            endpoint=self._endpoint, state=self._state, detail=self._detail, attempt=self._attempt,
            started=self._started, expires_at=self._expires_at,
            device=src.name if src else "", device_rate=src.device_rate if src else 0,
            dropped=cl.frames_dropped if cl else 0, overflows=src.overflows if src else 0,
            latency_ms=self._latency_ms, progress=src.progress if src else None,
            realtime_factor=self._realtime_factor, model_used=cl.model_used if cl else None,
        )

    def save(self, path: Path, fmt: str | None = None) -> Path:
        from tui.core.transcript.exports import write_export  # not needed to start

        return write_export(self.transcript, path, fmt, timestamps=self.settings["output.timestamps"])

    # --------------------------------------------------------------------- run

    async def run(self) -> int:
        """Caption until the input ends or stop(); returns the exit status."""
        code = EXIT_FAILED
        try:
            await self._setup()
            await self.client.run()  # type: ignore[union-attr]
            code = self._fail(self.audio_error, EXIT_FAILED, notify=False) if self.audio_error else EXIT_OK
        except (SetupError, AudioError) as exc:
            code = self._fail(str(exc), EXIT_BAD_INPUT)
        except StreamError as exc:
            code = self._fail(str(exc), EXIT_FAILED)
        except Exception as exc:  # noqa: BLE001 - never die silently
            log.exception("session failed")
            code = self._fail(f"internal error: {type(exc).__name__}: {exc}", EXIT_FAILED)
        finally:
            self.started_up.set()
            code = await self._teardown(code)
        self._emit(ev.Finished(code, (self.audio_error or self._detail) if code else ""))
        return code

    async def _setup(self) -> None:
        opts, s = self.options, self.settings
        spec = opts.input if opts.input is not None else (str(s["audio.device"]) or None)
        self.source = open_source(spec, rate=s["audio.sample_rate"], chunk_ms=s["audio.chunk_ms"],
                                  speed=opts.speed, stdin_rate=opts.stdin_rate,
                                  device_rate=s["audio.device_rate"] or None)
        self.source.levels.enabled = opts.meter
        if hasattr(self.source, "on_change"):  # system audio: its output came, went or changed
            self.source.on_change = lambda level, text: self._emit(ev.Notice(level, text))
        self._capture = asyncio.create_task(self._pull())
        url = s["service.url"] or p.cloud_url(s["service.region"])
        if self.engine == "local":
            self.started_up.set()
            url = await self._start_local()
        conn = Connection(url, connection_params(s), s.api_key if self.engine != "local" else "",
                          temporary_token=s["service.temporary_token"], insecure=s["service.insecure"])
        if self.engine == "local" or opts.speed > 1:
            # Our own server keeps up faster than real time and tolerates minutes of lead.
            conn.catchup_rate = max(LOCAL_CATCHUP_RATE, opts.speed * 1.5)
            conn.catchup_lead_ms = LOCAL_CATCHUP_LEAD_MS
        for warning in ignored_settings(s):
            log.warning("%s", warning)
            self._emit(ev.Notice("warning", warning))
        self.client = StreamingClient(conn, self.on_stream_event, buffer_s=s["service.reconnect_buffer_s"],
                                      chunk_ms=s["audio.chunk_ms"], on_first_send=self.started_up.set)
        for frame in self._early:  # what was said while the engine loaded
            self.client.push(frame)
        self._early = []
        if self._input_ended:
            self.client.end_input()
        info = self.transcript.info
        info.input, info.endpoint = self.source.name, conn.host
        self._endpoint = conn.host
        info.model = "moonshine-tiny-en" if self.engine == "local" else s["service.speech_model"]
        self._open_journal()
        if s["audio.record"]:
            self._recorder = WavRecorder(Path(s["audio.record"]).expanduser(), s["audio.sample_rate"])

    async def _start_local(self) -> str:
        from tui.local_engine import EmbeddedServer, EmbeddedServerError

        self._emit_state(ev.LOADING)
        self._server = EmbeddedServer(threads=self.settings["service.local_threads"],
                                      extra_args=self.options.local_args)
        try:
            return await self._server.start()
        except EmbeddedServerError as exc:
            raise StreamError(str(exc)) from None

    def _open_journal(self) -> None:
        directory = self.options.journal_dir or default_sessions_dir()
        try:
            self.journal = Journal.create(directory, self.transcript.info)
        except OSError as exc:
            self._emit(ev.Notice("error", f"cannot write the session journal in {directory}: "
                                          f"{exc.strerror}; save before quitting"))

    async def _pull(self) -> None:
        """Capture from the start, also while the engine loads: nothing said is lost."""
        levels = ev.LevelsChanged()
        bytes_per_ms = 2 * self.source.rate / 1000  # type: ignore[union-attr]
        try:
            async for frame in self.source.frames():  # type: ignore[union-attr]
                self._timeline_ms = frame.t0_ms + len(frame.pcm) / bytes_per_ms
                if not self.paused:
                    if self._recorder:
                        self._recorder.write(frame.pcm)
                    self._hand_over(frame)
                self._emit(levels)
        except AudioError as exc:
            # The device went away mid-session: keep what we have, end cleanly.
            self.audio_error = str(exc)
            self._emit(ev.Notice("error", str(exc)))
        finally:
            self._input_ended = True
            if self.client:
                self.client.end_input()

    def _hand_over(self, frame: Frame) -> None:
        """A frame to stream (not paused), to the client, or kept until it exists."""
        if self.client:
            self.client.push(frame)
        else:
            self._early.append(frame)

    def _suspend(self) -> None:
        if self.paused and self.client:
            self.client.suspend()

    def _end_pause_marker(self) -> None:
        if self._pause_started:
            at, wall = self._pause_started
            self._pause_started = None
            self._record(Marker("pause", int(at), wall, int(self._timeline_ms - at)))

    # ------------------------------------------------------------------ events

    def on_stream_event(self, event: ev.Event) -> None:
        """The streaming client's callback: keep the state status() reports, record, forward."""
        if self.source_tag and isinstance(event, (ev.TurnFinal, ev.PartialTurn)):
            _tag(event, self.source_tag)
        if isinstance(event, ev.TurnFinal):
            self._record(event.turn, forward=False)
            if event.latency_ms is not None:
                self._latency_ms = event.latency_ms
        elif isinstance(event, ev.TurnRevised):
            self._revise(event.turn)
        elif isinstance(event, ev.ServiceLoad):
            self._realtime_factor = event.realtime_factor
        elif isinstance(event, ev.SessionBegan):
            self._endpoint, self._expires_at = event.endpoint, event.expires_at
        elif isinstance(event, ev.MarkerAdded):
            self._record(event.marker, forward=False)
        elif isinstance(event, ev.StateChanged):
            if self.paused and event.state == ev.LIVE:
                return  # a resumed connection while still paused stays "paused"
            self._state, self._detail, self._attempt = event.state, event.detail, event.attempt
        self._emit(event)

    def _record(self, entry, forward: bool = True) -> None:
        """Transcript and journal first, then the screen: a crash after this loses nothing."""
        self.transcript.add(entry)
        if self.journal and not self.journal.closed:
            try:
                self.journal.append(entry)
            except OSError as exc:
                self._emit(ev.Notice("error", f"journal write failed: {exc.strerror}"))
        if forward:
            self._emit(ev.MarkerAdded(entry))

    def _revise(self, turn) -> None:
        """Corrected speakers of a final turn: transcript, then an appended journal record."""
        self.transcript.add(turn)
        self._journal_write(lambda j: j.append_revision(turn))

    def rename_speaker(self, label: str, name: str) -> None:
        """A person named a speaker: kept in the transcript and the journal, shown everywhere."""
        self.transcript.speaker_names[label] = name
        self._journal_write(lambda j: j.append_name(label, name), after_close=True)
        self._emit(ev.SpeakerRenamed(label, name))

    def _journal_write(self, write, after_close: bool = False) -> None:
        if self.journal and (after_close or not self.journal.closed):
            try:
                write(self.journal)
            except OSError as exc:
                self._emit(ev.Notice("error", f"journal write failed: {exc.strerror}"))

    def _emit_state(self, state: str, detail: str = "") -> None:
        self._state, self._detail, self._attempt = state, detail, 0
        self._emit(ev.StateChanged(state, detail))

    def report_crash(self, reason: str) -> ev.Finished:
        """run() itself failed (a bug): the state says so, and this is its Finished."""
        self._state, self._detail = ev.ERROR, reason
        return ev.Finished(EXIT_FAILED, reason)

    def _fail(self, message: str, code: int, notify: bool = True) -> int:
        self._emit_state(ev.ERROR, message)
        return super()._fail(message, code, notify)

    async def _teardown(self, code: int) -> int:
        if self.paused:
            self._end_pause_marker()
        if self._pause_timer:
            self._pause_timer.cancel()
        if self.source:
            self.source.stop()
        if self._capture:
            try:
                await asyncio.wait_for(self._capture, 2.0)
            except (asyncio.TimeoutError, AudioError):
                pass  # a wedged device must not hold up saving the transcript
        if self._recorder:
            self._recorder.close()
        if self._server:
            await self._server.stop()
        return self._write_out(self.client, code)

    @property
    def journal_path(self) -> Path | None:
        return self.journal.path if self.journal else None


def _tag(event: ev.TurnFinal | ev.PartialTurn, source: str) -> None:
    if isinstance(event, ev.TurnFinal):
        event.turn.source = source
    else:
        event.source = source
