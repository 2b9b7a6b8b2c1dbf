"""Soak: a 30-minute session, accelerated, with the connection dropped every 20 s of audio.

`captioner serve --engine scripted --timecode --repeat` in its own process, with a fault:
every session's TCP connection is aborted (no close frame) after 20 s of audio
(`--fault-drop-after-ms`), so the client reconnects about 90 times and re-sends what was
not final yet. The input is timecode audio (its samples carry their position, so a session
that gets audio again hears the same words at the same place, and audio never sent is never
heard), paced by the file source at --speed x real time, through CaptionSession and
StreamingClient (the `--plain` path; the app's screen is not involved).

Checks: the transcript holds every script word in order, none twice, none missing, up to
the end of the audio (no lost audio, no duplicates); turn count; no gap markers and no
dropped frames; reconnects; RSS of this (client) process after warm-up and at the end.

    python bench/soak.py [--quick] [--minutes 30] [--speed 20]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from pathlib import Path

import psutil
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ServeProcess, figure, header, lecture_script, settings_for  # noqa: E402

from tui.core.stream import events as ev  # noqa: E402
from tui.captioning import RunOptions, CaptionSession  # noqa: E402
from tui.server.scripted import timecode_pcm  # noqa: E402

DROP_AFTER_MS = 20_000


def script_turns(script: dict, audio_ms: float) -> list[list[str]]:
    """The words of each script turn (repeats included) that start inside the audio."""
    out, p = [], 0
    while True:
        for turn in script["turns"]:
            words = [t for t, start, _ in turn["words"] if start + p * script["duration_ms"] < audio_ms]
            if not words:
                return out
            out.append(words)
        p += 1


async def soak(url: str, wav: Path, folder: Path, speed: float, audio_s: float) -> dict:
    counts = {"gaps": 0, "reconnects": 0}
    proc, rss = psutil.Process(), {}

    def emit(event) -> None:
        if isinstance(event, ev.MarkerAdded) and event.marker.kind in ("gap", "reconnect"):
            counts["gaps" if event.marker.kind == "gap" else "reconnects"] += 1

    session = CaptionSession(settings_for(folder, url), emit,
                             RunOptions(input=str(wav), speed=speed, journal_dir=folder / "journal"))

    async def sample() -> None:
        await asyncio.sleep(min(60.0, audio_s / speed / 5))
        gc.collect()
        rss["warm"] = proc.memory_info().rss

    sampler = asyncio.create_task(sample())
    t0 = time.monotonic()
    code = await session.run()
    wall = time.monotonic() - t0
    await sampler
    gc.collect()
    rss["end"] = proc.memory_info().rss
    return {"code": code, "wall": wall, "rss": rss, "counts": counts, "session": session}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 minutes of audio (CI)")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--speed", type=float, default=20.0)
    args = ap.parse_args()
    minutes = 2.0 if args.quick else args.minutes
    header("soak")
    folder = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    audio_ms = int(minutes * 60_000)
    wav = folder / "timecode.wav"
    sf.write(wav, timecode_pcm(0, 16 * audio_ms), 16000, subtype="PCM_16")
    script = lecture_script(word_ms=250, pause_ms=900)  # a talk at a talking pace
    extra = ("--timecode", "--rate-buffer", "1e9", "--fault-drop-after-ms", str(DROP_AFTER_MS))
    with ServeProcess(folder, script=script, extra=extra) as server:
        r = asyncio.run(soak(server.url, wav, folder, args.speed, audio_ms / 1000))
    session = r["session"]
    turns = session.transcript.turns
    got = [w.text for t in turns for w in t.words]
    expected_turns = script_turns(script, audio_ms)
    expected = [w for t in expected_turns for w in t]
    missing = sum(1 for a, b in zip(got, expected) if a != b) + max(0, len(expected) - len(got))
    extra_words = max(0, len(got) - len(expected))
    first_bad = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), None)
    figure("audio", minutes, "min")
    figure("wall", r["wall"], "s")
    figure("exit_code", r["code"])
    figure("reconnects", r["counts"]["reconnects"], "count")
    figure("turns", len(turns), "count")
    figure("turns_expected", len(expected_turns), "count")
    figure("words", len(got), "count")
    figure("words_expected", len(expected), "count")
    figure("words_wrong_or_missing", missing, "count")
    figure("words_extra", extra_words, "count")
    figure("duplicate_turn_indexes", len(turns) - len({t.index for t in turns}), "count")
    figure("gap_markers", r["counts"]["gaps"], "count")
    figure("frames_dropped", session.client.frames_dropped if session.client else -1, "count")
    figure("rss_after_warmup", r["rss"]["warm"] / 2**20, "MB")
    figure("rss_end", r["rss"]["end"] / 2**20, "MB")
    figure("rss_growth", (r["rss"]["end"] - r["rss"]["warm"]) / 2**20, "MB")
    if first_bad is not None:
        print(f"# first difference at word {first_bad}: got {got[first_bad:first_bad + 5]}, "
              f"expected {expected[first_bad:first_bad + 5]}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
