"""Display latency of the Textual app, and audio send latency, against the real local server.

`captioner serve --engine scripted` runs in its own process and "hears" a lecture (about nine
partials a second, a final every 2.6 s). The real app (CaptionerApp, headless via run_test)
captions a tone file paced in real time, with bench-only instrumentation:

  arrival   StreamingClient.trace("recv", frame): right after the Turn frame is read from the
            socket, before it is parsed (the one hook in product code; off by default).
  on screen the first screen update (App._display with the compositor's update, after the
            ANSI for it has been rendered, as the real driver does before writing) whose
            rendered lines hold the message's text: the live line's words (with their final
            flags) for a partial; the scrollback row of that turn for a final. A message whose
            text was replaced by a newer one of the same turn before it could be painted counts
            as on screen when the newer text is (it was never going to be shown).

Audio send latency: StreamingClient.trace("sent", frame) time minus Frame.due (when the
frame's last sample was due in real time): how long a full 50 ms frame waits to be sent.

Prints `name: value unit` lines. Usage: python bench/display.py [--quick] [--seconds N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ServeProcess, figure, header, pct, settings_for, write_tone  # noqa: E402

from tui.core import event_loop  # noqa: E402
from tui.core.stream.client import StreamingClient  # noqa: E402
from tui.captioning import RunOptions  # noqa: E402
from tui.core.transcript.model import FinalTurn  # noqa: E402
from tui.widgets.caption_log import CaptionLog  # noqa: E402
from tui.widgets.live import LiveCaption  # noqa: E402


class Tracker:
    """Turn messages by arrival, matched to the screen updates that show them."""

    def __init__(self) -> None:
        self.msgs: list[dict] = []
        self.pending: list[dict] = []
        self.by_content: dict[tuple, int] = {}  # live-line content -> newest message showing it
        self.finals: dict[int, dict] = {}  # FinalTurn.index -> its message
        self.sends: list[float] = []
        self.rendered_live: tuple | None = None
        self.rendered_finals: set[int] = set()
        self.shown_live: tuple = ()
        self.updates = 0

    def trace(self, kind: str, item) -> None:
        now = time.monotonic()
        if kind == "sent":
            self.sends.append((now - item.due) * 1000)
            return
        msg = json.loads(item)
        if msg.get("type") != "Turn":
            return
        if msg["end_of_turn"] and msg["turn_is_formatted"]:
            if not msg["transcript"].strip():
                return  # nothing to show
            entry = {"t": now, "kind": "final", "seq": len(self.msgs)}
            self.finals[len(self.finals)] = entry
        else:
            eot = msg["end_of_turn"]
            content = tuple((w["text"], eot or w["word_is_final"]) for w in msg["words"])
            entry = {"t": now, "kind": "final_words" if eot else "partial", "seq": len(self.msgs)}
            self.by_content[content] = entry["seq"]
            if content == self.shown_live and content:
                entry["done"] = now  # already on screen exactly as it would be painted
        self.msgs.append(entry)
        if "done" not in entry:
            self.pending.append(entry)

    def on_display(self) -> None:
        now = time.monotonic()
        self.updates += 1
        upto = -1
        if self.rendered_live is not None:
            self.shown_live = self.rendered_live
            upto = self.by_content.get(self.rendered_live, -1)
        for index in self.rendered_finals:
            final = self.finals.get(index)
            if final is not None:
                final.setdefault("done", now)
                upto = max(upto, final["seq"])
        self.rendered_live, self.rendered_finals = None, set()
        keep = []
        for entry in self.pending:
            if "done" in entry:
                continue
            if entry["kind"] != "final" and entry["seq"] <= upto:
                entry["done"] = now
            else:
                keep.append(entry)
        self.pending = keep


def instrument(app, tracker: Tracker) -> None:
    """Bench-only wrappers: what the widgets render, and when an update reaches the driver."""
    from textual._compositor import CompositorUpdate

    live_layout, log_line = LiveCaption._layout, CaptionLog.render_line

    def layout(self):
        tracker.rendered_live = tuple((w.text, w.final) for w in self.words)
        return live_layout(self)

    def render_line(self, y: int):
        strip = log_line(self, y)
        index = self.scroll_offset.y + y
        pos = self._entry_at(index)
        if pos is not None and index < self._total:
            entry = self.rows[pos].entry
            if isinstance(entry, FinalTurn):
                tracker.rendered_finals.add(entry.index)
        return strip

    LiveCaption._layout, CaptionLog.render_line = layout, render_line
    display = app._display

    def _display(screen, renderable) -> None:
        display(screen, renderable)
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(app.console)  # what the driver does before writing
            tracker.on_display()

    app._display = _display


async def run(seconds: float, size: tuple[int, int]) -> Tracker:
    from tui.app import CaptionerApp

    folder = Path(tempfile.mkdtemp(prefix="bench-display-"))
    wav = write_tone(folder / "input.wav", seconds)
    tracker = Tracker()
    with ServeProcess(folder) as server:
        app = CaptionerApp(settings_for(folder, server.url),
                           RunOptions(input=str(wav), journal_dir=folder / "journal"))
        StreamingClient.trace = tracker.trace
        instrument(app, tracker)
        try:
            async with app.run_test(headless=True, size=size) as pilot:
                while app.main is None or app.main.exit_code is None:
                    await pilot.pause(0.2)
        finally:
            StreamingClient.trace = None
    return tracker


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="6 s of audio (CI)")
    ap.add_argument("--seconds", type=float, default=70.0, help="audio length (default 70)")
    args = ap.parse_args()
    header("display")
    tracker = event_loop.run(run(6.0 if args.quick else args.seconds, (100, 30)))
    done = [m for m in tracker.msgs if "done" in m]
    lat = [(m["done"] - m["t"]) * 1000 for m in done]
    figure("turn_messages", len(tracker.msgs), "count")
    figure("never_on_screen", len(tracker.msgs) - len(done), "count")
    figure("screen_updates", tracker.updates, "count")
    for q in (50, 95, 99):
        figure(f"display_latency_p{q}", pct(lat, q), "ms")
    figure("display_latency_max", max(lat), "ms")
    slow = max(done, key=lambda m: m["done"] - m["t"])
    first = tracker.msgs[0]["t"]
    print(f"# slowest: {slow['kind']} message {slow['seq']} of {len(tracker.msgs)}, "
          f"{slow['t'] - first:.1f} s into the run", flush=True)
    for kind in ("partial", "final"):
        part = [(m["done"] - m["t"]) * 1000 for m in done if m["kind"] == kind]
        figure(f"display_latency_{kind}_p95", pct(part, 95), "ms")
    sends = tracker.sends
    figure("audio_frames_sent", len(sends), "count")
    for q in (50, 95, 99):
        figure(f"audio_send_latency_p{q}", pct(sends, q), "ms")
    figure("audio_send_latency_max", max(sends), "ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
