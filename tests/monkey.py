"""A seeded random storm of user input for the real `captioner --demo` in tmux.

Keys (every binding, letters, Escape, Tab, Enter, F-keys, ctrl+l, ctrl+p), SGR mouse events
written as terminal input (clicks, double and triple clicks, drags, wheel, right and middle
clicks, on every region of the screen), bracketed pastes, and resizes from 20x6 to 200x60.
After every event: the app is still running and no traceback is on the screen. At the end:
q exits 0, the journal is complete (footer) and holds every turn seen on the screen, and
the log holds no internal error (a bug the app contained is still a bug).

Keys that quit (q, ctrl+c, ctrl+q) are left out of the storm. A quit can still be asked
for with the mouse (the footer's "q Quit", the palette's Quit command); an exit with status
0 after a click or Enter is such a quit: the app is started again and the storm goes on.

tests/e2e/test_monkey.py runs it for ~30 s; bench/monkey.py for 10 minutes.
"""

from __future__ import annotations

import random
import re
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from tmuxapp import TmuxApp, traceback_on, wait_until

from tui.core.transcript.journal import read_journal

BINDINGS = ["Space", "p", "s", "C-s", "f", "c", "/", "n", "N", "t", "C-l", "End", "Escape", "?", "F1"]
NAVIGATION = ["Escape", "Tab", "BTab", "Enter", "Up", "Down", "Left", "Right", "PPage", "NPage", "Home",
              "End", "BSpace", "C-l", "C-p", *(f"F{i}" for i in range(1, 13))]
LETTERS = [c for c in "abcdefghijklmnoprstuvwxyzABCDEFGHIJKLMNOPRSTUVWXYZ0123456789.,-'"]  # no q / Q
PASTES = ["hello", "the report", "line one\nline two", "émoji ✓ 漢字", "[bold]not markup[/]", "x" * 300,
          "/tmp/elsewhere/out.md", "\t tabs\tand  spaces "]
REGIONS = ["log", "log", "info", "live", "meter", "status", "footer", "dialog", "anywhere"]
TURN_ROW = re.compile(r"^\s*\d\d:\d\d:\d\d (\S.*?)\s*$")


@dataclass
class Event:
    kind: str
    detail: str
    run: object = field(repr=False, default=None)

    def __str__(self) -> str:
        return f"{self.kind} {self.detail}"


def sgr(button: int, x: int, y: int, press: bool = True) -> str:
    return f"\x1b[<{button};{x + 1};{y + 1}{'M' if press else 'm'}"


