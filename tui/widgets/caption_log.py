"""The scrollback of finished turns and markers: bounded, follows the bottom, re-wraps on resize.

A line-API ScrollView over its own model (the entries), so a resize simply re-wraps the
model. Transcript text only ever goes into rich Text as plain strings, never as markup.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Offset, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from tui.core.transcript.model import FinalTurn, Marker
from tui.core.transcript.speakers import speaker_name, speaker_spans
from tui.core.transcript.wording import clock, marker_text
from tui.widgets.speaker_style import speaker_style


def stamp(entry: FinalTurn | Marker, mode: str) -> str:
    if mode == "offset":
        return clock(entry.start_ms if isinstance(entry, FinalTurn) else entry.at_ms)
    if mode == "wall":
        return time.strftime("%H:%M:%S", time.localtime(entry.wall_time))
    return ""


CACHE_LINES = 400  # rendered lines kept: a few screens' worth


@dataclass(slots=True)
class _Row:
    entry: FinalTurn | Marker
    lines: list[Text]
    speaker: str | None = None  # the name in force after this row (shown when it changes)
    language: str | None = None  # likewise the language


class CaptionLog(ScrollView, can_focus=True):
    """Finished turns, newest at the bottom; at most `max_entries` kept (the transcript keeps all)."""

    DEFAULT_CSS = """
    CaptionLog { height: 1fr; overflow-x: hidden; overflow-y: auto; }
    CaptionLog > .caption-log--time { color: $text-muted; }
    CaptionLog > .caption-log--speaker { color: $accent; text-style: bold; }
    CaptionLog > .caption-log--source-mic { color: $success; text-style: bold; }
    CaptionLog > .caption-log--source-system { color: $secondary; text-style: bold; }
    CaptionLog > .caption-log--language { color: $text-secondary; }
    CaptionLog > .caption-log--marker { color: $text-warning; text-style: italic; }
    CaptionLog > .caption-log--match { background: $warning-muted; }
    CaptionLog > .caption-log--current-match { background: $warning; color: $background; text-style: bold; }
    """
    COMPONENT_CLASSES = {"caption-log--time", "caption-log--speaker", "caption-log--language",
                         "caption-log--source-mic", "caption-log--source-system",
                         "caption-log--marker", "caption-log--match", "caption-log--current-match"}

    class Unseen(Message):
        """The count of turns below the view changed (0: following the bottom again)."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    def __init__(self, max_entries: int = 5000, timestamps: str = "offset", *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.max_entries = max_entries
        self.timestamps = timestamps
        self.rows: deque[_Row] = deque()
        self.dropped = 0  # entries pushed out of the top; serial = dropped + position
        self._starts: list[int] = []  # first line of each row
        self._total = 0
        self._width = 0
        self._cache: dict[int, Strip] = {}
        self._rewrap_due = False
        self.following = True
        self.unseen = 0
        self.search_text = ""  # not `query`: that is DOMNode.query(), which Textual calls
        self.matches: list[int] = []  # serials of entries that match search_text
        self.current: int | None = None  # serial of the current match
        self.speaker_names: dict[str, str] = {}  # label -> name a person gave
        self.sources: dict[str, str] = {}  # source -> name, when two sources are captioned

    # ----------------------------------------------------------------- model

    @property
    def entries(self) -> list[FinalTurn | Marker]:
        return [r.entry for r in self.rows]

    def add(self, entry: FinalTurn | Marker) -> None:
        """Append an entry; a turn already shown (same index) is replaced in place."""
        if isinstance(entry, FinalTurn):
            for row in reversed(self.rows):
                if isinstance(row.entry, FinalTurn) and row.entry.index == entry.index:
                    row.entry = entry
                    self._rebuild()
                    return
        serial = self.dropped + len(self.rows)
        row = _Row(entry, [])
        self._fill(row, serial, self.rows[-1] if self.rows else None)
        self.rows.append(row)
        removed = 0
        while len(self.rows) > self.max_entries:
            removed += len(self.rows.popleft().lines)
            self.dropped += 1
        if self.search_text and self._matches(entry):
            self.matches.append(serial)
        self.matches = [s for s in self.matches if s >= self.dropped]
        if self.current is not None and self.current < self.dropped:
            self.current = None
        self._reindex()
        if self.following:
            # Scroll now, in the same screen update as the new row (virtual_size is already
            # set): the deferred default waits for a refresh first and so puts the row on
            # screen one or two frames later (bench/display.py). Not before the first layout.
            self.scroll_end(animate=False, immediate=bool(self.size.height))
        else:
            if removed:
                self.scroll_to(y=max(self.scroll_y - removed, 0), animate=False, immediate=True)
            self._set_unseen(self.unseen + 1)

    def clear(self) -> None:
        """Empty the screen (the transcript is not touched)."""
        self.rows.clear()
        self.matches, self.current = [], None
        self._reindex()
        self.following = True
        self._set_unseen(0)

    def set_speaker_names(self, names: dict[str, str]) -> None:
        """A speaker was renamed: every turn shows the new name (retroactive)."""
        self.speaker_names = dict(names)
        self._rebuild()

    def set_timestamps(self, mode: str) -> None:
        self.timestamps = mode
        self._rebuild()

    def follow(self) -> None:
        """Jump to the newest line and follow it again."""
        self.following = True
        self._set_unseen(0)
        self.scroll_end(animate=False)

    # ---------------------------------------------------------------- search

    def _matches(self, entry: FinalTurn | Marker) -> bool:
        return isinstance(entry, FinalTurn) and self.search_text.casefold() in entry.text.casefold()

    def search(self, query: str) -> int:
        """Highlight matches of query and go to the newest; returns how many entries match."""
        self.search_text = query
        self.matches = [self.dropped + i for i, r in enumerate(self.rows)
                        if query and self._matches(r.entry)]
        self.current = self.matches[-1] if self.matches else None
        self._rebuild()
        self._reveal()
        return len(self.matches)

    def next_match(self, older: bool = True) -> int | None:
        """Move to the next older (or newer) match, wrapping around; its position 1..n."""
        if not self.matches:
            return None
        i = self.matches.index(self.current) if self.current in self.matches else len(self.matches)
        i = (i - 1) % len(self.matches) if older else (i + 1) % len(self.matches)
        self.current = self.matches[i]
        self._rebuild()
        self._reveal()
        return i + 1

    def _reveal(self) -> None:
        if self.current is None:
            return
        pos = self.current - self.dropped
        top = self._starts[pos]
        self.following = False
        target = max(top - self.scrollable_content_region.height // 2, 0)
        self.scroll_to(y=target, animate=False, immediate=True)
        if self.scroll_y >= self.max_scroll_y:
            self.following = True
            self._set_unseen(0)

    # -------------------------------------------------------------- rendering

    def _fill(self, row: _Row, serial: int, before: _Row | None) -> None:
        """Wrap the row, knowing who spoke and in which language just before it."""
        row.speaker = before.speaker if before else None
        row.language = before.language if before else None
        row.lines = self._wrap(row.entry, serial, row)

    def _name_style(self, entry: FinalTurn, label: str | None) -> Style:
        """A speaker's own colour; a source's colour for a turn with no speaker label."""
        if label or entry.source not in self.sources:
            return speaker_style(label or "")
        return self.get_component_rich_style(f"caption-log--source-{entry.source}", partial=True)

    def _voices(self, text: Text, entry: FinalTurn, row: _Row) -> str:
        """The turn's speaker names and language tag (each where it changes); returns the body."""
        body: list[str] = []
        source = self.sources.get(entry.source) if entry.source else None
        for i, span in enumerate(speaker_spans(entry)):
            name = speaker_name(span.speaker, self.speaker_names, source)
            if name and name != row.speaker:
                if body:
                    text.append(" ".join(body) + " ")
                    body = []
                text.append(f"{name}:", self._name_style(entry, span.speaker))
                text.append(" ")
            row.speaker = name or row.speaker
            if i == 0 and entry.language and entry.language != row.language:
                text.append(f"[{entry.language}]", self.get_component_rich_style("caption-log--language", partial=True))
                text.append(" ")
            body.append(span.text)
        row.language = entry.language or row.language
        return " ".join(body)

    def _wrap(self, entry: FinalTurn | Marker, serial: int, row: _Row | None = None) -> list[Text]:
        width = max(self._width or self.scrollable_content_region.width or 80, 10)
        style = self.get_component_rich_style
        text = Text(end="")
        when = stamp(entry, self.timestamps)
        if when:
            text.append(when, style("caption-log--time", partial=True))
            text.append(" ")
        if isinstance(entry, Marker):
            text.append(f"── {marker_text(entry)} ──", style("caption-log--marker", partial=True))
        else:
            body = self._voices(text, entry, row or _Row(entry, []))
            body_start = len(text.plain)
            text.append(body)
            if self.search_text:
                cls = "caption-log--current-match" if serial == self.current else "caption-log--match"
                hl: Style = style(cls, partial=True)
                pattern = re.compile(re.escape(self.search_text), re.IGNORECASE)
                for m in pattern.finditer(body):
                    text.stylize(hl, body_start + m.start(), body_start + m.end())
        lines = list(text.wrap(self.app.console, width, overflow="fold"))
        for line in lines:
            line.rstrip()
        return lines or [Text("")]

    def _rebuild(self) -> None:
        before = None
        for i, row in enumerate(self.rows):
            self._fill(row, self.dropped + i, before)
            before = row
        self._reindex()

    def _reindex(self) -> None:
        self._starts, n = [], 0
        for row in self.rows:
            self._starts.append(n)
            n += len(row.lines)
        self._total = n
        self._cache.clear()
        self.virtual_size = Size(self._width, n)
        self.refresh()

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if width and width != self._width:
            top = self._entry_at(round(self.scroll_y))
            self._width = width
            self._rebuild()
            if self.following:
                self.scroll_end(animate=False)
            elif top is not None:
                self.scroll_to(y=self._starts[top], animate=False, immediate=True)

    def _rewrap(self) -> None:
        self._rewrap_due = False
        self.on_resize()

    def _entry_at(self, y: int) -> int | None:
        if not self._starts:
            return None
        lo, hi = 0, len(self._starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._starts[mid] <= y:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def _line(self, y: int) -> Text | None:
        pos = self._entry_at(y)
        if pos is None or y >= self._total:
            return None
        return self.rows[pos].lines[y - self._starts[pos]]

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if width and width != self._width and not self._rewrap_due:
            # The text width changed without a Resize: the scrollbar appeared when the log
            # first overflowed. Rewrap and scroll to the bottom again after this frame, or the
            # newest turn stayed hidden until the next one came (bench/display.py).
            self._rewrap_due = True
            self.call_later(self._rewrap)
        selection = self.text_selection
        if selection is None and index in self._cache:
            return self._cache[index]
        line = self._line(index)
        base = self.rich_style
        if line is None:
            return Strip.blank(width, base)
        if selection is not None and (span := selection.get_span(index)) is not None:
            start, end = span
            line = line.copy()
            line.stylize(self.screen.get_component_rich_style("screen--selection"), start,
                         len(line) if end == -1 else end)
        strip = Strip(line.render(self.app.console), line.cell_len).apply_style(base)
        strip = strip.crop_extend(scroll_x, scroll_x + width, base).apply_offsets(scroll_x, index)
        if selection is None:
            if len(self._cache) >= CACHE_LINES:
                # Scrolling through a long log cached every line it passed: tens of thousands
                # of strips, which also set off long full garbage collections mid-scroll
                # (bench/longsession.py). Keep only about the lines recently on screen.
                self._cache.clear()
            self._cache[index] = strip
        return strip

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        at_bottom = new >= self.max_scroll_y
        if at_bottom != self.following and self.size.height:
            self.following = at_bottom
            if at_bottom:
                self._set_unseen(0)

    def _set_unseen(self, count: int) -> None:
        if count != self.unseen:
            self.unseen = count
            self.post_message(self.Unseen(count))

    # ------------------------------------------------------------- selection

    def selected_entry(self) -> FinalTurn | Marker | None:
        """The entry where the mouse selection starts, else the current search match."""
        selection = self.text_selection
        if selection is not None and selection.start is not None and self.rows:
            pos = self._entry_at(selection.start.y)
            return self.rows[pos].entry if pos is not None else None
        if self.current is not None and 0 <= self.current - self.dropped < len(self.rows):
            return self.rows[self.current - self.dropped].entry
        return None

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        text = "\n".join(line.plain for row in self.rows for line in row.lines)
        return selection.extract(text), "\n"

    def on_click(self, event: events.Click) -> None:
        """A double-click selects the turn under the pointer (Textual's default: the whole log)."""
        if event.chain != 2 or not self.allow_select:
            return
        event.prevent_default()
        at = event.get_content_offset(self)
        y = round(self.scroll_y) + (at.y if at is not None else self._total)
        pos = self._entry_at(y)
        if pos is None or y >= self._total:
            self.screen.clear_selection()  # below the last turn: nothing
            return
        first, last = self._starts[pos], self._starts[pos] + len(self.rows[pos].lines) - 1
        end = Offset(len(self.rows[pos].lines[-1].plain), last)
        self.screen.selections = {self: Selection(Offset(0, first), end)}

    def selection_updated(self, selection: Selection | None) -> None:
        self._cache.clear()
        self.refresh()
