"""Long sessions: 20,000 turns (a long lecture's worth) pushed through the app as fast as it takes them.

The real app (CaptionerApp, headless via run_test, 100x30, default settings: 5000 entries
of scrollback) with its CaptionSession, transcript and journal, but no network: each turn
is injected the way the streaming client delivers it, through the session's event callback
(CaptionSession._on_event: three growing partials, then the TurnFinal, which goes to the
transcript and the journal before the screen). After every batch of 20 turns the bench
waits until the screen has taken them (the log shows the newest turn): as fast as it takes
them. The turns are the 22-word lecture sentences with word timings, as the service sends
(20,000 of them is 440,000 words: a conservative stand-in for three hours of lecture).
The garbage collector is tuned as run_tui() does for the real process (tui.app.tune_gc).

Figures: RSS after warm-up (1000 turns) and at the end; growth; throughput; then at the
end, key press -> screen update for `space` (pause: status bar), `pageup` (scroll the log),
`end`; and paging through the whole scrollback (5000 entries) from the bottom to the top,
time per page (press -> repaint).

    python bench/longsession.py [--quick] [--turns 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import LECTURE, figure, header, pct, settings_for  # noqa: E402

from tui.core.stream import events as ev  # noqa: E402
from tui.captioning import RunOptions  # noqa: E402
from tui.core.transcript.model import FinalTurn, TimedWord  # noqa: E402

BATCH = 20
WARMUP = 1000


class GcPauses:
    """Durations of the cyclic garbage collector's runs, by generation (gc.callbacks)."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._t = 0.0
        gc.callbacks.append(self)

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.pauses[info["generation"]].append((time.perf_counter() - self._t) * 1000)


def make_turn(i: int, at_ms: int) -> tuple[FinalTurn, list[ev.LiveWord]]:
    text = LECTURE[i % len(LECTURE)]
    words = [TimedWord(w, at_ms + k * 300, at_ms + k * 300 + 250, 0.9) for k, w in enumerate(text.split())]
    live = [ev.LiveWord(w.text.lower().strip(".,"), 0.9, True) for w in words]
    return FinalTurn(i, words[0].start_ms, words[-1].end_ms, text, words, time.time()), live


