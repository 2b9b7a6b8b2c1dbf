"""Headless captioning: finished turns to stdout (plain text or JSON lines), the rest to stderr.

For pipes, scripts and screen readers. SIGINT, SIGTERM and SIGHUP end the session cleanly:
the last turns are flushed and printed, nothing is lost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import sys
from typing import TextIO

from tui.config import Settings
from tui.core.stream import events as ev
from tui.call import make_session
from tui.captioning import RunOptions
from tui.core.transcript.model import FinalTurn, TimedWord
from tui.core.transcript.speakers import speaker_name
from tui.share.run import run_shared


def _word(w: TimedWord) -> dict:
    d = {"text": w.text, "start_ms": w.start_ms, "end_ms": w.end_ms, "confidence": w.confidence}
    if w.speaker:
        d["speaker"] = w.speaker
    return d


def turn_json(turn: FinalTurn) -> str:
    return json.dumps({
        "turn_order": turn.index,
        "start_ms": turn.start_ms,
        "end_ms": turn.end_ms,
        "text": turn.text,
        "speaker": turn.speaker,
        "words": [_word(w) for w in turn.words],
        **({"language": turn.language} if turn.language else {}),
        **({"language_confidence": turn.language_confidence} if turn.language_confidence is not None else {}),
        **({"source": turn.source} if turn.source else {}),
    }, ensure_ascii=False)


def revision_json(turn: FinalTurn) -> str:
    """A turn printed before got corrected speakers: its own line, "type": "revision"."""
    return json.dumps({"type": "revision", "turn_order": turn.index, "speaker": turn.speaker,
                       "words": [{"text": w.text, "speaker": w.speaker} for w in turn.words]},
                      ensure_ascii=False)


class HeadlessPrinter:
    def __init__(self, jsonl: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.jsonl, self.out, self.err = jsonl, out, err
        self.names: dict[str, str] = {}  # source names, when two sources each need a prefix

    def line(self, turn: FinalTurn) -> str:
        if self.jsonl:
            return turn_json(turn)
        who = speaker_name(turn.speaker, None, self.names.get(turn.source or "")) if self.names else None
        return f"{who}: {turn.text}" if who else turn.text

    def __call__(self, event: ev.Event) -> None:
        match event:
            case ev.TurnFinal(turn=turn):
                self.out.write(self.line(turn) + "\n")
                self.out.flush()
            case ev.TurnRevised(turn=turn) if self.jsonl:
                self.out.write(revision_json(turn) + "\n")
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
    session = make_session(settings, printer, dataclasses.replace(options, meter=False))
    printer.names = getattr(session, "names", {})
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, session.stop)
    code = await run_shared(session)
    src = session.source
    if src and src.progress:
        done, total = src.progress
        sys.stderr.write(f"captioner: streamed {done:.1f} of {total:.1f} s from {src.name}; "
                         f"{len(session.transcript.turns)} turns\n")
    return code
