"""CPU of the full-screen app with two sources (--system-audio) vs one, same run.

A private PulseAudio daemon (tests/vmic.py) gives a virtual microphone and a default output;
speech plays into both, looped. One `captioner serve --engine scripted` "hears" a lecture on
every session (about nine partials a second, a final every 2.6 s). At the same time, on
real ptys (100x30, drained as a terminal would):

  tui_mic   `captioner --url ...`                 the microphone alone
  tui_call  `captioner --url ... --system-audio`  the microphone and the system audio:
            two capture streams, two sessions, two live lines and two meters

Whole-process CPU (user + system, from /proc, with each thread's share) over the same window after a warm-up; the server
is shared, so its CPU covers three sessions. Prints `name: value unit`; cpu_* are % of one core.

    python bench/cpu_two_sources.py [--quick] [--seconds 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from common import PY, PtyApp, ServeProcess, byte_compile, figure, header, isolated_env, speech_file  # noqa: E402
from procstat import rates, sample  # noqa: E402
from vmic import play_until, start_vmic  # noqa: E402


def play_system_until(mic, wav: str, stop: threading.Event) -> None:
    while not stop.is_set():
        proc = mic.play_system(wav, wait=False)
        while proc.poll() is None and not stop.is_set():
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 5 s window")
    ap.add_argument("--seconds", type=float, default=60.0, help="measured window (default 60)")
    ap.add_argument("--warmup", type=float, default=6.0)
    args = ap.parse_args()
    window, warmup = (5.0, 4.0) if args.quick else (args.seconds, args.warmup)
    header("cpu_two_sources")
    byte_compile(HERE.parent)
    folder = Path(tempfile.mkdtemp(prefix="bench-cpu2-"))
    wav = str(speech_file(folder / "speech.wav", 30))
    mic = start_vmic(folder)
    mic.add_output()
    env = {**isolated_env(folder), **mic.env}
    stop = threading.Event()
    players = [threading.Thread(target=play_until, args=(mic, wav, stop), daemon=True),
               threading.Thread(target=play_system_until, args=(mic, wav, stop), daemon=True)]
    try:
        with ServeProcess(folder) as server:
            apps = {"tui_mic": PtyApp([PY, "-m", "tui", "--url", server.url], env, watch=("live",)),
                    "tui_call": PtyApp([PY, "-m", "tui", "--url", server.url, "--system-audio"], env,
                                       watch=("live",))}
            for p in players:
                p.start()
            procs = {k: psutil.Process(a.proc.pid) for k, a in apps.items()}
            procs["server"] = psutil.Process(server.proc.pid)
            try:
                time.sleep(warmup)
                before = {k: sample(p.pid) for k, p in procs.items()}
                time.sleep(window)
                after = {k: sample(p.pid) for k, p in procs.items()}
                alive = {k: p.is_running() and p.status() != psutil.STATUS_ZOMBIE for k, p in procs.items()}
            finally:
                for a in apps.values():
                    a.send(b"q")
                for a in apps.values():
                    try:
                        a.proc.wait(15)
                    except Exception:  # noqa: BLE001 - a benchmark cleans up whatever happened
                        pass
                    a.close()
    finally:
        stop.set()
        mic.stop()
    got = {k: rates(before[k], after[k]) for k in procs}
    cpu = {k: r.cpu_pct for k, r in got.items()}
    figure("window", after["server"].at - before["server"].at, "s")
    for k in ("tui_mic", "tui_call", "server"):
        figure(f"cpu_{k}", cpu[k], "%", ".2f")
    figure("cpu_ratio_call_to_mic", cpu["tui_call"] / cpu["tui_mic"], "x", ".2f")
    for k in ("tui_mic", "tui_call"):
        parts = [f"{t} {c:.2f}% {w:.0f}/s" for t, c, w in got[k].threads if c >= 0.05]
        print(f"# {k} per thread (cpu, wake-ups/s): " + " | ".join(parts), flush=True)
    figure("both_went_live", "yes" if all(a.seen("live") for a in apps.values()) else "no")
    if not all(alive.values()):
        print(f"# warning: a process ended inside the window: {alive}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
