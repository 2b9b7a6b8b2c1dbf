"""End to end: the real `captioner` process in tmux against a scripted local server."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import psutil
import soundfile as sf
from apphelpers import write_wav
from vmic import start_vmic

from tui.server.scripted import make_script

PYTHON = "/tmp/venv/bin/python" if Path("/tmp/venv/bin/python").exists() else sys.executable
TURNS = ["Hello from the scripted server.", "Captions in a real terminal.", "Third turn here."]
METER_ROW = re.compile(r"^ level [█▒·│]+ +(-?\d+) dB  peak +(-?\d+) dB")


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Terminal:
    """`captioner ARGS` in a 100x30 tmux pane; `rc` holds its exit status once it has ended."""

    def __init__(self, tmux: list[str], rc: Path) -> None:
        self.tmux, self.rc = tmux, rc

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout

    def row(self, prefix: str) -> str:
        return next((row for row in self.screen().splitlines() if row.startswith(prefix)), "")

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", *keys], check=True)

    def wait(self, text: str, timeout: float = 30) -> None:
        _wait(lambda: text in self.screen(), timeout, repr(text))

    def exit_status(self, timeout: float = 30) -> int:
        _wait(self.rc.exists, timeout, "captioner to exit")
        return int(self.rc.read_text())


@contextlib.contextmanager
def captioner_in_tmux(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    script = tmp_path / "script.json"
    script.write_text(json.dumps(make_script(TURNS, pause_ms=900, repeat=True)))
    server = subprocess.Popen([PYTHON, "-m", "tui", "serve", "--engine", "scripted", "--script", str(script),
                               "--exit-on-stdin-eof"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    tmux = ["tmux", "-L", f"captest-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
    rc = tmp_path / "rc"
    try:
        line = server.stdout.readline()
        assert line.startswith("listening on "), line
        variables = {"CAPTIONER_DATA_DIR": tmp_path / "data", "CAPTIONER_CONFIG": tmp_path / "config.toml",
                     **(env or {})}
        command = (" ".join(f"{k}={v}" for k, v in variables.items())
                   + f" {PYTHON} -m tui --url {line.split()[-1]} {' '.join(args)}; echo $? > {rc}.tmp;"
                   + f" mv {rc}.tmp {rc}; sleep 30")
        subprocess.run([*tmux, "new-session", "-d", "-x", "100", "-y", "30", command], check=True)
        yield Terminal(tmux, rc)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def test_captioner_in_tmux(tmp_path):
    wav = write_wav(tmp_path / "input.wav", 30.0)
    with captioner_in_tmux(tmp_path, "--input", str(wav)) as term:
        term.wait(TURNS[0])
        assert "● live" in term.screen()
        term.keys("space")
        term.wait("❚❚ paused", 10)
        time.sleep(0.4)  # paused long enough to skip audio: the marker then shows a span
        term.keys("space")
        term.wait("● live", 10)
        term.wait("paused 00:", 10)
        term.keys("q")
        assert term.exit_status() == 0
    journals = list((tmp_path / "data" / "sessions").glob("*.jsonl"))
    assert journals and TURNS[0] in journals[0].read_text()


def _captioner_pid(tmp_path: Path) -> int:
    """The captioner whose data directory is under tmp_path (not the shell, not the server)."""
    def find():
        for proc in psutil.process_iter(["cmdline", "environ"]):
            with contextlib.suppress(psutil.Error, TypeError):
                cmd = proc.info["cmdline"] or []
                if "--url" in cmd and str(tmp_path) in (proc.info["environ"] or {}).get("CAPTIONER_DATA_DIR", ""):
                    return proc.pid
        return None
    return _wait(find, 10, "the captioner process")


def _server_of(tmp_path: Path) -> psutil.Process:
    return next(p for p in psutil.process_iter(["cmdline"])
                if "serve" in (p.info["cmdline"] or []) and str(tmp_path) in " ".join(p.info["cmdline"]))


def test_a_vanished_terminal_ends_the_app_and_keeps_the_turns(tmp_path):
    # The terminal closes (tmux killed, a laptop's lid shut) as the network stalls: the app
    # goes on painting 20 times a second while it waits for the last turns, every write to
    # the terminal fails, and it must still end, with its journal. (Textual's writer thread
    # died at the first failed write, and the app then hung forever on its full queue.)
    wav = write_wav(tmp_path / "input.wav", 60.0)
    with captioner_in_tmux(tmp_path, "--input", str(wav)) as term:
        term.wait(TURNS[1])
        pid = _captioner_pid(tmp_path)
        server = _server_of(tmp_path)
        server.suspend()  # the network stalls: Terminate gets no answer
        try:
            subprocess.run([*term.tmux, "kill-server"], capture_output=True)
            _wait(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE,
                  20, "the captioner to exit after its terminal went away")
        finally:
            server.resume()
    journals = list((tmp_path / "data" / "sessions").glob("*.jsonl"))
    assert journals and TURNS[0] in journals[0].read_text() and TURNS[1] in journals[0].read_text()


def test_meter_moves_in_a_real_terminal_and_never_paints_over_a_toast(tmp_path):
    """The meter and live line are written straight to the terminal (tui/widgets/paint.py), not
    through a Textual frame: on a real terminal they must still show the current levels, and
    a notification drawn over them must stay intact."""
    rate = 16000
    t = np.arange(rate * 30) / rate
    loudness = np.where((t // 0.3) % 2 == 0, 0.5, 0.02)  # -9 / -37 dBFS, switching every 0.3 s
    sf.write(tmp_path / "input.wav", (loudness * np.sin(2 * np.pi * 440 * t)).astype("float32"), rate)
    with captioner_in_tmux(tmp_path, "--input", str(tmp_path / "input.wav")) as term:
        _wait(lambda: METER_ROW.match(term.row(" level ")), 30, "the meter showing levels")
        seen = set()
        for _ in range(15):
            row = term.row(" level ")
            match = METER_ROW.match(row)
            assert match, row  # a whole, well-formed meter line every time
            seen.add(match.group(1))
            time.sleep(0.1)
        assert len(seen) >= 2, seen  # it follows the loud and quiet stretches
        term.wait(TURNS[0])
        term.keys("c")
        _wait(lambda: "Copied" in term.row(" level "), 10, "the toast over the meter's row")
        for _ in range(10):  # the levels keep changing behind the toast
            assert "Copied" in term.row(" level ")
            time.sleep(0.1)


def test_lost_microphone_keeps_the_captions_on_screen_and_says_why(tmp_path):
    mic = start_vmic(tmp_path / "mic")  # a sound server of its own, to kill
    (tmp_path / "config.toml").write_text("[audio]\ndevice_rate = 48000\n")  # not the automatic 16 kHz
    try:
        with captioner_in_tmux(tmp_path, env=mic.env) as term:
            term.wait("● live")
            term.wait("default 48 kHz")
            term.wait(TURNS[0])
            mic.kill_daemon()
            term.wait("✖ error: microphone", 20)
            screen = term.screen()
            assert TURNS[0] in screen and "press q to quit" in screen  # still there, to read or save
            term.keys("q")
            assert term.exit_status() == 1
            term.wait("captioner: microphone 'default'")  # the reason, once the screen is gone
    finally:
        mic.stop()
