"""A call: the microphone ("You") and the system audio ("Them") captioned side by side.

The v3 service has no multichannel option, so each source streams to its own session: a
Leg is a CaptionSession with its own source, client, reconnects, rollover and pause state.
The CallSession gives both one transcript and one journal, numbers their turns in one
sequence, shares one offline engine between them, and hides the mic's echoes of the
system audio (tui.core.transcript.echo). It offers the front ends CaptionSession's API.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tui import __version__
from tui.captioning import (EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, Broadcaster, CaptionSession, RunOptions,
                            SetupError, Status)
from tui.config import Settings
from tui.core.audio.inputs import SYSTEM
from tui.core.stream import events as ev
from tui.core.audio.levels import block_levels
from tui.core.audio.source import Frame
from tui.core.stream.client import StreamError
from tui.core.transcript.echo import EchoDetector
from tui.core.transcript.journal import Journal, default_sessions_dir
from tui.core.transcript.model import FinalTurn, Marker, SessionInfo, Transcript

MIC = "mic"
ECHO_WAIT_S = 4.0  # a mic turn spoken while the system audio sounded waits this long for it
SOUND_DBFS = -50.0  # system audio louder than this could be heard by the microphone
SOUND_KEPT = 1200  # frames of the system audio's loudness remembered (60 s of 50 ms frames)


def system_spec(setting: str) -> str:
    """The input spec for audio.system_audio (on: the default output, else an output's name)."""
    return SYSTEM if setting == "on" else f"{SYSTEM}:{setting}"


def make_session(settings: Settings, emit: Callable[[ev.Event], None],
                 options: RunOptions | None = None) -> CaptionSession | CallSession:
    """The session the settings and options ask for: one source, or the mic and the system."""
    options = options or RunOptions()
    wanted = settings["audio.system_audio"]
    if options.input == SYSTEM:
        options = dataclasses.replace(options, input=system_spec(wanted if wanted != "off" else "on"))
    if wanted == "off" or (options.input or "").startswith(SYSTEM):
        session = CaptionSession(settings, emit, options)
        if (options.input or "").startswith(SYSTEM):
            session.source_tag = SYSTEM
        return session
    return CallSession(settings, emit, options)


class Leg(CaptionSession):
    """One source of a call: streams on its own, records into the call's transcript."""

    def __init__(self, call: CallSession, tag: str, settings: Settings, options: RunOptions) -> None:
        super().__init__(settings, lambda event: call.from_leg(self, event), options)
        self.call = call
        self.source_tag = tag
        self.origin_ms: float | None = None  # monotonic ms of this source's timeline 0

    def on_stream_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.TurnFinal):
            event = ev.TurnFinal(self.call.number(self, event.turn), event.latency_ms)
        super().on_stream_event(event)

    def _record(self, entry, forward: bool = True) -> None:
        self.call.record(self, entry, forward)

    def _open_journal(self) -> None:
        self.call.leg_ready()

    def _hand_over(self, frame: Frame) -> None:
        per_ms = 2 * self.settings["audio.sample_rate"] / 1000
        # Where the timeline's 0 is on the monotonic clock: the earliest estimate holds
        # (audio handed over late, or in a burst, only makes a later one).
        origin = frame.due * 1000 - (frame.t0_ms + len(frame.pcm) / per_ms)
        self.origin_ms = origin if self.origin_ms is None else min(self.origin_ms, origin)
        if self.source_tag == SYSTEM:
            self.call.system_sounded(frame)
        super()._hand_over(frame)

    async def _start_local(self) -> str:
        self._emit_state(ev.LOADING)
        return await self.call.local_url()


