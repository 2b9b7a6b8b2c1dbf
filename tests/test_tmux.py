"""End to end: the real `captioner` process in tmux against a scripted local server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import soundfile as sf
from apphelpers import write_wav

from tui.server.scripted import make_script

PYTHON = "/tmp/venv/bin/python" if Path("/tmp/venv/bin/python").exists() else sys.executable
TURNS = ["Hello from the scripted server.", "Captions in a real terminal.", "Third turn here."]


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_captioner_in_tmux(tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps(make_script(TURNS, pause_ms=900, repeat=True)))
    wav = write_wav(tmp_path / "input.wav", 30.0)
    server = subprocess.Popen([PYTHON, "-m", "tui", "serve", "--engine", "scripted", "--script", str(script),
                               "--exit-on-stdin-eof"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    sock = f"captest-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", sock, "-f", "/dev/null"]
    rc_file = tmp_path / "rc"
    try:
        line = server.stdout.readline()
        assert line.startswith("listening on "), line
        url = line.split()[-1]
        env = f"CAPTIONER_DATA_DIR={tmp_path / 'data'} CAPTIONER_CONFIG={tmp_path / 'none.toml'} "
        command = (f"{env}{PYTHON} -m tui --url {url} --input {wav}; echo $? > {rc_file}; sleep 30")
        subprocess.run([*tmux, "new-session", "-d", "-x", "100", "-y", "30", command], check=True)

        def screen() -> str:
            return subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout

        _wait(lambda: TURNS[0] in screen(), 30, "the first caption on screen")
        assert "● live" in screen()
        subprocess.run([*tmux, "send-keys", "space"], check=True)
        _wait(lambda: "❚❚ paused" in screen(), 10, "paused in the status bar")
        subprocess.run([*tmux, "send-keys", "space"], check=True)
        _wait(lambda: "● live" in screen(), 10, "live again")
        _wait(lambda: "paused 00:" in screen(), 10, "the pause marker")
        subprocess.run([*tmux, "send-keys", "q"], check=True)
        _wait(rc_file.exists, 30, "captioner to exit")
        assert rc_file.read_text().strip() == "0"
        journals = list((tmp_path / "data" / "sessions").glob("*.jsonl"))
        assert journals and TURNS[0] in journals[0].read_text()
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


METER_ROW = re.compile(r"^ level [█▒·│]+ +(-?\d+) dB  peak +(-?\d+) dB")


def test_meter_moves_in_a_real_terminal_and_never_paints_over_a_toast(tmp_path):
    """The meter and live line are written straight to the terminal (tui/widgets/paint.py), not
    through a Textual frame: on a real terminal they must still show the current levels, and
    a notification drawn over them must stay intact."""
    script = tmp_path / "script.json"
    script.write_text(json.dumps(make_script(TURNS, pause_ms=900, repeat=True)))
    rate = 16000
    t = np.arange(rate * 30) / rate
    loudness = np.where((t // 0.3) % 2 == 0, 0.5, 0.02)  # -9 / -37 dBFS, switching every 0.3 s
    sf.write(tmp_path / "input.wav", (loudness * np.sin(2 * np.pi * 440 * t)).astype("float32"), rate)
    server = subprocess.Popen([PYTHON, "-m", "tui", "serve", "--engine", "scripted", "--script", str(script),
                               "--exit-on-stdin-eof"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    tmux = ["tmux", "-L", f"captest-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
    try:
        url = server.stdout.readline().split()[-1]
        env = f"CAPTIONER_DATA_DIR={tmp_path / 'data'} CAPTIONER_CONFIG={tmp_path / 'none.toml'} "
        command = f"{env}{PYTHON} -m tui --url {url} --input {tmp_path / 'input.wav'}; sleep 30"
        subprocess.run([*tmux, "new-session", "-d", "-x", "100", "-y", "30", command], check=True)

        def meter_row() -> str:
            rows = subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout
            return next((row for row in rows.splitlines() if row.startswith(" level ")), "")

        _wait(lambda: METER_ROW.match(meter_row()), 30, "the meter showing levels")
        seen = set()
        for _ in range(15):
            row = meter_row()
            match = METER_ROW.match(row)
            assert match, row  # a whole, well-formed meter line every time
            seen.add(match.group(1))
            time.sleep(0.1)
        assert len(seen) >= 2, seen  # it follows the loud and quiet stretches
        _wait(lambda: TURNS[0] in subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True,
                                                 text=True).stdout, 30, "a caption to copy")
        subprocess.run([*tmux, "send-keys", "c"], check=True)
        _wait(lambda: "Copied" in meter_row(), 10, "the toast over the meter's row")
        for _ in range(10):  # the levels keep changing behind the toast
            assert "Copied" in meter_row()
            time.sleep(0.1)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
