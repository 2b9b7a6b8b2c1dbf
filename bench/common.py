"""Shared parts of the benchmarks: the captioning script, servers, input files, statistics.

Not a benchmark itself. Every benchmark prints `name: value unit` lines, one figure a line.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
PY = sys.executable

# A lecture in sentences of about 22 words. Laid out by lecture_script(), the scripted engine
# releases about nine partials a second (one per 50 ms audio frame while "speaking"), and each
# turn ends in a final (unformatted, then formatted) every 2.6 s: the load the issue asks for.
LECTURE = [
    "Good morning everyone and welcome back to the second part of our course on signals and the ways we measure them.",
    "Last week we looked at sampling and why the rate has to be at least twice the highest frequency we care about.",
    "Today we start with quantization noise which is the error we make when we round every sample to a whole number.",
    "If you remember only one thing from this hour let it be that six decibels buy you one more bit of resolution.",
    "Let us look at an example on the board before we move on to dithering and the reasons engineers add noise on purpose.",
    "Some of you asked about the homework and the deadline moves to Friday because the lab was closed on Tuesday.",
]


def lecture_script(word_ms: int = 60, pause_ms: int = 1300) -> dict:
    from tui.server.scripted import make_script

    return make_script(LECTURE, lead_ms=300, word_ms=word_ms, gap_ms=0, pause_ms=pause_ms, repeat=True)


def write_tone(path: Path, seconds: float, rate: int = 16000) -> Path:
    """A quiet-ish tone (about -13 dBFS): the scripted engine only counts its duration."""
    t = np.arange(int(rate * seconds)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype("float32"), rate, subtype="PCM_16")
    return path


def settings_for(folder: Path, url: str, **overrides):
    """Settings as a user would have them, but isolated: empty config file, no env."""
    from tui.config import load_settings

    config = folder / "config.toml"
    config.write_text("")
    values = {"service.url": url, "output.directory": str(folder / "captions")}
    values.update(overrides)
    return load_settings(path=config, env={}, overrides=values)


@contextlib.asynccontextmanager
async def scripted_server(script: dict | None = None, **config):
    """An in-process LocalServer on 127.0.0.1 running the scripted engine."""
    from tui.server.server import LocalServer, ServerConfig

    cfg = ServerConfig(engine="scripted", engine_options={"script": script or lecture_script()}, **config)
    async with LocalServer(cfg) as server:
        yield server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    """`captioner serve` in its own process (the real server, as a user would start it)."""

    def __init__(self, folder: Path, engine: str = "scripted", script: dict | None = None,
                 extra: tuple[str, ...] = ()) -> None:
        import json

        args = [PY, "-m", "tui", "serve", "--port", "0", "--engine", engine, *extra]
        if engine == "scripted":
            path = folder / "script.json"
            path.write_text(json.dumps(script or lecture_script()))
            args += ["--script", str(path), "--repeat"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError(f"captioner serve did not start: {line!r}")
        self.url = line.removeprefix("listening on ")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def pct(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def figure(name: str, value, unit: str = "", fmt: str = ".1f") -> None:
    text = format(value, fmt) if isinstance(value, float) else str(value)
    print(f"{name}: {text} {unit}".rstrip(), flush=True)


def load1() -> float:
    return os.getloadavg()[0]


def machine() -> str:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        m = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        cpu = m.group(1) if m else cpu
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def header(name: str) -> None:
    """Context lines (as `# ...`, so parsers of `name: value` lines can skip them)."""
    print(f"# {name} {time.strftime('%Y-%m-%d %H:%M')} | {machine()} | load {load1():.2f}", flush=True)


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b[=>]|\x1b\][^\x07]*\x07", "", text)


def speech_file(path: Path, seconds: float, rate: int = 16000) -> Path:
    """The speech fixtures back to back, looped to `seconds`: a level meter that moves."""
    parts = [sf.read(p, dtype="int16")[0] for p in sorted(DATA.glob("*.wav"))]
    one = np.concatenate(parts)
    reps = int(np.ceil(seconds * rate / len(one)))
    sf.write(path, np.tile(one, reps)[: int(seconds * rate)], rate, subtype="PCM_16")
    return path


def byte_compile(*checkouts: str | Path) -> None:
    """Compile each checkout's tui package, as `pip install` does for a user.

    This machine sets PYTHONDONTWRITEBYTECODE, so a source checkout would otherwise be
    compiled anew at every launch (about 60 ms here), which no installed captioner does."""
    for checkout in checkouts:
        subprocess.run([PY, "-m", "compileall", "-q", str(Path(checkout) / "tui")], check=True)


def isolated_env(folder: Path) -> dict:
    """Environment for a captioner process: its own data, state and config dirs, no key."""
    env = {k: v for k, v in os.environ.items() if k != "ASSEMBLYAI_API_KEY"}
    env.update(CAPTIONER_DATA_DIR=str(folder / "data"), XDG_STATE_HOME=str(folder / "state"),
               XDG_CONFIG_HOME=str(folder / "config"), TERM="xterm-256color", COLORTERM="truecolor",
               PYTHONUNBUFFERED="1")
    return env


class PtyApp:
    """A process on a real pseudo-terminal; its output is drained as a terminal would.

    `seen(text)` is the monotonic time `text` first appeared in the output (escape sequences
    stripped), or None. Process start is `started` (just before the fork).
    """

    def __init__(self, args: list[str], env: dict, size: tuple[int, int] = (100, 30),
                 watch: tuple[str, ...] = ()) -> None:
        import fcntl
        import struct
        import termios
        import threading

        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.master = master
        self.watch = {w: None for w in watch}
        self.tail = ""
        self.bytes = 0
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            now = time.monotonic()
            self.bytes += len(data)
            self.tail = (self.tail + strip_ansi(data.decode(errors="replace")))[-8192:]
            for text, when in self.watch.items():
                if when is None and text in self.tail:
                    self.watch[text] = now

    def seen(self, text: str) -> float | None:
        return self.watch.get(text)

    def wait_seen(self, text: str, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while self.watch.get(text) is None and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.005)
        return self.watch.get(text)

    def send(self, keys: bytes) -> float:
        now = time.monotonic()
        os.write(self.master, keys)
        return now

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(2)
        with contextlib.suppress(OSError):
            os.close(self.master)