class CallSession(Broadcaster):
    def __init__(self, settings: Settings, emit: Callable[[ev.Event], None],
                 options: RunOptions | None = None) -> None:
        super().__init__(emit)
        self.settings, self.options = settings, options or RunOptions()
        self.names = {MIC: settings["audio.mic_name"], SYSTEM: settings["audio.system_name"]}
        quiet = Settings(values={**settings.values, "audio.record": ""}, keymap=settings.keymap)
        leg_opts = dataclasses.replace(self.options, output=None)
        self.legs = [Leg(self, MIC, settings, leg_opts),
                     Leg(self, SYSTEM, quiet, dataclasses.replace(
                         leg_opts, input=system_spec(settings["audio.system_audio"])))]
        self.engine = self.legs[0].engine
        self.transcript = Transcript(SessionInfo(secrets.token_hex(16), time.time(), self.engine, "", "",
                                                 __version__, sources=dict(self.names)))
        self.journal: Journal | None = None
        self.echo = EchoDetector() if settings["audio.suppress_echo"] else None
        self._numbers: dict[tuple[str, int], int] = {}
        self._held: list[tuple[float, ev.TurnFinal]] = []  # (until when, mic turn) waiting for
        # the system turn beside them
        self._speaking: dict[str, bool] = {}
        self._sounded: deque[tuple[float, float]] = deque(maxlen=SOUND_KEPT)  # loud system spans, ms
        self._ready = 0
        self._server = None
        self._server_task: asyncio.Task | None = None
        self.audio_error: str | None = None

    # ------------------------------------------------------------ front end API

    @property
    def primary(self) -> Leg:
        return self.legs[0]

    @property
    def source(self):
        return self.primary.source

    @property
    def started_up(self) -> asyncio.Event:
        return self.primary.started_up

    @property
    def sources(self) -> list[tuple[str, str]]:
        """(source tag, its name) for each source, the microphone first."""
        return [(leg.source_tag, self.names[leg.source_tag]) for leg in self.legs]

    @property
    def paused(self) -> bool:
        return self.primary.paused

    def pause(self) -> None:
        for leg in self.legs:
            leg.pause()

    def resume(self) -> None:
        for leg in self.legs:
            leg.resume()

    def toggle_pause(self) -> None:
        self.resume() if self.paused else self.pause()

    def force_endpoint(self) -> None:
        for leg in self.legs:
            leg.force_endpoint()

    def stop(self) -> None:
        for leg in self.legs:
            leg.stop()

    def levels(self, tag: str = MIC, since: float | None = None):
        """A source's input level now (see CaptionSession.levels); None before and after its capture."""
        leg = next(leg for leg in self.legs if leg.source_tag == tag)
        return leg.levels(since) if leg.source is not None else None

    def status(self) -> Status:
        st = [leg.status() for leg in self.legs]
        return dataclasses.replace(st[0], device=" + ".join(s.device for s in st if s.device),
                                   dropped=sum(s.dropped for s in st),
                                   overflows=sum(s.overflows for s in st))

    def save(self, path: Path, fmt: str | None = None) -> Path:
        from tui.core.transcript.exports import write_export  # not needed to start

        return write_export(self.transcript, path, fmt, timestamps=self.settings["output.timestamps"])

    def report_crash(self, reason: str) -> ev.Finished:
        return self.primary.report_crash(reason)

    @property
    def journal_path(self) -> Path | None:
        return self.journal.path if self.journal else None

    # --------------------------------------------------------------------- run

    async def run(self) -> int:
        """Both legs until either ends (then the other is stopped); the first failure wins."""
        tasks = [asyncio.create_task(leg.run()) for leg in self.legs]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        self.stop()
        codes = await asyncio.gather(*tasks, return_exceptions=True)
        code, reason = self._outcome(codes)
        code = await self._teardown(code)
        self._emit(ev.Finished(code, reason if code else ""))
        return code

    def _outcome(self, codes: list) -> tuple[int, str]:
        for leg, code in zip(self.legs, codes):
            if isinstance(code, BaseException):
                return EXIT_FAILED, f"internal error: {type(code).__name__}: {code}"
            if code:
                self.audio_error = self.audio_error or leg.audio_error
                return code, leg.audio_error or leg.status().detail
        return EXIT_OK, ""

    async def local_url(self) -> str:
        """The one offline engine both legs stream to (started by whichever asks first)."""
        if self._server_task is None:
            self._server_task = asyncio.ensure_future(self._start_server())
        return await asyncio.shield(self._server_task)

    async def _start_server(self) -> str:
        from tui.local_engine import EmbeddedServer, EmbeddedServerError

        self._server = EmbeddedServer(threads=self.settings["service.local_threads"],
                                      extra_args=self.options.local_args)
        try:
            return await self._server.start()
        except EmbeddedServerError as exc:
            raise StreamError(str(exc)) from None

    def leg_ready(self) -> None:
        self._ready += 1
        if self._ready == len(self.legs):
            self._open_journal()

    def _open_journal(self) -> None:
        if self.journal is not None:
            return
        info, first = self.transcript.info, self.primary.transcript.info
        info.input = " + ".join(leg.transcript.info.input for leg in self.legs if leg.transcript.info.input)
        info.endpoint, info.model = first.endpoint, first.model
        directory = self.options.journal_dir or default_sessions_dir()
        try:
            self.journal = Journal.create(directory, info)
        except OSError as exc:
            self._emit(ev.Notice("error", f"cannot write the session journal in {directory}: "
                                          f"{exc.strerror}; save before quitting"))
            self.journal = False  # type: ignore[assignment]  # tried: don't try at every turn

    async def _teardown(self, code: int) -> int:
        self._release_held(everything=True)
        if self._server:
            await self._server.stop()
        return self._write_out(self.primary.client, code)

    # ------------------------------------------------------------ from the legs

    def number(self, leg: Leg, turn: FinalTurn) -> FinalTurn:
        """The turn in the call's one sequence of turn numbers, stamped with its source."""
        index = self._numbers.setdefault((leg.source_tag, turn.index), len(self._numbers))
        shift = round(self.shift(leg))
        if shift:
            words = [dataclasses.replace(w, start_ms=w.start_ms + shift, end_ms=w.end_ms + shift)
                     for w in turn.words]
            turn = dataclasses.replace(turn, start_ms=turn.start_ms + shift, end_ms=turn.end_ms + shift,
                                       words=words)
        return dataclasses.replace(turn, index=index, source=leg.source_tag)

    def shift(self, leg: Leg) -> float:
        """Ms to add to a leg's times to put them on the microphone's timeline: each source
        counts its own samples from its own start, and one may start, or lag, a little later."""
        if leg is self.primary or leg.origin_ms is None or self.primary.origin_ms is None:
            return 0.0
        return leg.origin_ms - self.primary.origin_ms

    def record(self, leg: Leg, entry: FinalTurn | Marker, forward: bool) -> None:
        """Into the shared transcript and journal first (a crash loses nothing), then on."""
        if isinstance(entry, Marker):
            if not self._shown_marker(leg, entry):
                return
        elif self.echo is not None:
            if entry.source == SYSTEM:
                self.echo.add_system(entry)
            else:
                entry.echo_of = self.echo.echo_of(entry)
        self._store(entry)
        if forward:
            self._emit(ev.MarkerAdded(entry))

    def _shown_marker(self, leg: Leg, marker: Marker) -> bool:
        """The mic's pause markers stand for both; the system's other markers say whose."""
        if leg is self.primary:
            return True
        if marker.kind in ("pause", "resume"):
            return False
        name = self.names[SYSTEM]
        if not marker.detail.startswith(name):
            marker.detail = f"{name}: {marker.detail}" if marker.detail else name
        return True

    def _store(self, entry: FinalTurn | Marker) -> None:
        self.transcript.add(entry)
        if self.journal is None:
            self._open_journal()
        if self.journal and not self.journal.closed:
            try:
                self.journal.append(entry)
            except OSError as exc:
                self._emit(ev.Notice("error", f"journal write failed: {exc.strerror}"))

    def from_leg(self, leg: Leg, event: ev.Event) -> None:
        """A leg's event, on its way to the front end."""
        match event:
            case ev.TurnFinal():
                self._final(event)
            case ev.PartialTurn():
                self._speaking[leg.source_tag] = bool(event.words)
                self._emit(event)
            case ev.MarkerAdded(marker=m) if leg is not self.primary and m.kind in ("pause", "resume"):
                pass
            case ev.Finished():
                pass  # the call reports one Finished, when both legs are done
            case ev.LevelsChanged() if leg is not self.primary:
                pass  # both meters repaint on the microphone's frames: 20 a second, not 40
            case ev.StateChanged() | ev.SessionBegan() if leg is not self.primary:
                self._secondary_state(event)
            case ev.Notice(level=level, text=text) if leg is not self.primary:
                name = self.names[SYSTEM]
                self._emit(ev.Notice(level, text if text.startswith("system audio") else f"{name}: {text}"))
            case _:
                self._emit(event)

    def _secondary_state(self, event: ev.Event) -> None:
        """The system leg's connection is reported only when it is in trouble."""
        if isinstance(event, ev.StateChanged) and event.state == ev.RECONNECTING and event.attempt:
            self._emit(ev.Notice("warning", f"{self.names[SYSTEM]}: connection lost: {event.detail}; "
                                            f"reconnecting (attempt {event.attempt})"))

    # ------------------------------------------------------------------ echo

    def _final(self, event: ev.TurnFinal) -> None:
        turn = event.turn
        if turn.echo_of is not None:
            return  # an echo: in the journal, not on screen
        if turn.source == SYSTEM:
            self._speaking[SYSTEM] = False  # until its next partial
            self._emit(event)
            self._release_held(caught_up_to=turn.end_ms)
            return
        if self.echo is not None and (self._speaking.get(SYSTEM) or self._sounded_during(turn)):
            self._held.append((time.monotonic() + ECHO_WAIT_S, event))  # its system turn is not final yet
            asyncio.get_running_loop().call_later(ECHO_WAIT_S + 0.01, self._release_held)
            return
        self._emit(event)

    def system_sounded(self, frame: Frame) -> None:
        """Note when the system audio was loud enough to reach the mic (its recognizer may
        lag behind, so its partials alone would come too late to hold an echo back)."""
        if block_levels(np.frombuffer(frame.pcm, "<i2"))[0] > SOUND_DBFS:
            shift = self.shift(self.legs[1])
            start = frame.t0_ms + shift
            end = start + len(frame.pcm) / (2 * self.settings["audio.sample_rate"] / 1000)
            if self._sounded and self._sounded[-1][1] >= start - 1:
                self._sounded[-1] = (self._sounded[-1][0], end)
            else:
                self._sounded.append((start, end))

    def _sounded_during(self, turn: FinalTurn) -> bool:
        return any(start < turn.end_ms and end > turn.start_ms for start, end in self._sounded)

    def _release_held(self, caught_up_to: float | None = None, everything: bool = False) -> None:
        """Echoes go to the journal only; the others are shown once the system audio's turns
        have passed their end, or their wait is over."""
        now, keep = time.monotonic(), []
        for deadline, event in self._held:
            turn = event.turn
            if self.echo is not None and (of := self.echo.echo_of(turn)) is not None:
                turn.echo_of = of
                self._store(turn)  # the journal's later line marks it: read back, it replaces
            elif everything or now >= deadline or (caught_up_to or 0) >= turn.end_ms:
                self._emit(event)
            else:
                keep.append((deadline, event))
        self._held = keep


__all__ = ["CallSession", "Leg", "make_session", "MIC", "SYSTEM", "EXIT_BAD_INPUT", "SetupError"]