class Storm:
    """Random events from one seed, aimed at the regions of the current screen size."""

    def __init__(self, seed: int, size: tuple[int, int] = (100, 30)) -> None:
        self.rng = random.Random(seed)
        self.width, self.height = size

    def region_point(self, region: str) -> tuple[int, int]:
        w, h, r = self.width, self.height, self.rng
        log_rows = max(h - 8, 1)  # info 1, live 3, meter 1, status 2, footer 1 (captioner.tcss)
        rows = {"log": (0, log_rows - 1), "info": (log_rows, log_rows), "live": (h - 7, h - 5),
                "meter": (h - 4, h - 4), "status": (h - 3, h - 2), "footer": (h - 1, h - 1),
                "dialog": (h // 4, 3 * h // 4), "anywhere": (0, h - 1)}[region]
        lo, hi = max(min(rows[0], h - 1), 0), max(min(rows[1], h - 1), 0)
        return r.randint(0, w - 1), r.randint(lo, max(lo, hi))

    def next(self) -> Event:
        r = self.rng
        kind = r.choices(["binding", "key", "letters", "click", "double", "triple", "drag", "wheel",
                          "right", "middle", "paste", "resize"],
                         weights=[14, 12, 8, 10, 5, 3, 6, 8, 3, 2, 3, 3])[0]
        if kind == "binding":
            key = r.choice(BINDINGS)
            return Event(kind, key, ("keys", [key]))
        if kind == "key":
            key = r.choice(NAVIGATION)
            return Event(kind, key, ("keys", [key]))
        if kind == "letters":
            text = "".join(r.choice(LETTERS) for _ in range(r.randint(1, 6)))
            return Event(kind, repr(text), ("write", text))
        if kind == "paste":
            text = r.choice(PASTES)
            return Event(kind, repr(text[:30]), ("write", f"\x1b[200~{text}\x1b[201~"))
        if kind == "resize":
            self.width, self.height = r.randint(20, 200), r.randint(6, 60)
            return Event(kind, f"{self.width}x{self.height}", ("resize", (self.width, self.height)))
        return self._mouse(kind)

    def _mouse(self, kind: str) -> Event:
        region = self.rng.choice(REGIONS)
        x, y = self.region_point(region)
        where = f"{region} ({x},{y})"
        if kind in ("click", "double", "triple", "right", "middle"):
            button = {"right": 2, "middle": 1}.get(kind, 0)
            times = {"double": 2, "triple": 3}.get(kind, 1)
            data = (sgr(button, x, y) + sgr(button, x, y, press=False)) * times
            return Event(kind, where, ("write", data))
        if kind == "wheel":
            button = self.rng.choice([64, 65])
            data = sgr(button, x, y) * self.rng.randint(1, 5)
            return Event(kind, f"{'up' if button == 64 else 'down'} {where}", ("write", data))
        x2, y2 = self.region_point(self.rng.choice(REGIONS))  # a drag, with moves on the way
        steps = self.rng.randint(1, 6)
        moves = "".join(sgr(32, x + (x2 - x) * i // steps, y + (y2 - y) * i // steps) for i in range(1, steps + 1))
        return Event(kind, f"{where} to ({x2},{y2})", ("write", sgr(0, x, y) + moves + sgr(0, x2, y2, press=False)))


def send(term: TmuxApp, event: Event) -> None:
    how, what = event.run
    if how == "keys":
        term.keys(*what)
    elif how == "write":
        term.write(what)
    else:
        term.resize(*what)


CONFIG = """[output]
directory = "{out}"
"""


@dataclass
class Result:
    seed: int
    events: int = 0
    runs: int = 0  # app processes started (a quit by mouse starts another)
    quits: int = 0  # of them, ended by a quit asked for with the mouse or Enter
    failure: str | None = None
    seen_turns: set[str] = field(default_factory=set)

    def line(self) -> str:
        state = f"FAILED: {self.failure}" if self.failure else "ok"
        return f"seed {self.seed}: {self.events} events, {self.runs} runs, {self.quits} mouse quits: {state}"


class Monkey:
    def __init__(self, folder: Path, seed: int, seconds: float, pace_s: float = 0.03) -> None:
        self.folder, self.seed, self.seconds, self.pace_s = folder, seed, seconds, pace_s
        self.storm = Storm(seed)
        self.recent: deque[Event] = deque(maxlen=12)
        self.result = Result(seed)

    def _start(self) -> TmuxApp:
        self.result.runs += 1
        folder = self.folder / f"run{self.result.runs}"
        self.storm.width, self.storm.height = 100, 30
        term = TmuxApp(folder, ["-m", "tui", "--demo"], config=CONFIG.format(out=folder / "out"))
        wait_until(lambda: "level" in term.screen() or term.exited(), 30, "the app to start")
        return term

    def fail(self, why: str) -> str:
        events = "; ".join(str(e) for e in self.recent)
        self.result.failure = f"{why}; seed {self.seed}; after: {self.recent[-1] if self.recent else '-'}; last events: {events}"
        return self.result.failure

    def run(self) -> Result:
        end = time.monotonic() + self.seconds
        term = self._start()
        try:
            while time.monotonic() < end and self.result.failure is None:
                term = self._step(term)
            if self.result.failure is None:
                self._finish(term)
        finally:
            term.close()
        return self.result

    def _step(self, term: TmuxApp) -> TmuxApp:
        event = self.storm.next()
        self.recent.append(event)
        send(term, event)
        self.result.events += 1
        time.sleep(self.rng_pause())
        screen = term.screen()
        if (line := traceback_on(screen)) is not None:
            self.fail(f"a traceback on the screen: {line.strip()}")
            return term
        if "internal error" in term.log_text():  # contained, but a bug all the same
            first = next(x for x in term.log_text().splitlines() if "internal error" in x)
            self.fail(f"an internal error: {first}")
            return term
        if self.result.events % 5 == 0:
            self._collect(screen, term.screen())
        if term.exited():
            if not self._asked_quit(term):
                return term
            self._check_run(term)
            term.close()
            return self._start()
        return term

    def rng_pause(self) -> float:
        return self.storm.rng.uniform(0, 2 * self.pace_s)

    def _asked_quit(self, term: TmuxApp) -> bool:
        """An exit 0 after a click or Enter (the footer's Quit, the palette) is a quit; anything else fails."""
        code = int(term.rc.read_text())
        by_user = any(e.kind in ("click", "double", "triple", "drag") or e.detail == "Enter" for e in self.recent)
        if code != 0 or not by_user:
            self.fail(f"the app exited with status {code}" + ("" if code else " without being asked to"))
            return False
        self.result.quits += 1
        return True

    def _collect(self, screen: str, again: str) -> None:
        """Turns on the screen; only rows the same in two captures (not one caught mid-frame)."""
        if self.storm.width < 60:
            return  # narrow: turns wrap and cut, compare only wide screens
        for row, same in zip(screen.splitlines(), again.splitlines()):
            if row != same:
                continue
            match = TURN_ROW.match(row)
            if not match or match.group(1).startswith("──"):
                continue  # not a turn, or a pause marker
            text = re.split(r"\s{2,}|[│╭╮╰╯▏▕▼▌▐]", match.group(1))[0].rstrip("…")  # a dialog or toast may cover the rest
            if len(text) >= 8:
                self.result.seen_turns.add(text)

    def _finish(self, term: TmuxApp) -> None:
        term.resize(100, 30)
        for attempt in range(4):  # close a dialog, the palette or the search box first
            if term.exited():
                break
            term.keys("Escape")
            time.sleep(0.3)
            term.keys("Escape")
            time.sleep(0.3)
            term.keys("q")
            try:
                wait_until(term.exited, 10, "exit")
            except AssertionError:
                continue
        if not term.exited():
            self.fail("q did not end the app")
            return
        code = int(term.rc.read_text())
        if code != 0:
            self.fail(f"q: exit status {code}: {term.screen().strip()[-300:]}")
            return
        self._check_run(term)

    def _check_run(self, term: TmuxApp) -> None:
        if (line := traceback_on(term.screen())) is not None:
            self.fail(f"a traceback after exit: {line.strip()}")
            return
        if "internal error" in term.log_text():
            first = next(x for x in term.log_text().splitlines() if "internal error" in x)
            self.fail(f"the log has an internal error: {first}")
            return
        journals = term.journals()
        if len(journals) != 1:
            self.fail(f"{len(journals)} journals")
            return
        journal = read_journal(journals[0])
        if journal.footer is None:
            self.fail("the journal has no footer")
            return
        text = " ".join(t.text for t in journal.turns)
        missing = [t for t in self.result.seen_turns if t not in text]
        if missing:
            self.fail(f"turns seen on the screen but not in the journal: {missing}")
        self.result.seen_turns = set()
