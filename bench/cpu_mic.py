"""CPU on the microphone: captioner vs the tutorial's client, side by side, in tmux.

A private PulseAudio virtual microphone (tests/vmic.py) hears the speech fixtures in a loop.
One scripted v3 server (bench/first_audio_server.py: `captioner serve --engine scripted`
that also logs each connection's first audio frame) serves every client of a round:

  ref     bench/reference_client.py --mic: 50 ms blocking reads on a thread (sounddevice),
          a websocket send per block, partials and finals printed (AssemblyAI's tutorial)
  tui     `captioner --url URL`: the full screen on the microphone
  plain   `captioner --plain --url URL` on the microphone
  file    `captioner --url URL --input speech.wav`: the full screen on a file, for comparison
  base-*  the same, from another checkout (--base DIR, e.g. `git archive` of main): A/B
  alt-*   the same, from a third checkout (--alt DIR)

Each client runs in its own 100x30 tmux window (`exec`, so the pane's process is the
client). A round starts the clients one after another (the order rotates each round; the
gap keeps one launch from slowing the next), waits out a warm-up, then reads /proc for the
window: CPU of each client's process tree (% of one core), each thread's CPU and wake-ups a
second (voluntary context switches), and VmHWM. Launch = first audio frame at the server
minus the moment the window was asked for. Ratios are taken within a round, then the median
over rounds (the machine is shared: only same-round ratios mean anything).

    python bench/cpu_mic.py [--rounds 5] [--seconds 30] [--clients ref,tui,plain,file] [--base DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from common import PY, byte_compile, figure, header, isolated_env, lecture_script, load1, speech_file  # noqa: E402
from mic_run import speech_loop  # noqa: E402
from procstat import peak_rss_mb, rates, sample  # noqa: E402
from vmic import play_until, start_vmic  # noqa: E402


def client_argv(name: str, url: str, wav: str, config: str, base: str | None,
                alt: str | None = None) -> tuple[list[str], str]:
    """(argv, working directory) of a client."""
    cwd = str(HERE.parent)
    if "-" in name:  # base-tui: the tui client of the checkout named by --base
        checkout, name = name.split("-", 1)
        cwd = {"base": base, "alt": alt}[checkout]
    if name == "ref":
        return [PY, str(HERE / "reference_client.py"), "--url", url, "--mic"], cwd
    app = [PY, "-m", "tui", "--url", url, "--config", config]
    return {"tui": app, "plain": [*app, "--plain"], "file": [*app, "--input", wav]}[name], cwd


class Server:
    """The first-audio-logging scripted server; `first[port]` = monotonic time of first audio."""

    def __init__(self, folder: Path, word_ms: int = 60) -> None:
        script = folder / "script.json"
        script.write_text(json.dumps(lecture_script(word_ms=word_ms)))
        self.proc = subprocess.Popen(
            [PY, str(HERE / "first_audio_server.py"), "--port", "0", "--engine", "scripted",
             "--script", str(script), "--repeat"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
        self.url = self.proc.stdout.readline().strip().removeprefix("listening on ")
        self.port = int(self.url.split(":")[2].split("/")[0])
        self.first: dict[int, float] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "first_audio":
                self.first[int(parts[1])] = float(parts[2])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Tmux:
    def __init__(self, folder: Path, env: dict) -> None:
        self.base = ["tmux", "-L", f"cpumic{os.getpid()}", "-f", "/dev/null"]
        self.env = env
        subprocess.run([*self.base, "new-session", "-d", "-s", "bench", "-x", "100", "-y", "30"],
                       env=env, check=True)
        subprocess.run([*self.base, "set", "-g", "remain-on-exit", "off"], check=True)

    def start(self, name: str, argv: list[str], cwd: str) -> tuple[int, float]:
        """(pid of the client, monotonic time just before tmux was asked to start it)."""
        command = f"cd {cwd} && exec " + " ".join(argv)
        t0 = time.monotonic()
        out = subprocess.run([*self.base, "new-window", "-d", "-t", "bench", "-n", name, "-P", "-F",
                              "#{pane_pid}", command], env=self.env, check=True,
                             capture_output=True, text=True).stdout
        return int(out.strip()), t0

    def stop(self, name: str) -> None:
        subprocess.run([*self.base, "kill-window", "-t", f"bench:{name}"], capture_output=True)

    def kill_server(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


def client_port(pid: int, server_port: int, timeout: float = 10.0) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            for c in psutil.Process(pid).net_connections("tcp"):
                if c.raddr and c.raddr.port == server_port:
                    return c.laddr.port
        except psutil.Error:
            return None
        time.sleep(0.05)
    return None


def wait_gone(pids: list[int], timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    for pid in pids:
        while psutil.pid_exists(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if psutil.pid_exists(pid):
            os.kill(pid, 9)


def one_round(n: int, names: list[str], args, tmux: Tmux, server: Server, wav: str, config: str) -> dict:
    order = names[n % len(names):] + names[: n % len(names)]
    started = {}
    for name in order:
        argv, cwd = client_argv(name, server.url, wav, config, args.base, args.alt)
        started[name] = tmux.start(name, argv, cwd)
        time.sleep(args.gap)
    ports = {name: client_port(pid, server.port) for name, (pid, _) in started.items()}
    time.sleep(args.warmup)
    load = load1()
    before = {name: sample(pid) for name, (pid, _) in started.items()}
    time.sleep(args.seconds)
    after = {name: sample(pid) for name, (pid, _) in started.items()}
    out = {"load": load, "order": order}
    for name, (pid, t0) in started.items():
        first = server.first.get(ports[name]) if ports[name] else None
        out[name] = {"rates": rates(before[name], after[name]), "rss": peak_rss_mb(pid),
                     "launch": first - t0 if first else float("nan")}
    for name in order:
        tmux.stop(name)
    wait_gone([pid for pid, _ in started.values()])
    return out


def report(names: list[str], rounds: list[dict]) -> None:
    def med(values):
        values = [v for v in values if v == v]
        return (statistics.median(values), min(values), max(values)) if values else (float("nan"),) * 3

    def fig(label, values, unit, fmt=".2f"):
        m, lo, hi = med(values)
        print(f"{label}: {m:{fmt}} {unit} (range {lo:{fmt}}-{hi:{fmt}}, {len(values)} rounds)", flush=True)

    fig("load1", [r["load"] for r in rounds], "")
    for name in names:
        fig(f"cpu_{name}", [r[name]["rates"].cpu_pct for r in rounds], "%")
        if "ref" in names and name != "ref":
            fig(f"ratio_{name}_to_ref", [r[name]["rates"].cpu_pct / r["ref"]["rates"].cpu_pct
                                         for r in rounds], "x")
        fig(f"wakeups_{name}", [r[name]["rates"].wakeups_per_s for r in rounds], "/s", ".0f")
        fig(f"launch_{name}", [r[name]["launch"] for r in rounds], "s", ".3f")
        fig(f"peak_rss_{name}", [r[name]["rss"] for r in rounds], "MB", ".1f")
    print("# per thread, round by round: name cpu% wake-ups/s (threads under 0.05 % left out)")
    for name in names:
        for i, r in enumerate(rounds):
            parts = [f"{t} {c:.2f}% {w:.0f}/s" for t, c, w in r[name]["rates"].threads if c >= 0.05]
            print(f"#   {name} round {i + 1}: " + " | ".join(parts))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=30.0, help="measured window of a round")
    ap.add_argument("--warmup", type=float, default=4.0, help="after the last client started")
    ap.add_argument("--gap", type=float, default=1.5, help="between client launches")
    ap.add_argument("--clients", default="ref,tui,plain,file")
    ap.add_argument("--base", help="another checkout, for the base-* clients")
    ap.add_argument("--alt", help="a third checkout, for the alt-* clients")
    ap.add_argument("--config", default="", help="TOML text for the captioner clients' config")
    ap.add_argument("--word-ms", type=int, default=60,
                    help="the scripted lecture's word length: 60 = a new partial every frame "
                         "while it speaks (a stress case), 250 = a fast talker")
    ap.add_argument("--quick", action="store_true", help="1 round of 8 s")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 8.0
    names = args.clients.split(",")
    header("cpu_mic")
    byte_compile(HERE.parent, *(c for c in (args.base, args.alt) if c))
    folder = Path(tempfile.mkdtemp(prefix="bench-cpumic-"))
    config = folder / "config.toml"
    config.write_text(args.config.replace("\\n", "\n"))
    mic = start_vmic(folder)
    env = {**isolated_env(folder), **mic.env}
    wav = speech_loop(str(folder))  # played into the microphone, again and again
    long_wav = str(speech_file(folder / "long.wav", args.rounds * (args.seconds + 20) + 60))
    stop = threading.Event()
    player = threading.Thread(target=play_until, args=(mic, wav, stop), daemon=True)
    player.start()
    server = Server(folder, args.word_ms)
    print(f"# scripted words of {args.word_ms} ms", flush=True)
    tmux = Tmux(folder, env)
    rounds = []
    try:
        for n in range(args.rounds):
            rounds.append(one_round(n, names, args, tmux, server, long_wav, str(config)))
            print(f"# round {n + 1}: load {rounds[-1]['load']:.2f}, " + ", ".join(
                f"{k} {rounds[-1][k]['rates'].cpu_pct:.2f}%" for k in names), flush=True)
    finally:
        tmux.kill_server()
        server.stop()
        stop.set()
        player.join(5)
        mic.stop()
    figure("window", args.seconds, "s")
    report(names, rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
