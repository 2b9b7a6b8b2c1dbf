"""The offline engine end to end: the real `captioner serve --engine moonshine` and the real client.

The speech fixtures (tests/data), each followed by 2 s of silence, in one file paced in real
time by the file source, through CaptionSession and StreamingClient (as `--plain` does) to
a separately started `captioner serve --engine moonshine --threads 1`. Times come from
StreamingClient.trace (when each Turn frame arrives at the client socket) and the file's
real-time clock (when each sample was due):

  first_partial_delay    first partial with words minus the due time of its first word's start
  final_after_speech_end the turn's formatted final minus the due time of its last word's end
  wer_e2e                word error rate of all finals against all the fixture transcripts
  wer_e2e_<fixture>      the same for the finals whose first word falls in that fixture's audio
                         (`# <fixture>: <finals>` lines show them)
  server_cpu             the server process's CPU, % of one core, over the run

Compare bench/engine.py (the recognizer alone on a simulated clock). Prints `name: value unit`.

    python bench/engine_e2e.py [--quick]      (--quick: two fixtures)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, ServeProcess, figure, header, settings_for  # noqa: E402
from engine import wer  # noqa: E402

from tui.core.stream import events as ev  # noqa: E402
from tui.core.stream.client import StreamingClient  # noqa: E402
from tui.captioning import CaptionSession, RunOptions  # noqa: E402

GAP_S = 2.0


async def caption(url: str, wav: Path, folder: Path) -> tuple[list, list, CaptionSession]:
    arrivals: list[tuple[float, dict]] = []
    finals: list = []

    def trace(kind: str, item) -> None:
        if kind == "recv":
            msg = json.loads(item)
            if msg.get("type") == "Turn":
                arrivals.append((time.monotonic(), msg))

    def emit(event) -> None:
        if isinstance(event, ev.TurnFinal):
            finals.append(event.turn)

    session = CaptionSession(settings_for(folder, url), emit,
                             RunOptions(input=str(wav), journal_dir=folder / "journal"))
    StreamingClient.trace = staticmethod(trace)
    try:
        await session.run()
    finally:
        StreamingClient.trace = None
    return arrivals, finals, session


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two fixtures (CI)")
    args = ap.parse_args()
    header("engine_e2e")
    names = ["goforward", "jfk"] if args.quick else sorted(p.stem for p in DATA.glob("*.wav"))
    folder = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    gap = np.zeros(int(16000 * GAP_S), dtype=np.int16)
    parts = [sf.read(DATA / f"{n}.wav", dtype="int16")[0] for n in names]
    audio = np.concatenate([x for part in parts for x in (part, gap)])
    ends_ms = np.cumsum([(len(part) + len(gap)) / 16 for part in parts])  # where each fixture's gap ends
    wav = folder / "speech.wav"
    sf.write(wav, audio, 16000, subtype="PCM_16")
    reference = " ".join((DATA / f"{n}.txt").read_text() for n in names)
    with ServeProcess(folder, engine="moonshine", extra=("--threads", "1")) as server:
        proc = psutil.Process(server.proc.pid)
        cpu0, t0 = sum(proc.cpu_times()[:2]), time.monotonic()
        arrivals, finals, session = asyncio.run(caption(server.url, wav, folder))
        server_cpu = (sum(proc.cpu_times()[:2]) - cpu0) / (time.monotonic() - t0)
    clock0 = session.source._clock0  # when the file's first sample was due (monotonic)
    first, final, seen = [], [], set()
    for t, msg in arrivals:
        words = msg["words"]
        if not words:
            continue
        if msg["turn_order"] not in seen:  # one session: session ms == file ms
            seen.add(msg["turn_order"])
            first.append((t - (clock0 + words[0]["start"] / 1000)) * 1000)
        if msg["end_of_turn"] and msg["turn_is_formatted"]:
            final.append((t - (clock0 + words[-1]["end"] / 1000)) * 1000)
    figure("audio", len(audio) / 16000, "s")
    figure("turns", len(finals), "count")
    figure("wer_e2e", 100 * wer(reference, " ".join(t.text for t in finals)), "%")
    for k, name in enumerate(names):
        mine = [t.text for t in finals if np.searchsorted(ends_ms, t.start_ms, "right") == k]
        figure(f"wer_e2e_{name}", 100 * wer((DATA / f"{name}.txt").read_text(), " ".join(mine)), "%")
        print(f"# {name}: " + " | ".join(mine))
    figure("first_partial_delay_mean", float(np.mean(first)), "ms", ".0f")
    figure("first_partial_delay_max", float(np.max(first)), "ms", ".0f")
    figure("final_after_speech_end_mean", float(np.mean(final)), "ms", ".0f")
    figure("final_after_speech_end_max", float(np.max(final)), "ms", ".0f")
    figure("server_cpu", 100 * server_cpu, "%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
