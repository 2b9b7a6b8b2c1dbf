"""The widgets on their own, in tiny apps: live line, meter, status bar, caption log."""

from __future__ import annotations

from apphelpers import live_words, pause_marker, turn
from rich.style import Style
from textual.app import App, ComposeResult

from tui.core.stream import events as ev
from tui.core.audio.levels import LevelSnapshot
from tui.widgets.caption_log import CaptionLog, marker_text
from tui.widgets.live import LiveCaption, layout_words
from tui.widgets.meter import LevelMeter, db_to_cells
from tui.widgets.status import StatusBar, StatusView


class One(App):
    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def test_layout_keeps_the_newest_words_in_fixed_height():
    def plain(lines):
        return [" ".join(piece for piece, _ in line) for line in lines]

    words = [(f"w{i}", Style()) for i in range(40)]
    lines = plain(layout_words(words, width=20, height=2))
    assert len(lines) == 2 and all(len(line) <= 20 for line in lines)
    assert lines[-1].endswith("w39")
    assert plain(layout_words([("x" * 50, Style())], width=20, height=3)) == ["x" * 20, "x" * 20, "x" * 10]


async def test_live_caption_styles_provisional_and_unsure_words():
    live = LiveCaption(low_confidence=0.5)
    async with One(live).run_test(size=(40, 5)):
        assert live.show(live_words(("sure", 0.9, True), ("maybe", 0.2, True), ("next", 0.9, False)))
        assert not live.show(live_words(("sure", 0.9, True), ("maybe", 0.2, True), ("next", 0.9, False)))
        base = live.line_style()  # the widget's own text style, under every word
        styles = [s for _, s in live.styled_words()]
        assert styles[0] == base and not (base.underline or base.italic)
        assert styles[1].underline and not styles[1].italic
        assert styles[2].italic
        live.low_confidence = 0  # off
        assert live.styled_words()[1][1] == base
        assert live.size.height == 3
        live.show(live_words(*[(f"word{i}", 1.0, True) for i in range(60)]))
        assert live.size.height == 3  # never grows


def snap(rms=-20.0, peak=-10.0, hold=-6.0, clipping=False, silent=0.0) -> LevelSnapshot:
    return LevelSnapshot(rms, peak, hold, clipping, silent)


async def test_meter_repaints_only_on_change_and_warns(monkeypatch):
    meter = LevelMeter()
    repaints = []
    monkeypatch.setattr(meter, "repaint", lambda: repaints.append(1))
    async with One(meter).run_test(size=(80, 3)) as pilot:
        await pilot.pause()
        assert meter.show(snap())
        count = len(repaints)
        assert not meter.show(snap(rms=-20.1))  # same picture
        assert len(repaints) == count
        assert meter.show(snap(rms=-30.0))
        text = meter.plain()
        assert "-30 dB" in text and "peak  -10 dB" in text and "CLIP" not in text
        meter.show(snap(peak=-0.5, clipping=True))
        assert "CLIP" in meter.plain()
        meter.show(snap(rms=-60, peak=-60, hold=-60, silent=1.0))
        assert "no signal" not in meter.plain()
        meter.show(snap(rms=-60, peak=-60, hold=-60, silent=5.0))
        assert "no signal" in meter.plain()
        assert db_to_cells(-60, 40) == 0 and db_to_cells(0, 40) == 40 and db_to_cells(-30, 40) == 20


async def test_status_bar_fits_80_columns_dropping_the_least_important():
    bar = StatusBar()
    view = StatusView(state=ev.RECONNECTING, detail="connection lost (1006)", attempt=2,
                      engine="custom endpoint", endpoint="127.0.0.1:8765", elapsed_s=3725, left_s=7000,
                      device="a-rather-long-device-name.wav", device_rate=16000, dropped=3, overflows=0,
                      latency_ms=412, progress=(30.0, 120.0))
    async with One(bar).run_test(size=(80, 3)) as pilot:
        assert bar.show(view)
        await pilot.pause()
        first, second = bar.plain().split("\n")
        assert len(first) <= 78 and len(second) <= 78
        assert first.startswith("↻ reconnecting (attempt 2): connection lost (1006) │ 01:02:05")
        assert "custom endpoint" not in first  # the least important part made room
        assert second == "a-rather-long-device-name.wav 16 kHz │  25% of 2:00 │ dropped 3"
        assert not bar.show(view)
    assert StatusView(state=ev.ERROR, detail="bad key").state_text() == "✖ error: bad key"
    live = StatusView(state=ev.LIVE, engine="AssemblyAI", endpoint="streaming.assemblyai.com", elapsed_s=5,
                      left_s=100, latency_ms=300)
    assert " │ ".join(s[1] for s in live.segments()) == \
        "● live │ 00:00:05 │ 1:40 left │ latency 300 ms │ AssemblyAI streaming.assemblyai.com"


async def test_caption_log_never_interprets_markup_and_is_bounded():
    log = CaptionLog(max_entries=100)
    async with One(log).run_test(size=(60, 10)) as pilot:
        log.add(turn(0, "[bold]not bold[/] [link=x]y[/link]", 0, speaker="A", language="en"))
        await pilot.pause()
        line = log.rows[0].lines[0]
        assert line.plain == "00:00:00 A: [en] [bold]not bold[/] [link=x]y[/link]"
        assert not any(span.style == "bold" for span in line.spans)
        for i in range(1, 150):
            log.add(turn(i, f"turn {i}", i * 1000))
        assert len(log.rows) == 100 and log.entries[0].index == 50 and log.dropped == 50
        log.add(pause_marker(5000, 12000))
        assert log.rows[-1].lines[0].plain.endswith("── paused 00:00:05–00:00:17 ──")


async def test_caption_log_rewraps_on_resize():
    log = CaptionLog()
    text = " ".join(f"word{i}" for i in range(30))
    async with One(log).run_test(size=(100, 20)) as pilot:
        log.add(turn(0, text, 0))
        await pilot.pause()
        wide = len(log.rows[0].lines)
        await pilot.resize_terminal(40, 20)
        await pilot.pause()
        narrow = [line.plain for line in log.rows[0].lines]
        assert len(narrow) > wide
        assert all(len(line) <= 40 for line in narrow)
        assert " ".join(" ".join(narrow).split()[1:]) == text  # nothing lost (after the stamp)


def test_marker_texts():
    from tui.core.transcript.model import Marker

    assert marker_text(Marker("reconnect", 61_000, 0.0, 0, "connection lost (1006)")) == \
        "reconnected at 00:01:01: connection lost (1006)"
    assert marker_text(Marker("gap", 1000, 0.0, 2500, "buffer full")) == "audio lost 00:00:01–00:00:03: buffer full"
