"""The input level meter: RMS bar, peak, peak hold, clipping and "no signal", in dBFS."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tui.core.levels import CLIP_DB, FLOOR_DB, LevelSnapshot

NO_SIGNAL_AFTER_S = 3.0  # digital silence this long shows the "no signal" hint
LABEL_W = 6  # "level "
TAIL_W = 28  # " -23 dB  peak -12 dB  CLIP"


def db_to_cells(db: float, cells: int) -> int:
    """How many of `cells` a level fills on the FLOOR_DB..0 scale."""
    frac = (min(max(db, FLOOR_DB), 0.0) - FLOOR_DB) / -FLOOR_DB
    return round(frac * cells)


class LevelMeter(Widget):
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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.levels: LevelSnapshot | None = None
        self._key: tuple | None = None
        self.repaints = 0  # how often show() asked for a repaint (for tests)
        self._styles: dict[tuple[str, bool], Style] = {}

    def _bar_cells(self) -> int:
        return max(self.size.width - LABEL_W - TAIL_W, 8)

    def picture(self, levels: LevelSnapshot | None) -> tuple:
        """What is drawn for these levels at this width: equal pictures are not repainted."""
        if levels is None:
            return (self.size.width, None)
        cells = self._bar_cells()
        return (self.size.width, db_to_cells(levels.rms_db, cells), db_to_cells(levels.peak_db, cells),
                db_to_cells(levels.hold_db, cells), round(levels.rms_db), round(levels.peak_db),
                levels.clipping or levels.peak_db >= CLIP_DB, levels.silent_for_s >= NO_SIGNAL_AFTER_S)

    def show(self, levels: LevelSnapshot | None) -> bool:
        key = self.picture(levels)
        self.levels = levels
        if key == self._key:
            return False
        self._key = key
        self.repaints += 1
        self.refresh()
        return True

    def on_resize(self) -> None:
        self._key = None

    def _style(self, name: str, partial: bool = True) -> Style:
        """A component's style, kept until the CSS or theme changes: Textual drops its own
        cache at every refresh(), and looking styles up was a quarter of a repaint's cost."""
        style = self._styles.get((name, partial))
        if style is None:
            style = self._styles[name, partial] = self.get_component_rich_style(name, partial=partial)
        return style

    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()

    def render(self) -> Text:
        style = self._style
        text = Text("level ", style=style("level-meter--label", partial=True), no_wrap=True,
                    overflow="crop", end="")
        lv = self.levels
        if lv is None:
            text.append("waiting for audio", style("level-meter--hint", partial=True))
            return text
        cells = self._bar_cells()
        rms, peak, hold = (db_to_cells(lv.rms_db, cells), db_to_cells(lv.peak_db, cells),
                           db_to_cells(lv.hold_db, cells))
        hold = min(max(hold, 1), cells)
        # One span per run of equal cells, not one per cell: the meter repaints up to 30 times
        # a second and per-span styling was most of the app's CPU (bench/RESULTS.md).
        full = max(rms, peak)
        empty = style("level-meter--empty", partial=True)
        if rms:
            text.append("█" * rms, style("level-meter--rms", partial=True))
        if peak > rms:
            text.append("▒" * (peak - rms), style("level-meter--peak", partial=True))
        if hold > full:
            if hold - 1 > full:
                text.append("·" * (hold - 1 - full), empty)
            text.append("│", style("level-meter--hold", partial=True))
            full = hold
        if cells > full:
            text.append("·" * (cells - full), empty)
        text.append(f" {lv.rms_db:4.0f} dB  peak {lv.peak_db:4.0f} dB")
        if lv.clipping or lv.peak_db >= CLIP_DB:
            text.append(" ")
            text.append(" CLIP ", style("level-meter--clip", partial=True))
        elif lv.silent_for_s >= NO_SIGNAL_AFTER_S:
            text.append(" ")
            text.append("no signal", style("level-meter--hint", partial=True))
        return text
