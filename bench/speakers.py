"""Speakers on screen: what re-wrapping the scrollback costs when turns carry speakers.

A resize (or a rename, which is retroactive) re-wraps every row of the caption log. The real
CaptionLog in a headless app (100x30), 5000 lecture turns of 22 words each, three ways:
no speakers (the reference, as before speakers existed), a speaker per turn (A/B
alternating), and word-level speakers with a change inside every turn (the heaviest case:
each turn is split into two named spans). Figure: time of one full rebuild, best of 5 per
round, best of the interleaved rounds.

    python bench/speakers.py [--turns 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import LECTURE, figure, header  # noqa: E402

from textual.app import App  # noqa: E402

from tui.core.transcript.model import FinalTurn, TimedWord  # noqa: E402
from tui.widgets.caption_log import CaptionLog  # noqa: E402


def lecture_turns(n: int, mode: str) -> list[FinalTurn]:
    turns = []
    for i in range(n):
        text = LECTURE[i % len(LECTURE)]
        label = "AB"[i % 2] if mode != "none" else None
        words = []
        for k, w in enumerate(text.split()):
            own = ("AB"[(i + (k > 10)) % 2]) if mode == "words" else None
            words.append(TimedWord(w, i * 9000 + k * 300, i * 9000 + k * 300 + 250, 0.9, own))
        turns.append(FinalTurn(i, i * 9000, i * 9000 + 8000, text, words, 0.0, label))
    return turns


class One(App):
    def __init__(self, log: CaptionLog) -> None:
        super().__init__()
        self.log_widget = log

    def compose(self):
        yield self.log_widget


async def rebuild_s(turns: list[FinalTurn]) -> float:
    log = CaptionLog(max_entries=len(turns))
    async with One(log).run_test(size=(100, 30)) as pilot:
        for t in turns:
            log.add(t)
        await pilot.pause()
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            log._rebuild()
            best = min(best, time.perf_counter() - t0)
    return best


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    header("speakers")
    modes = (("none", "no speakers (reference)"), ("turns", "a speaker per turn"),
             ("words", "word speakers, a change in every turn"))
    best = {mode: float("inf") for mode, _ in modes}
    for _ in range(args.rounds):  # interleaved, so a busy moment does not favour one mode
        for mode, _ in modes:
            best[mode] = min(best[mode], await rebuild_s(lecture_turns(args.turns, mode)))
    for mode, what in modes:
        figure(f"rebuild {args.turns} rows, {what}", best[mode] * 1000, "ms")


if __name__ == "__main__":
    asyncio.run(main())
