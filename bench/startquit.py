"""Startup and clean quit of the real `captioner` process in a real pseudo-terminal.

startup: process start (just before fork) to the first full frame: the first time the
         terminal output holds both the status bar ("dropped", always on its second line)
         and the footer ("Quit"); the output is drained as a terminal would.
quit:    `q` written to the terminal to process exit, while captioning mid-sentence; this
         includes Terminate, the last turns, Termination, the journal footer, and with the
         offline engine stopping its server child.
words:   no words lost. With `--url` to a separately started scripted server, the journal
         must hold the script's words in order, none lost or twice, up to at least the
         audio sent before `q`; with the offline engine (embedded moonshine server), the last
         journal turn must end within 1.5 s of the audio sent before `q`.

    python bench/startquit.py [--quick] [--runs 5] [--no-local]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (PY, PtyApp, ServeProcess, byte_compile, figure, header, isolated_env, lecture_script,  # noqa: E402
                    speech_file)

FRAME = ("dropped", "Quit")


def journal(folder: Path) -> tuple[list[dict], dict | None]:
    paths = sorted((folder / "data" / "sessions").glob("*.jsonl"))
    if not paths:
        return [], None
    records = [json.loads(line) for line in paths[-1].read_text().splitlines() if line.strip()]
    return [r for r in records if r.get("type") == "turn"], next((r for r in records if r.get("type") == "end"), None)


def script_words(script: dict, audio_ms: float, most: int = 100_000) -> list[str]:
    """The scripted engine's words whose start is inside the audio it got."""
    out, p = [], 0
    while len(out) < most:
        for turn in script["turns"]:
            for text, start, _ in turn["words"]:
                if start + p * script["duration_ms"] >= audio_ms:
                    return out
                out.append(text)
        p += 1
    return out


def one_run(args: list[str], folder: Path, speak_s: float, ready_timeout: float) -> dict:
    app = PtyApp([PY, "-m", "tui", *args], isolated_env(folder), watch=(*FRAME, "● live"))
    try:
        first = [app.wait_seen(text, 30) for text in FRAME]
        out = {"startup": (max(first) - app.started) if all(first) else float("nan")}
        live = app.wait_seen("● live", ready_timeout)
        out["ready"] = (live - app.started) if live else float("nan")
        time.sleep(speak_s)
        t0 = app.send(b"q")
        app.proc.wait(30)
        out["quit"] = time.monotonic() - t0
        out["sent_s"] = t0 - live if live else 0.0
        out["exit"] = app.proc.returncode
    finally:
        app.close()
    out["turns"], out["footer"] = journal(folder)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two runs, scripted server only (CI)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-local", action="store_true", help="skip the offline engine")
    args = ap.parse_args()
    runs = 2 if args.quick else args.runs
    header("startquit")
    byte_compile(Path(__file__).resolve().parent.parent)
    base = Path(tempfile.mkdtemp(prefix="bench-startquit-"))
    wav = speech_file(base / "speech.wav", 120)
    config = base / "empty.toml"
    config.write_text("")
    script = lecture_script()
    results, lost = [], 0
    with ServeProcess(base, script=script) as server:
        for i in range(runs):
            folder = base / f"url{i}"
            r = one_run(["--url", server.url, "--input", str(wav), "--config", str(config)], folder,
                        speak_s=3.3 + 0.4 * i, ready_timeout=30)
            # Every script word, in order, none twice, up to at least the audio sent until `q`
            # (less 300 ms: audio starts a little before the screen says "live"). The
            # Termination's audio_duration_seconds is whole seconds, too coarse for this.
            words = [w["text"] for t in r["turns"] for w in t["words"]]
            whole = script_words(script, float("inf"), len(words))[: len(words)]
            least = script_words(script, 1000 * r["sent_s"] - 300)
            lost += int(words != whole or len(words) < len(least) or r["footer"] is None
                        or r["exit"] != 0)
            results.append(r)
    figure("startup_median", statistics.median(r["startup"] for r in results), "s", ".3f")
    figure("startup_max", max(r["startup"] for r in results), "s", ".3f")
    figure("quit_median", statistics.median(r["quit"] for r in results), "s", ".3f")
    figure("quit_max", max(r["quit"] for r in results), "s", ".3f")
    figure("runs_with_words_lost", lost, f"of {runs}")
    if args.quick or args.no_local:
        return 0
    local, late = [], 0
    for i in range(max(2, runs // 2)):
        folder = base / f"local{i}"
        r = one_run(["--input", str(wav), "--config", str(config)], folder, speak_s=6.0 + 0.7 * i,
                    ready_timeout=120)
        last_end = r["turns"][-1]["end_ms"] / 1000 if r["turns"] else 0.0
        audio_s = (r["footer"] or {}).get("audio_duration_s") or 0.0
        late += int(r["footer"] is None or r["exit"] != 0 or audio_s - last_end > 1.5)
        local.append(r)
    figure("local_startup_median", statistics.median(r["startup"] for r in local), "s", ".3f")
    figure("local_ready_median", statistics.median(r["ready"] for r in local), "s", ".3f")
    figure("local_quit_median", statistics.median(r["quit"] for r in local), "s", ".3f")
    figure("local_quit_max", max(r["quit"] for r in local), "s", ".3f")
    figure("local_runs_with_words_lost", late, f"of {len(local)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
