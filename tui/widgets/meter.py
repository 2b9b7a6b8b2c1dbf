"""The input level meter: RMS bar, peak, peak hold, clipping and "no signal", in dBFS."""

from __future__ import annotations

import dataclasses

from rich.segment import Segment
from textual.strip import Strip

from tui.widgets.paint import PaintedLines
from tui.core.audio.levels import CLIP_DB, FLOOR_DB, LevelSnapshot

FALL_DB_PER_S = 30.0  # the bar and the peak fall no faster than this (they rise at once)
NO_SIGNAL_AFTER_S = 3.0  # digital silence this long shows the "no signal" hint
LABEL_W = 6  # "level "
TAIL_W = 32  # " -23 dB  peak  -12 dB no signal", the widest tail


def db_to_cells(db: float, cells: int) -> int:
    """How many of `cells` a level fills on the FLOOR_DB..0 scale."""
    frac = (min(max(db, FLOOR_DB), 0.0) - FLOOR_DB) / -FLOOR_DB
    return round(frac * cells)


class MeterBallistics:
    """What the meter shows of the levels: a rise at once, a fall of at most FALL_DB_PER_S.

    The meter repaints as frames of audio come in (at most ui.meter_rate a second), not on a
    timer of its own, showing the loudest block since its last paint; a level that drops 30 dB
    glides down over a second rather than jumping, so it still looks smooth. None (no audio,
    or no more) resets it.
    """

    def __init__(self) -> None:
        self._shown: tuple[float, float, float] | None = None  # (rms, peak, at)

    def apply(self, levels: LevelSnapshot | None, now: float) -> LevelSnapshot | None:
        if levels is None:
            self._shown = None
            return None
        rms, peak = levels.rms_db, levels.peak_db
        if self._shown is not None:
            old_rms, old_peak, at = self._shown
            fall = FALL_DB_PER_S * max(now - at, 0.0)
            rms, peak = max(rms, old_rms - fall), max(peak, old_peak - fall)
        self._shown = (rms, peak, now)
        return dataclasses.replace(levels, rms_db=rms, peak_db=peak)


class LevelMeter(PaintedLines):
    """One line. show() takes a LevelSnapshot; an unchanged picture causes no repaint."""

    DEFAULT_CSS = """
    LevelMeter { height: 1; }
    LevelMeter > .level-meter--label { color: $text-muted; }
    LevelMeter > .level-meter--rms { color: $success; }
    LevelMeter > .level-meter--peak { color: $success-darken-2; }
    LevelMeter > .level-meter--hold { color: $warning; }
    LevelMeter > .level-meter--empty { color: $text-disabled; }
    LevelMeter > .level-meter--clip { background: $error; color: $text; text-style: bold; }
    LevelMeter > .level-meter--hint { color: $text-warning; text-style: italic; }
    """
    COMPONENT_CLASSES = {"level-meter--rms", "level-meter--peak", "level-meter--hold",
                         "level-meter--empty", "level-meter--clip", "level-meter--hint",
                         "level-meter--label"}

    def __init__(self, label: str = "level", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = f"{label[:LABEL_W - 1]:<{LABEL_W - 1}} "  # a source's name, with two sources
        self.levels: LevelSnapshot | None = None
        self.ended = False
        self._key: tuple | None = None

    def _bar_cells(self) -> int:
        return max(self.size.width - LABEL_W - TAIL_W, 8)

    def picture(self, levels: LevelSnapshot | None) -> tuple:
        """What is drawn for these levels at this width: equal pictures are not repainted."""
        if levels is None:
            return (self.size.width, None, self.ended)
        cells = self._bar_cells()
        return (self.size.width, db_to_cells(levels.rms_db, cells), db_to_cells(levels.peak_db, cells),
                db_to_cells(levels.hold_db, cells), round(levels.rms_db), round(levels.peak_db),
                levels.clipping or levels.peak_db >= CLIP_DB, levels.silent_for_s >= NO_SIGNAL_AFTER_S)

    def show(self, levels: LevelSnapshot | None, ended: bool = False) -> bool:
        """Show these levels; None: no audio yet, or none any more if `ended` (capture is over)."""
        self.ended = ended
        key = self.picture(levels)
        self.levels = levels
        if key == self._key:
            return False
        self._key = key
        self.repaint()
        return True

    def on_resize(self) -> None:
        self._key = None

    def spans(self) -> list[tuple[str, str | None]]:
        """The line as (text, component class) runs: one run per stretch of equal cells."""
        out: list[tuple[str, str | None]] = [(self.label, "level-meter--label")]
        lv = self.levels
        if lv is None:
            out.append(("input ended" if self.ended else "waiting for audio", "level-meter--hint"))
            return out
        cells = self._bar_cells()
        rms, peak, hold = (db_to_cells(lv.rms_db, cells), db_to_cells(lv.peak_db, cells),
                           db_to_cells(lv.hold_db, cells))
        hold = min(max(hold, 1), cells)
        full = max(rms, peak)
        if rms:
            out.append(("█" * rms, "level-meter--rms"))
        if peak > rms:
            out.append(("▒" * (peak - rms), "level-meter--peak"))
        if hold > full:
            if hold - 1 > full:
                out.append(("·" * (hold - 1 - full), "level-meter--empty"))
            out.append(("│", "level-meter--hold"))
            full = hold
        if cells > full:
            out.append(("·" * (cells - full), "level-meter--empty"))
        out.append((f" {lv.rms_db:4.0f} dB  peak {lv.peak_db:4.0f} dB", None))
        if lv.clipping or lv.peak_db >= CLIP_DB:
            out += [(" ", None), (" CLIP ", "level-meter--clip")]
        elif lv.silent_for_s >= NO_SIGNAL_AFTER_S:
            out += [(" ", None), ("no signal", "level-meter--hint")]
        return out

    def render_line(self, y: int) -> Strip:
        """Textual's line API: segments straight from the spans, no Text-to-Content conversion,
        which cost ten times the meter's own drawing at every repaint (bench/RESULTS.md)."""
        if y:
            return Strip([])
        # The label's style is the base of the whole line, as it always was.
        return Strip([Segment(text, self.line_style("level-meter--label", name)) for text, name in self.spans()])

    def plain(self) -> str:
        return "".join(text for text, _ in self.spans())
