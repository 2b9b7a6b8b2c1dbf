"""The status bar: connection state, engine, times, input, drops, latency, file progress."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from textual.strip import Strip

from tui.core.stream import events as ev
from tui.core.transcript.wording import clock, duration
from tui.widgets.paint import PaintedLines, fit

SEP = " │ "
FAST_RTF = 1.05  # a Heartbeat's realtime_factor above this: audio goes out too fast
_STATE_MARK = {ev.LIVE: "●", ev.PAUSED: "❚❚", ev.ERROR: "✖", ev.CLOSED: "■", ev.RECONNECTING: "↻"}


@dataclass(frozen=True, slots=True)
class StatusView:
    """Everything the bar shows, already resolved to plain values (compared to skip repaints)."""

    state: str = ev.STARTING
    detail: str = ""
    attempt: int = 0
    engine: str = ""
    endpoint: str = ""
    elapsed_s: float = 0.0
    left_s: float | None = None
    device: str = ""
    device_rate: int = 0
    dropped: int = 0
    overflows: int = 0
    latency_ms: float | None = None
    progress: tuple[float, float] | None = None
    realtime_factor: float | None = None
    model_used: str | None = None

    def state_text(self) -> str:
        mark = _STATE_MARK.get(self.state, "◌")
        text = f"{mark} {self.state}"
        if self.state == ev.RECONNECTING and self.attempt:
            text += f" (attempt {self.attempt})"
        if self.detail and self.state in (ev.ERROR, ev.RECONNECTING, ev.PAUSED):
            text += f": {self.detail}"
        return text

    def segments(self) -> list[tuple[int, str, str]]:
        """Line 1, the connection: (priority, text, style class); lower priority goes first when narrow."""
        segs = [(100, self.state_text(), f"status-bar--{self.state.split()[0]}")]
        segs.append((90, clock(self.elapsed_s * 1000), ""))
        if self.left_s is not None:
            segs.append((50, f"{duration(self.left_s)} left", ""))
        if self.latency_ms is not None:
            segs.append((45, f"latency {self.latency_ms:.0f} ms", ""))
        if self.engine:
            segs.append((60, f"{self.engine} {self.endpoint}".strip(), ""))
        if self.model_used:
            segs.append((75, f"model {self.model_used}", "status-bar--warn"))
        if self.realtime_factor is not None:
            segs.append(self._rtf_segment(self.realtime_factor))
        return segs

    @staticmethod
    def _rtf_segment(rtf: float) -> tuple[int, str, str]:
        """The service's real-time factor; above 1 we send faster than real time (then 3007)."""
        if rtf > FAST_RTF:
            return (85, f"RTF {rtf:.2f}: faster than real time", "status-bar--warn")
        return (40, f"RTF {rtf:.2f}", "")

    def input_segments(self) -> list[tuple[int, str, str]]:
        """Line 2, the input: device and rate, file progress, dropped audio and overflows."""
        segs = []
        if self.device:
            rate = f" {self.device_rate / 1000:g} kHz" if self.device_rate else ""
            segs.append((60, f"{self.device}{rate}", ""))
        if self.progress:
            done, total = self.progress
            pct = 100 * done / total if total else 100
            segs.append((70, f"{pct:3.0f}% of {duration(total)}", ""))
        drop_style = "status-bar--warn" if (self.dropped or self.overflows) else ""
        drops = f"dropped {self.dropped}" + (f" · overflows {self.overflows}" if self.overflows else "")
        segs.append((80 if drop_style else 30, drops, drop_style))
        return segs


class StatusBar(PaintedLines):
    """Two lines (connection; input), each fitted to the width by dropping the least important parts."""

    DEFAULT_CSS = """
    StatusBar { height: 2; }
    StatusBar > .status-bar--live { color: $text-success; text-style: bold; }
    StatusBar > .status-bar--paused { color: $text-warning; text-style: bold; }
    StatusBar > .status-bar--error { color: $text-error; text-style: bold; }
    StatusBar > .status-bar--reconnecting { color: $text-warning; }
    StatusBar > .status-bar--closed { color: $text-muted; }
    StatusBar > .status-bar--closing { color: $text-muted; }
    StatusBar > .status-bar--connecting { color: $text-muted; }
    StatusBar > .status-bar--loading { color: $text-muted; }
    StatusBar > .status-bar--starting { color: $text-muted; }
    StatusBar > .status-bar--warn { color: $text-warning; }
    StatusBar > .status-bar--sep { color: $text-disabled; }
    """
    COMPONENT_CLASSES = {"status-bar--live", "status-bar--paused", "status-bar--error",
                         "status-bar--reconnecting", "status-bar--closed", "status-bar--closing",
                         "status-bar--connecting", "status-bar--loading", "status-bar--starting",
                         "status-bar--warn", "status-bar--sep"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = StatusView()

    def show(self, view: StatusView) -> bool:
        if view == self.view:
            return False
        self.view = view
        self.repaint()
        return True

    def fitted(self, width: int, line: int = 0) -> list[tuple[int, str, str]]:
        segs = self.view.input_segments() if line else self.view.segments()
        while len(segs) > 1 and sum(cell_len(s[1]) for s in segs) + cell_len(SEP) * (len(segs) - 1) > width:
            segs.remove(min(segs, key=lambda s: s[0]))
        return segs

    def render_line(self, y: int) -> Strip:
        """Textual's line API (cheaper than a Text: bench/RESULTS.md); a part that still does
        not fit ends in an ellipsis."""
        if y > 1:
            return Strip([])
        width = self.content_region.width or self.size.width
        segments = []
        for i, (_, part, cls) in enumerate(self.fitted(width, y)):
            if i:
                segments.append(Segment(SEP, self.line_style("status-bar--sep")))
            segments.append(Segment(part, self.line_style(cls)))
        return fit(Strip(segments), width)

    def plain(self) -> str:
        return "\n".join("".join(seg.text for seg in self.render_line(y)) for y in (0, 1))
