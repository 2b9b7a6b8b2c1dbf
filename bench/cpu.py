"""CPU while captioning: the full-screen app vs a minimal reference client, same input, same run.

One `captioner serve --engine scripted` process "hears" a lecture (about nine partials a
second, a final every 2.6 s). Against it, at the same time and from the same speech file
paced in real time (so the level meter moves; it repaints at 30 Hz):

  reference  bench/reference_client.py (thread reading the file, websocket, print), on a pty
  tui        `captioner --url ... --input speech.wav`: the full-screen app on a real pty
             (100x30, output drained as a terminal would)
  plain      `captioner --plain ...` (headless), for comparison

Whole-process CPU (user + system, psutil, all threads) over the same window after a warm-up.
Prints `name: value unit` lines; cpu_* are % of one core.

    python bench/cpu.py [--quick] [--seconds 60] [--meter-rate 30]
    python bench/cpu.py --mic [...]   # on the microphone, in tmux: bench/cpu_mic.py's options
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PY, PtyApp, ServeProcess, figure, header, isolated_env, speech_file  # noqa: E402

HERE = Path(__file__).resolve().parent


def cpu_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


def main() -> int:
    if "--mic" in sys.argv[1:]:
        import cpu_mic

        sys.argv.remove("--mic")
        return cpu_mic.main()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 5 s window (CI)")
    ap.add_argument("--seconds", type=float, default=60.0, help="measured window (default 60)")
    ap.add_argument("--warmup", type=float, default=4.0)
    ap.add_argument("--meter-rate", type=int, default=10,
                    help="the TUI's ui.meter_rate (default 10, the app's default)")
    args = ap.parse_args()
    window, warmup = (5.0, 2.0) if args.quick else (args.seconds, args.warmup)
    header("cpu")
    folder = Path(tempfile.mkdtemp(prefix="bench-cpu-"))
    wav = speech_file(folder / "speech.wav", warmup + window + 5)
    config = folder / "config.toml"
    config.write_text(f"[ui]\nmeter_rate = {args.meter_rate}\n")
    env = isolated_env(folder)
    with ServeProcess(folder) as server:
        common = ["--url", server.url, "--input", str(wav), "--config", str(config)]
        ref = PtyApp([PY, str(HERE / "reference_client.py"), "--url", server.url, "--input", str(wav)], env)
        tui = PtyApp([PY, "-m", "tui", *common], env, watch=("live",))
        plain = subprocess.Popen([PY, "-m", "tui", "--plain", *common], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs = {"reference": psutil.Process(ref.proc.pid), "tui": psutil.Process(tui.proc.pid),
                 "plain": psutil.Process(plain.pid), "server": psutil.Process(server.proc.pid)}
        try:
            time.sleep(warmup)
            before = {k: cpu_s(p) for k, p in procs.items()}
            t0 = time.monotonic()
            time.sleep(window)
            after = {k: cpu_s(p) for k, p in procs.items()}
            wall = time.monotonic() - t0
            rss = procs["tui"].memory_info().rss
            alive = {k: p.is_running() and p.status() != psutil.STATUS_ZOMBIE for k, p in procs.items()}
        finally:
            tui.send(b"q")
            for p in (tui.proc, plain, ref.proc):
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
            ref.close()
            tui.close()
    cpu = {k: 100 * (after[k] - before[k]) / wall for k in procs}
    figure("window", wall, "s")
    figure("meter_rate", args.meter_rate, "Hz")
    for k in ("reference", "tui", "plain", "server"):
        figure(f"cpu_{k}", cpu[k], "%", ".2f")
    figure("cpu_ratio_tui_to_reference", cpu["tui"] / cpu["reference"], "x", ".2f")
    figure("cpu_ratio_plain_to_reference", cpu["plain"] / cpu["reference"], "x", ".2f")
    figure("tui_rss", rss / 2**20, "MB")
    figure("tui_went_live", "yes" if tui.seen("live") else "no")
    if not all(alive.values()):
        print(f"# warning: a process ended inside the window: {alive}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
