"""Helpers for end-to-end tests that run the real `captioner` command as a process.

Each run gets its own data folder (CAPTIONER_DATA_DIR), an empty config file and no API key
unless a test adds one. Output is read line by line as the process prints it, so a test can
act (send a signal, kill it) after it has seen a given number of turns.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from tui.core.transcript.journal import read_journal
from tui.core.transcript.model import Transcript

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
PYTHON = sys.executable
API_KEY_ENV = "ASSEMBLYAI_API_KEY"


def captioner_env(folder: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a captioner process: private data dir, empty config, no key."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "empty.toml"
    config.write_text("")
    env = {k: v for k, v in os.environ.items() if k != API_KEY_ENV}
    env.update(CAPTIONER_DATA_DIR=str(folder / "data"), CAPTIONER_CONFIG=str(config),
               PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


def sessions_dir(env: dict[str, str]) -> Path:
    return Path(env["CAPTIONER_DATA_DIR"]) / "sessions"


def journals(env: dict[str, str]) -> list[Path]:
    return sorted(sessions_dir(env).glob("*.jsonl"))


def only_journal(env: dict[str, str]) -> Transcript:
    paths = journals(env)
    assert len(paths) == 1, paths
    return read_journal(paths[0])


def turn_texts(transcript: Transcript) -> list[str]:
    return [t.text for t in transcript.turns]


class Captioner:
    """A running `python -m tui ...` whose stdout lines and stderr are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str], stdin=subprocess.DEVNULL) -> None:
        self.args = args
        self.proc = subprocess.Popen([PYTHON, "-m", "tui", *args], env=env, cwd=ROOT, stdin=stdin,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._new: queue.Queue = queue.Queue()
        self._err: list[str] = []
        self._readers = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._readers:
            t.start()

    def _read_out(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._new.put(None)
        self._new.put(None)

    def _read_err(self) -> None:
        for line in self.proc.stderr:
            self._err.append(line)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def stderr(self) -> str:
        return "".join(self._err)

    def wait_lines(self, n: int, timeout: float) -> list[str]:
        """Block until at least n lines were printed (AssertionError on timeout or exit)."""
        deadline = time.monotonic() + timeout
        while len(self.lines) < n:
            if not self._readers[0].is_alive() and len(self.lines) < n:
                raise AssertionError(f"captioner closed stdout ({self.proc.poll()}) after "
                                     f"{self.lines}: {self.stderr}")
            try:
                self._new.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"only {len(self.lines)} of {n} lines in {timeout} s: "
                                     f"{self.lines} {self.stderr}") from None
        return list(self.lines)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def finish(self, timeout: float = 30.0) -> int:
        """Wait for exit and for all output; returns the exit status."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"captioner did not exit within {timeout} s: {self.stderr}") from None
        for t in self._readers:
            t.join(5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> "Captioner":
        return self

    def __exit__(self, *exc) -> None:
        for child in _children(self.pid):
            _kill(child.pid)
        self.kill()
        if self.proc.stdin:
            self.proc.stdin.close()


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def serve_children(pid: int) -> list[psutil.Process]:
    """The `captioner serve` processes started by pid."""
    found = []
    for child in _children(pid):
        try:
            if "serve" in child.cmdline():
                found.append(child)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def exited(pid: int) -> bool:
    """True once pid is gone or a zombie (it has exited; only reaping is left)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True



def wait_or_kill(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Wait for a process asked to stop; kill it if it does not within timeout."""
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

def wait_for(predicate, timeout: float, what: str, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


class Server:
    """`captioner serve --port 0` in its own process; it exits when its stdin closes."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "tui", "serve", "--port", "0", "--exit-on-stdin-eof", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=ROOT, env=env,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.close()
            raise AssertionError(f"server did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line.split()[-1]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        wait_or_kill(self.proc)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def jsonl_turns(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines]


@contextlib.contextmanager
def scripted_talk(folder: Path, turns: list[str]):
    """A scripted `captioner serve` reading `turns`, and a WAV long enough for all of them."""
    from streaming import script_file, write_wav
    from tui.server.scripted import script_duration_ms

    path, script = script_file(folder, turns, pause_ms=600)
    wav = write_wav(folder / "talk.wav", script_duration_ms(script) + 1000)
    with Server("--engine", "scripted", "--script", str(path)) as server:
        yield server.url, wav
