"""The full screen, launched with the audio already flowing.

Textual and the screen's modules take longer to import than capture and connecting do
(bench/RESULTS.md, issue 16: launch -> first audio frame at the server 0.67 s, against 0.24 s
for a minimal client). So the session starts first, in the event loop the app will run in,
and once its first frame is out, Textual is imported on a thread; the app takes the running
session over. Its
events until then wait in an EventRelay (partials and level updates only the newest).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

from tui.call import make_session
from tui.captioning import EXIT_BAD_INPUT, CaptionSession, RunOptions, SetupError
from tui.config import Settings
from tui.core import event_loop
from tui.core.stream import events as ev
from tui.share.run import run_shared

FIRST_FRAME_WAIT_S = 0.5  # at most this long before the screen starts to load


class EventRelay:
    """The session's emit callback until a front end attaches: events are kept, in order,
    except that a newer partial replaces an older one and level updates are dropped (the
    meter repaints on the next frame); attach() hands them over, then forwards each one."""

    def __init__(self) -> None:
        self._kept: list[ev.Event] = []
        self._target: Callable[[ev.Event], None] | None = None

    def __call__(self, event: ev.Event) -> None:
        if self._target is not None:
            self._target(event)
        elif isinstance(event, ev.PartialTurn):
            self._kept = [e for e in self._kept if not isinstance(e, ev.PartialTurn)] + [event]
        elif not isinstance(event, ev.LevelsChanged):
            self._kept.append(event)

    def attach(self, target: Callable[[ev.Event], None]) -> None:
        kept, self._kept = self._kept, []
        self._target = target
        for event in kept:
            target(event)


@dataclass
class Started:
    """A session already running as `task`, its events held by `relay` for the screen."""

    session: CaptionSession
    task: asyncio.Task
    relay: EventRelay


def run_tui(settings: Settings, options: RunOptions) -> int:
    """Run the full-screen captioner, audio first; returns the exit status."""
    return event_loop.run(_run(settings, options))


async def _run(settings: Settings, options: RunOptions) -> int:
    relay = EventRelay()
    try:
        session = make_session(settings, relay, options)
    except SetupError as exc:
        print(f"captioner: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    started = Started(session, asyncio.create_task(run_shared(session)), relay)
    # Textual is imported once the first frame is out (an import beside the start-up slows it:
    # one interpreter lock), and on a thread, so the loop goes on sending meanwhile.
    try:
        await asyncio.wait_for(session.started_up.wait(), FIRST_FRAME_WAIT_S)
    except asyncio.TimeoutError:
        pass  # a slow network: the screen comes up and says "connecting"
    app_module = await asyncio.to_thread(importlib.import_module, "tui.app")
    try:
        return await app_module.run_tui_async(settings, options, started)
    finally:
        if not started.task.done():  # the app ended without the session (an error at start)
            session.stop()
            await asyncio.wait([started.task], timeout=5)
