"""The turns the live pipeline makes, on the audio clock only (no CPU load in the way).

The audio of bench/engine_e2e.py (the speech fixtures, each followed by 2 s of silence) in
the same 50 ms frames through the offline recognizer and the server's own turn detector
(default parameters), as a session's worker does (connection.Session._step), but with no
sockets and no real-time pacing: the finals depend only on the audio, so this is the WER and
the turns of the live pipeline when the machine is too busy to run it in real time.

Prints `wer_turns_<fixture>`, `wer_turns` (all) and `turns`, and `# <fixture>: <finals>` lines.

    python bench/engine_turns.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from tui.server.endpointing import TurnDetector
from tui.server.moonshine import MoonshineEngine
from tui.server.wer import wer

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
FRAME = 1600  # bytes: 50 ms of 16 kHz s16le, as the client sends


def main() -> int:
    names = sorted(p.stem for p in DATA.glob("*.wav"))
    parts = [sf.read(DATA / f"{n}.wav", dtype="int16")[0] for n in names]
    gap = np.zeros(32000, dtype=np.int16)
    pcm = np.concatenate([x for part in parts for x in (part, gap)]).tobytes()
    ends_ms = np.cumsum([(len(part) + len(gap)) / 16 for part in parts])
    rec, detector = MoonshineEngine(threads=1).new_recognizer(16000), TurnDetector()
    finals = []  # (first word's start ms, text)
    for i in range(0, len(pcm), FRAME):
        detector.observe(rec.accept(pcm[i : i + FRAME]))
        if detector.due((i + FRAME) // 32) and (words := rec.finalize()):
            detector.finish(words)
            finals.append((words[0].start, " ".join(w.text for w in words)))
    for k, name in enumerate(names):
        mine = [text for start, text in finals if np.searchsorted(ends_ms, start, "right") == k]
        print(f"wer_turns_{name}: {100 * wer((DATA / f'{name}.txt').read_text(), ' '.join(mine)):.1f} %")
        print(f"# {name}: " + " | ".join(mine))
    reference = " ".join((DATA / f"{n}.txt").read_text() for n in names)
    print(f"wer_turns: {100 * wer(reference, ' '.join(t for _, t in finals)):.1f} %")
    print(f"turns: {len(finals)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
