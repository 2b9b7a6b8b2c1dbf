"""The offline engine with two sources at once (--system-audio: one session per source).

With the offline engine both sessions of a call stream to the one local server. This runs
the real `captioner serve --engine moonshine --threads 1` and one, then two CaptionSessions
(as the call's two legs do) streaming the speech fixtures (each followed by 2 s of
silence; the second stream in the reverse order), and prints, for one and two streams:

  rtf_<n>_streams            wall seconds to caption / audio seconds of one stream, with
                             the streams sent as fast as the server takes them (< 1: it
                             keeps up with that many live sources)
  server_cpu_rtf_<n>_streams server CPU seconds per second of audio, all streams together
  final_after_speech_end_<n>_streams  in real time: the formatted final minus the due
                             time of its last word's end, mean and max over all turns
  wer_<n>_streams            word error rate of each stream's finals

Both figures come from the same run, so the second stream's cost is read against the first.

    python bench/two_sources.py [--quick]   (--quick: two fixtures)
"""

from __future__ import annotations

import argparse
import asyncio
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

from tui.captioning import CaptionSession, RunOptions  # noqa: E402
from tui.core.stream import events as ev  # noqa: E402

GAP_S = 2.0
FAST = 20.0  # file pacing for the throughput pass


def speech(folder: Path, names: list[str], tag: str) -> tuple[Path, str, float]:
    gap = np.zeros(int(16000 * GAP_S), dtype=np.int16)
    audio = np.concatenate([x for n in names for x in (sf.read(DATA / f"{n}.wav", dtype="int16")[0], gap)])
    path = folder / f"{tag}.wav"
    sf.write(path, audio, 16000, subtype="PCM_16")
    return path, " ".join((DATA / f"{n}.txt").read_text() for n in names), len(audio) / 16000


async def caption(url: str, wavs: list[Path], folder: Path, speed: float) -> list[dict]:
    """Stream each file in its own session, all at once; per session its finals, each with
    the monotonic time the client handed it on."""
    runs = [{"finals": [], "session": None} for _ in wavs]

    async def one(run: dict, wav: Path, n: int) -> None:
        def emit(event) -> None:
            if isinstance(event, ev.TurnFinal):
                run["finals"].append((time.monotonic(), event.turn))

        session = CaptionSession(settings_for(folder, url), emit,
                                 RunOptions(input=str(wav), journal_dir=folder / f"journal{n}", speed=speed))
        run["session"] = session
        await session.run()

    await asyncio.gather(*(one(run, wav, n) for n, (run, wav) in enumerate(zip(runs, wavs))))
    return runs


def delays(run: dict) -> list[float]:
    """Final minus when its last word's end was due (session ms = file ms: one session each)."""
    clock0 = run["session"].source._clock0
    return [(t - (clock0 + turn.words[-1].end_ms / 1000)) * 1000 for t, turn in run["finals"] if turn.words]


def measure(url: str, pid: int, wavs: list[Path], folder: Path, speed: float) -> tuple[list[dict], float, float]:
    proc = psutil.Process(pid)
    cpu0, t0 = sum(proc.cpu_times()[:2]), time.monotonic()
    runs = asyncio.run(caption(url, wavs, folder, speed))
    return runs, time.monotonic() - t0, sum(proc.cpu_times()[:2]) - cpu0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two fixtures")
    args = ap.parse_args()
    header("two_sources")
    names = ["goforward", "jfk"] if args.quick else sorted(p.stem for p in DATA.glob("*.wav"))
    folder = Path(tempfile.mkdtemp(prefix="bench-two-"))
    a, ref_a, seconds = speech(folder, names, "a")
    b, ref_b, _ = speech(folder, names[::-1], "b")
    figure("audio_per_stream", seconds, "s")
    with ServeProcess(folder, engine="moonshine", extra=("--threads", "1")) as server:
        for n, wavs, refs in ((1, [a], [ref_a]), (2, [a, b], [ref_a, ref_b])):
            runs, wall, _ = measure(server.url, server.proc.pid, wavs, folder, FAST)
            figure(f"rtf_{n}_streams", wall / seconds, "", ".3f")
            runs, wall, cpu = measure(server.url, server.proc.pid, wavs, folder, 1.0)
            figure(f"server_cpu_rtf_{n}_streams", cpu / seconds, "", ".3f")
            late = [d for run in runs for d in delays(run)]
            figure(f"final_after_speech_end_{n}_streams_mean", float(np.mean(late)), "ms", ".0f")
            figure(f"final_after_speech_end_{n}_streams_max", float(np.max(late)), "ms", ".0f")
            for run, ref in zip(runs, refs):
                said = " ".join(t.text for _, t in run["finals"])
                figure(f"wer_{n}_streams", 100 * wer(ref, said), "%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