class Screen:
    """Screen updates as the driver would get them (the compositor's update, rendered)."""

    def __init__(self, app) -> None:
        from textual._compositor import CompositorUpdate

        self.times: list[float] = []
        display = app._display

        def _display(screen, renderable) -> None:
            display(screen, renderable)
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)
                self.times.append(time.monotonic())

        app._display = _display

    async def press(self, pilot, key: str, changed, timeout: float = 5.0) -> float:
        """ms from a key event reaching the app (as the driver's input thread hands it over)
        to the first screen update after changed() became true. (Pilot.press is not used:
        it first waits for the app to be idle and for animations to end.)"""
        from textual import events

        event = events.Key(key, " " if key == "space" else None)
        event.set_sender(pilot.app)
        t0 = time.monotonic()
        pilot.app._driver.send_message(event)
        return await self._after(t0, changed, timeout)

    async def _after(self, t0: float, changed, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if changed():
                n = len(self.times)
                while len(self.times) == n and time.monotonic() < deadline:
                    await asyncio.sleep(0.0005)
                return (self.times[-1] - t0) * 1000
            await asyncio.sleep(0.0005)
        return float("nan")


async def run(turns: int) -> dict:
    from tui.app import CaptionerApp, tune_gc

    tune_gc()  # as run_tui does for the real process

    folder = Path(tempfile.mkdtemp(prefix="bench-long-"))
    app = CaptionerApp(settings_for(folder, "ws://127.0.0.1:9/v3/ws"),
                       RunOptions(journal_dir=folder / "journal"), autostart=False)
    proc, out, samples = psutil.Process(), {}, []
    out["gc"] = gcp = GcPauses()
    async with app.run_test(headless=True, size=(100, 30)) as pilot:
        screen = Screen(app)
        main = app.main
        session = main.session
        session._open_journal()
        log = main.log_view
        t_start, at_ms = time.monotonic(), 0
        for i in range(turns):
            turn, live = make_turn(i, at_ms)
            at_ms = turn.end_ms + 800
            for k in (5, 12, len(live)):
                session._on_event(ev.PartialTurn(live[:k]))
            session._on_event(ev.TurnFinal(turn, 600.0))
            if i % BATCH == BATCH - 1 or i == turns - 1:
                while not log.rows or log.rows[-1].entry.index != i:
                    await pilot.pause()
            if i + 1 == min(WARMUP, turns // 2):
                gc.collect()
                out["rss_warm"] = proc.memory_info().rss
                t_warm, n_warm = time.monotonic(), i + 1
            if (i + 1) % 2000 == 0:
                samples.append((i + 1, proc.memory_info().rss))
        out["throughput"] = (turns - n_warm) / (time.monotonic() - t_warm)
        out["elapsed"] = time.monotonic() - t_start
        await pilot.pause(0.3)
        out["rss_end"] = proc.memory_info().rss
        gc.collect()
        out["rss_end_gc"] = proc.memory_info().rss
        out["samples"] = samples
        out["transcript_turns"] = len(session.transcript.turns)
        out["log_entries"] = len(log.rows)

        # Key press -> repaint, at the end of the long session; each press once the previous
        # one's scroll animation has finished, as a person reading would.
        async def settled() -> None:
            await app._animator.wait_until_complete()
            await pilot.pause(0.05)

        keys = {"space": await screen.press(pilot, "space", lambda: session.paused)}
        log.focus()
        await settled()
        y = log.scroll_y
        keys["pageup"] = await screen.press(pilot, "pageup", lambda: log.scroll_y != y)
        await settled()
        y = log.scroll_y
        keys["end"] = await screen.press(pilot, "end", lambda: log.scroll_y != y)
        await settled()
        out["keys"] = keys

        gc_inject = {g: list(p) for g, p in gcp.pauses.items()}
        for p in gcp.pauses.values():
            p.clear()
        out["gc_inject"] = gc_inject

        # Page through the whole scrollback, bottom to top: press -> first repaint, and the
        # gaps between the frames of each page's scroll animation (smoothness).
        pages, gaps = [], []
        while log.scroll_y > 0 and len(pages) < 5000:
            y = log.scroll_y
            first = len(screen.times)
            pages.append(await screen.press(pilot, "pageup", lambda: log.scroll_y != y))
            await settled()
            frames = screen.times[first:]
            gaps += [(b - a) * 1000 for a, b in zip(frames, frames[1:])]
        out["pages"], out["gaps"] = pages, gaps
        out["scroll_lines"] = log.virtual_size.height
        await pilot.press("space")
        main.session.journal.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,500 turns (CI)")
    ap.add_argument("--turns", type=int, default=20000)
    args = ap.parse_args()
    header("longsession")
    out = asyncio.run(run(1500 if args.quick else args.turns))
    mb = 2**20
    figure("turns", out["transcript_turns"], "count")
    figure("log_entries", out["log_entries"], "count")
    figure("throughput", out["throughput"], "turns/s")
    figure("elapsed", out["elapsed"], "s")
    figure("rss_after_warmup", out["rss_warm"] / mb, "MB")
    for n, rss in out["samples"]:
        figure(f"rss_at_{n}", rss / mb, "MB")
    figure("rss_end", out["rss_end"] / mb, "MB")
    figure("rss_growth", (out["rss_end"] - out["rss_warm"]) / mb, "MB")
    figure("rss_growth_after_gc", (out["rss_end_gc"] - out["rss_warm"]) / mb, "MB")
    for key, ms in out["keys"].items():
        figure(f"key_{key}_to_repaint", ms, "ms")
    pages = out["pages"]
    figure("scrollback_lines", out["scroll_lines"], "lines")
    figure("scroll_pages", len(pages), "count")
    figure("scroll_page_p50", pct(pages, 50), "ms")
    figure("scroll_page_p95", pct(pages, 95), "ms")
    figure("scroll_page_max", max(pages) if pages else float("nan"), "ms")
    figure("scroll_frame_gap_p95", pct(out["gaps"], 95), "ms")
    figure("scroll_frame_gap_max", max(out["gaps"]) if out["gaps"] else float("nan"), "ms")
    for when, pauses in (("while_feeding", out["gc_inject"][2]), ("while_scrolling", out["gc"].pauses[2])):
        figure(f"gc_full_collections_{when}", len(pauses), "count")
        figure(f"gc_full_collection_max_{when}", max(pauses, default=0.0), "ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
