"""Headless captioning: finished turns to stdout (plain text or JSON lines), the rest to stderr.

For pipes, scripts and screen readers. SIGINT, SIGTERM and SIGHUP end the session cleanly:
the last turns are flushed and printed, nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import TextIO

from tui.config import Settings
from tui.core.stream import events as ev
from tui.captioning import CaptionSession, RunOptions
from tui.core.transcript.model import FinalTurn


def turn_json(turn: FinalTurn) -> str:
    return json.dumps({
        "turn_order": turn.index,
        "start_ms": turn.start_ms,
        "end_ms": turn.end_ms,
        "text": turn.text,
        "words": [{"text": w.text, "start_ms": w.start_ms, "end_ms": w.end_ms,
                   "confidence": w.confidence} for w in turn.words],
        **({"speaker": turn.speaker} if turn.speaker else {}),
        **({"language": turn.language} if turn.language else {}),
    }, ensure_ascii=False)


class HeadlessPrinter:
    def __init__(self, jsonl: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.jsonl, self.out, self.err = jsonl, out, err

    def __call__(self, event: ev.Event) -> None:
        match event:
            case ev.TurnFinal(turn=turn):
                self.out.write((turn_json(turn) if self.jsonl else turn.text) + "\n")
                self.out.flush()
            case ev.Notice(level="error" | "warning", text=text):
                self.err.write(f"captioner: {text}\n")
            case ev.StateChanged(state=ev.RECONNECTING, detail=detail, attempt=n) if n and detail:
                # One line per retry: the state change that starts the attempt has no reason.
                self.err.write(f"captioner: reconnecting (attempt {n}): {detail}\n")
            case ev.MarkerAdded(marker=m) if m.kind == "gap":
                self.err.write(f"captioner: {m.duration_ms / 1000:.1f} s of audio lost: {m.detail}\n")


async def run_headless(settings: Settings, options: RunOptions, jsonl: bool) -> int:
    printer = HeadlessPrinter(jsonl)
    session = CaptionSession(settings, printer, options)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, session.stop)
    code = await session.run()
    src = session.source
    if src and src.progress:
        done, total = src.progress
        sys.stderr.write(f"captioner: streamed {done:.1f} of {total:.1f} s from {src.name}; "
                         f"{len(session.transcript.turns)} turns\n")
    return code
