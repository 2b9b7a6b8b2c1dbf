"""The captioning screen: owns the widgets, runs the session as a worker, routes its events.

The session runs as an async worker in the app's loop, so its emit callback runs there too:
partials are painted as they come (at most one repaint a meter tick, the latest wins), the
meter and the status bar when a frame of audio comes in (LevelsChanged), so nothing wakes
the loop on a timer while audio flows; every other event is posted as a typed message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Label
from textual.worker import Worker, WorkerState

from tui import messages as m
from tui import textual_hacks
from tui.config import Settings
from tui.core.stream import events as ev
from tui.core.transcript.exports import ExportError
from tui.call import make_session
from tui.captioning import EXIT_FAILED, RunOptions
from tui.core.transcript.model import FinalTurn
from tui.early_start import Started
from tui.screens.captions import CaptionScreen
from tui.screens.rename import RenameDialog
from tui.screens.save import SaveDialog, default_save_path, save_transcript
from tui.share.run import run_shared
from tui.widgets.caption_log import CaptionLog
from tui.widgets.live import LiveCaption
from tui.widgets.meter import LevelMeter, MeterBallistics
from tui.widgets.room import Caption, captions_of
from tui.widgets.status import StatusBar, StatusView

LIVE_TICK_S = 1 / 30  # the live line repaints at most this often (a partial comes at most per frame)
STATUS_EVERY_S = 0.2  # the status bar's clock shows whole seconds: 5 checks a second suffice
STATUS_IDLE_S = 1.0  # ...checked by a timer this often too, for when no audio comes in
QUIT_TIMEOUT_S = 15.0  # after q, wait this long for the last turns before giving up
EXIT_INTERRUPTED = 130

SPEAKING = "someone is speaking…"
SYSTEM_CLOCK = SimpleNamespace(monotonic=time.monotonic, time=time.time)

_PLACEHOLDERS = {
    ev.STARTING: "starting…", ev.LOADING: "loading the speech model…", ev.CONNECTING: "connecting…",
    ev.LIVE: "listening…", ev.PAUSED: "paused: press space to resume",
    ev.RECONNECTING: "reconnecting… (audio is buffered)", ev.CLOSING: "finishing the last turn…",
    ev.CLOSED: "the session has ended: press q to quit", ev.ERROR: "stopped by an error",
}


class MainScreen(Screen):
    """Live line, scrollback, level meter and status bar for one CaptionSession."""

    BINDINGS = [
        Binding("space,p", "pause", "Pause", id="pause"),
        Binding("s", "save", "Save", id="save"),
        Binding("ctrl+s", "quick_save", "Save now", show=False, id="quick_save"),
        Binding("f", "finalize", "Finalize", id="finalize"),
        Binding("c", "copy", "Copy", id="copy"),
        Binding("slash", "search", "Search", id="search"),
        Binding("n", "next_match", "Next match (older)", show=False, id="next_match"),
        Binding("N", "previous_match", "Previous match (newer)", show=False, id="previous_match"),
        Binding("t", "timestamps", "Timestamps", show=False, id="timestamps"),
        Binding("r", "rename_speaker", "Rename speaker", show=False, id="rename_speaker"),
        Binding("ctrl+l", "clear", "Clear screen", show=False, id="clear"),
        Binding("v", "caption_view", "Captions only", show=False, id="caption_view"),
        Binding("end", "follow", "Jump to newest", show=False, id="follow"),
        Binding("escape", "cancel_search", "Close search", show=False, id="cancel_search"),
    ]

    def __init__(self, settings: Settings, options: RunOptions | None = None, *,
                 autostart: bool = True, clock: SimpleNamespace = SYSTEM_CLOCK,
                 started: Started | None = None) -> None:
        super().__init__()
        textual_hacks.install_cropping_compositor(self)
        self.settings = settings
        self.clock = clock
        self.autostart = autostart or started is not None
        self.started = started  # a session already running (tui/early_start.py)
        self.session = started.session if started else make_session(settings, self.session_event, options)
        self.sources: list[tuple[str, str]] = getattr(self.session, "sources", [])  # two: a call
        self._partials: dict[str | None, list[ev.LiveWord]] = {}  # the second source's live line
        self.worker: Worker[int] | None = None
        self.exit_code: int | None = None  # set when the session has finished
        self.quitting = False
        self._partial: list[ev.LiveWord] = []
        self._meter_tick_s = 1 / settings["ui.meter_rate"]
        self._meter_at = self._status_at = 0.0  # monotonic times they were last painted
        self._ballistics = MeterBallistics()
        self._live_painted = 0.0  # monotonic time the live line last changed
        self._live_later: asyncio.TimerHandle | None = None  # a deferred repaint of the live line
        self._ended_at: float | None = None  # on the screen's clock, to stop the elapsed time
        self._exit_message: str | None = None  # printed when the app exits after a failure
        self._failure: str | None = None  # an internal error the app ends on (abort)
        mode = settings["ui.timestamps"]
        self._stamp_mode = mode if mode != "off" else "offset"

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        # The widgets painted per frame are kept, not queried: a query walks the DOM.
        self._log = CaptionLog(self.settings["ui.scrollback"], self.settings["ui.timestamps"], id="log")
        yield self._log
        with Horizontal(id="info-row"):
            yield Label("", id="search-status", markup=False)
            yield Input(placeholder="search the captions (Enter: find, Esc: close)", id="search")
            yield Label("", id="new-below", markup=False)
        names = [name for _, name in self.sources]
        self._live = LiveCaption(self.settings["ui.low_confidence"], *names[:1], id="live")
        yield self._live
        self._second: dict[str, tuple[LiveCaption, LevelMeter]] = {}  # the call's system audio
        for tag, name in self.sources[1:]:
            self._second[tag] = (LiveCaption(self.settings["ui.low_confidence"], name, id=f"live-{tag}"),
                                 LevelMeter(name, id=f"meter-{tag}"))
            yield self._second[tag][0]
        self._meter = LevelMeter(*names[:1], id="meter")
        yield self._meter
        for _, meter in self._second.values():
            yield meter
        self._status = StatusBar(id="status")
        yield self._status
        yield Footer()

    @property
    def log_view(self) -> CaptionLog:
        return self._log

    @property
    def live(self) -> LiveCaption:
        return self._live

    def on_mount(self) -> None:
        self.query_one("#search").display = False
        self.query_one("#new-below").display = False
        self.log_view.sources = dict(self.sources)
        for tag, _ in self.sources[1:]:
            self.query_one(f"#live-{tag}").display = False
        self.live.set_placeholder(_PLACEHOLDERS[ev.STARTING])
        self.set_interval(STATUS_IDLE_S, self._on_idle_tick, name="status")
        textual_hacks.prompt_screen_updates(self)
        self.tick()
        if self.autostart:
            self.start_session()
        if self.settings["ui.view"] == "captions":
            self.call_later(self.action_caption_view)
        share = self.session.options.share
        if share is not None:
            self.notify(f"sharing the captions at {share.url}", title="Shared", markup=False, timeout=20)

    def start_session(self) -> None:
        work = run_shared(self.session) if self.started is None else self._join_started()
        self.worker = self.run_worker(work, name="session", group="session",
                                      exit_on_error=False, exclusive=True)

    async def _join_started(self) -> int:
        """The worker of a session started before the screen: its events from now on."""
        app = self.app

        def deliver(event: ev.Event) -> None:  # in the session's tasks, which predate the app
            textual_hacks.adopt_app(app)
            self.session_event(event)

        self.started.relay.attach(deliver)
        return await self.started.task

    # ------------------------------------------------------------ from core

    def session_event(self, event: ev.Event) -> None:
        """The session's callback (in the app's loop). It paints the meter and the live line
        itself, so a bug in a widget would raise inside the session: contain it here."""
        try:
            self._take_event(event)
        except Exception as exc:  # noqa: BLE001 - a UI bug must not end the captioning
            if not self.app.contain_error(exc, f"MainScreen painting {type(event).__name__}"):
                raise

    def _take_event(self, event: ev.Event) -> None:
        """Store partials (painted at once or soon), repaint on frames, post everything else."""
        if isinstance(event, ev.LevelsChanged):
            self._on_frame()
            return
        if isinstance(event, ev.PartialTurn):
            if self.sources and event.source != self.sources[0][0]:
                self._partials[event.source] = event.words  # painted at the next tick
                return
            self._partial = event.words
            # Paint a new partial at once unless the live line was painted less than a tick
            # ago (then once that tick is up): waiting for a fixed-rate tick added 0-33 ms to
            # every partial (bench/display.py); the live line repaints at most once a tick.
            wait = self._live_painted + LIVE_TICK_S - time.monotonic()
            if wait <= 0:
                self._paint_live()
            elif self._live_later is None:
                self._live_later = asyncio.get_running_loop().call_later(wait, self._paint_live)
            return
        message = m.wrap(event)
        if message is not None:
            self.post_message(message)

    def tick(self, status: bool = True) -> None:
        """Repaint the live line, the meter and the status bar, each only if changed."""
        self._paint_live()
        self._paint_meter()
        if status:
            self._status_at = time.monotonic()
            self._status.show(self.status_view())

    def _paint_live(self) -> None:
        if self._live_later is not None:  # this paint makes the deferred one unnecessary
            self._live_later.cancel()
            self._live_later = None
        try:
            if self.live.show(self._partial):
                self._live_painted = time.monotonic()
        except NoMatches:
            pass  # the app is closing: the widgets are gone

    def _paint_meter(self) -> None:
        """The meters, each showing the loudest block since its last paint (it may skip frames)."""
        since, self._meter_at = self._meter_at, time.monotonic()
        if self.session.source is not None:  # levels are None once capture has ended
            levels = self._ballistics.apply(self.session.levels(since=since), self._meter_at)
            self._meter.show(levels, ended=self.session.source.stopped)
        for tag, _ in self.sources[1:]:
            self._show_second(tag, since)

    def _on_frame(self) -> None:
        """A frame came in (20 a second): the meter, at most ui.meter_rate times a second, and
        the status bar every STATUS_EVERY_S (it shows whole seconds; events that change it
        call tick() at once)."""
        now = time.monotonic()
        try:
            if now - self._meter_at >= self._meter_tick_s * 0.9:  # 0.9: frames come with jitter
                self._paint_meter()
            if now - self._status_at >= STATUS_EVERY_S:
                self._status_at = now
                self._status.show(self.status_view())
        except NoMatches:
            pass  # not mounted yet, or the app is closing

    def _on_idle_tick(self) -> None:
        if time.monotonic() - self._status_at >= STATUS_IDLE_S * 0.9:  # no audio is coming in
            self.tick()

    def _show_second(self, tag: str, since: float) -> None:
        """The system audio's live line (shown while it speaks) and meter, in a call."""
        words = self._partials.get(tag, [])
        line, meter = self._second[tag]
        line.show(words)
        if line.display != bool(words):
            line.display = bool(words)
        meter.show(self.session.levels(tag, since=since))

    def status_view(self) -> StatusView:
        st = self.session.status()
        now = self._ended_at if self._ended_at is not None else self.clock.monotonic()
        left = None
        if st.expires_at and st.state not in (ev.CLOSED, ev.ERROR):
            left = max(st.expires_at - self.clock.time(), 0.0)
        latency = st.latency_ms
        # Values at the resolution the bar shows them (whole seconds, ms, percent): the view
        # is compared to skip repaints, and raw floats made the bar repaint at every tick.
        progress = st.progress
        if progress and progress[1]:
            progress = (round(progress[0] / progress[1], 2) * progress[1], progress[1])
        return StatusView(
            state=st.state, detail=st.detail, attempt=st.attempt, engine=st.engine, endpoint=st.endpoint,
            elapsed_s=float(int(now - st.started)), left_s=None if left is None else float(int(left)),
            device=st.device, device_rate=st.device_rate, dropped=st.dropped, overflows=st.overflows,
            latency_ms=None if latency is None else float(round(latency)), progress=progress,
            realtime_factor=None if st.realtime_factor is None else round(st.realtime_factor, 2),
            model_used=st.model_used,
        )

    # -------------------------------------------------------------- messages

    def on_connection_changed(self, message: m.ConnectionChanged) -> None:
        e = message.event
        self.live.set_placeholder(_PLACEHOLDERS.get(e.state, e.state))
        if e.state == ev.RECONNECTING and e.detail:
            self.notify(f"connection lost: {e.detail}; reconnecting (attempt {e.attempt})",
                        severity="warning", markup=False)
        self.tick()

    def on_turn_finalized(self, message: m.TurnFinalized) -> None:
        self.log_view.add(message.event.turn)
        self.live.set_placeholder(_PLACEHOLDERS.get(self.session.status().state, ""))

    def on_turn_revised_message(self, message: m.TurnRevisedMessage) -> None:
        self.log_view.add(message.event.turn)  # replaces the turn in place, by index

    def on_speaker_renamed_message(self, message: m.SpeakerRenamedMessage) -> None:
        self.log_view.set_speaker_names(self.session.transcript.speaker_names)

    def on_speech_detected_message(self, message: m.SpeechDetectedMessage) -> None:
        self.live.set_placeholder(SPEAKING)  # shown until the first words arrive

    def on_marker_placed(self, message: m.MarkerPlaced) -> None:
        self.log_view.add(message.event.marker)

    def on_notice_posted(self, message: m.NoticePosted) -> None:
        e = message.event
        severity = e.level if e.level in ("information", "warning", "error") else "information"
        self.notify(e.text, severity=severity, markup=False, timeout=10 if severity == "error" else 5)
        if severity == "error":
            # A lost device makes PortAudio (C code) print to the terminal under the screen.
            self.app.refresh(repaint=True)

    def on_session_finished(self, message: m.SessionFinished) -> None:
        """The one end of a session: its exit status and, on failure, the reason."""
        self._ended_at = self.clock.monotonic()
        self.session_done(message.event.exit_code, message.event.reason)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """run() reports every failure as Finished; a worker error is a bug in run() itself."""
        if event.worker is self.worker and event.state == WorkerState.ERROR:
            error = event.worker.error
            finished = self.session.report_crash(f"internal error: {type(error).__name__}: {error}")
            self.notify(finished.reason, severity="error", markup=False)
            self.post_message(m.SessionFinished(finished))

    def session_done(self, code: int, reason: str) -> None:
        """The session is over. A failure ends the app, except a lost microphone: its captions
        stay on screen, to read and save, until q (exit status 1 all the same)."""
        if self._failure and not code:
            code, reason = EXIT_FAILED, self._failure
        self.exit_code = code
        self._exit_message = f"captioner: {reason or 'failed'}" if code else None
        stay = bool(code and self.session.audio_error and not self.quitting)
        if stay:
            self.live.set_placeholder(f"{_PLACEHOLDERS[ev.ERROR]}: press q to quit")
        try:
            self.tick()
        finally:  # a broken widget must not keep the app from exiting
            if not stay and (code or self.quitting):
                self.app.exit(return_code=code, message=self._exit_message)

    def on_caption_log_unseen(self, message: CaptionLog.Unseen) -> None:
        label = self.query_one("#new-below", Label)
        label.display = message.count > 0
        label.update(f"▼ {message.count} new below (End)")

    # --------------------------------------------------------------- actions

    def request_quit(self, force: bool = False) -> None:
        """q: stop, let the session flush its last turns, then exit with its status.

        force (a second ctrl+c): exit now; finished turns are already in the journal.
        """
        if self.exit_code is not None or self.worker is None:
            self.app.exit(return_code=self.exit_code or 0, message=self._exit_message)
            return
        if self.quitting:
            if force:
                where = self.session.journal_path
                note = f"; finished turns are in {where}" if where else ""
                code, why = (EXIT_FAILED, self._failure) if self._failure else (EXIT_INTERRUPTED, "stopped")
                self.app.exit(return_code=code, message=f"captioner: {why} without waiting for the last turn{note}")
            return
        self.quitting = True
        # Stop first: nothing on screen may keep a quit (or a hang-up) from ending the app.
        self.session.stop()
        self.set_timer(QUIT_TIMEOUT_S, lambda: self.request_quit(force=True))
        try:
            self.live.set_placeholder("finishing the last turn… (ctrl+c again: quit now)")
        except NoMatches:
            pass  # the screen is not composed yet, or is going

    def abort(self, reason: str) -> None:
        """An internal error the app cannot go on with: finish as on q (the last turns, the
        journal footer), then exit with status 1 and the reason."""
        self._failure = self._failure or reason
        if self.exit_code is not None or self.worker is None:
            self.app.exit(return_code=EXIT_FAILED, message=f"captioner: {self._failure}")
        else:
            self.request_quit()

    def action_pause(self) -> None:
        if self.exit_code is not None:
            self.notify("The session has ended.", severity="warning")
            return
        self.session.toggle_pause()

    def default_path(self, fmt: str | None = None) -> Path:
        fmt = fmt or self.settings["output.format"]
        return default_save_path(self.settings["output.directory"], fmt, self.clock.time())

    def _saved(self, path: Path | None) -> None:
        if path is not None:
            self.notify(f"saved {path}", title="Transcript saved", markup=False)

    def action_save(self) -> None:
        self.app.push_screen(SaveDialog(self.default_path(), self.settings["output.format"], self.session.save),
                             self._saved)

    def action_quick_save(self) -> None:
        try:
            path = save_transcript(self.session.save, self.default_path(), self.settings["output.format"])
        except (ExportError, OSError) as exc:
            self.notify(f"Not saved: {exc}", severity="error", markup=False, timeout=10)
            return
        self._saved(path)

    def action_finalize(self) -> None:
        self.session.force_endpoint()

    def last_turn_text(self) -> str:
        turns = self.session.transcript.turns
        if turns:
            return turns[-1].text
        shown = [e for e in self.log_view.entries if hasattr(e, "text")]
        return shown[-1].text if shown else ""

    def action_copy(self) -> None:
        text = self.get_selected_text() or self.last_turn_text()
        if not text:
            self.notify("Nothing to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        preview = text if len(text) <= 60 else text[:57] + "…"
        self.notify(preview, title="Copied", markup=False)

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        self.query_one("#search-status").display = False
        search.display = True
        search.focus()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        count = self.log_view.search(query)
        self._close_search_input()
        status = self.query_one("#search-status", Label)
        if not query:
            status.update("")
        elif count:
            status.update(f"{count} match{'es' if count != 1 else ''} for “{query}”: n older, N newer")
        else:
            status.update(f"no match for “{query}”")

    def _close_search_input(self) -> None:
        self.query_one("#search").display = False
        self.query_one("#search-status").display = True
        self.log_view.focus()

    def action_cancel_search(self) -> None:
        if self.query_one("#search").display:
            self._close_search_input()
        elif self.log_view.search_text:
            self.log_view.search("")
            self.query_one("#search-status", Label).update("")

    def _step_match(self, older: bool) -> None:
        log = self.log_view
        if not log.search_text:
            self.notify("Search first with /", severity="warning")
            return
        at = log.next_match(older)
        status = self.query_one("#search-status", Label)
        if at is None:
            status.update(f"no match for “{log.search_text}”")
        else:
            status.update(f"match {at} of {len(log.matches)} for “{log.search_text}”: n older, N newer")

    def action_next_match(self) -> None:
        self._step_match(older=True)

    def action_previous_match(self) -> None:
        self._step_match(older=False)

    def action_timestamps(self) -> None:
        log = self.log_view
        mode = "off" if log.timestamps != "off" else self._stamp_mode
        log.set_timestamps(mode)
        self.notify(f"timestamps: {mode}")

    def action_clear(self) -> None:
        self.log_view.clear()
        self.query_one("#search-status", Label).update("")

    def recent_captions(self, n: int) -> tuple[Caption, ...]:
        """The caption view's content: the last n finished turns and the live line."""
        turns = []
        for entry in reversed(self.session.transcript.entries):
            if isinstance(entry, FinalTurn):
                turns.append(entry)
                if len(turns) >= n:
                    break
        return captions_of(reversed(turns), " ".join(w.text for w in self._partial))

    def action_caption_view(self) -> None:
        self.app.push_screen(CaptionScreen(self.recent_captions, self.settings["ui.large_text"],
                                           pause=self.action_pause))

    def action_follow(self) -> None:
        self.log_view.follow()

    def speaker_to_rename(self) -> str | None:
        """The selected turn's speaker (mouse selection, else the current search match),
        else the newest turn's that has one."""
        log = self.log_view
        chosen = log.selected_entry()
        turns = [chosen] if chosen is not None else []
        turns += reversed(self.session.transcript.turns)
        for turn in turns:
            label = getattr(turn, "speaker", None) or next((w.speaker for w in getattr(turn, "words", ()) if w.speaker), None)
            if label:
                return label
        return None

    def action_rename_speaker(self) -> None:
        label = self.speaker_to_rename()
        if label is None:
            self.notify("No speaker to rename yet: turn on speaker labels (--speakers).", severity="warning")
            return
        names = self.session.transcript.speaker_names
        labels = sorted({t.speaker for t in self.session.transcript.turns if t.speaker} | {label})
        self.app.push_screen(RenameDialog(label, names.get(label, ""), labels), self._renamed)

    def _renamed(self, result: tuple[str, str] | None) -> None:
        if result is not None:
            label, name = result
            self.session.rename_speaker(label, name)
            self.notify(f"{label} is now {name}", title="Speaker renamed", markup=False)

    def commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """(name, help, callback) for the command palette."""
        return [
            ("Pause / resume", "stop sending audio, or start again (space, p)", self.action_pause),
            ("Save transcript…", "choose a path and format (s)", self.action_save),
            ("Save transcript now", "default path and format (ctrl+s)", self.action_quick_save),
            ("Finalize turn", "end the current turn now (f)", self.action_finalize),
            ("Copy last turn", "to the clipboard, via the terminal (c)", self.action_copy),
            ("Search captions", "find text in the scrollback (/)", self.action_search),
            ("Toggle timestamps", "off / on in the scrollback (t)", self.action_timestamps),
            ("Rename speaker", "name the selected turn's speaker, everywhere (r)", self.action_rename_speaker),
            ("Clear screen", "the transcript keeps everything (ctrl+l)", self.action_clear),
            ("Captions only", "the caption view for the room; l: large text (v)", self.action_caption_view),
            ("Jump to newest", "follow new captions again (End)", self.action_follow),
            ("Help", "all keys (?)", lambda: self.app.action_help()),
            ("Quit", "finish the last turn and exit (q)", self.request_quit),
        ]
