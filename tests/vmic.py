"""A private PulseAudio virtual microphone for real PortAudio capture tests.

Follows shared/docs/virtual-mic.md: a user-space daemon with a null sink whose monitor is the
default source. Whatever `play()` sends into the sink is what a capture stream records.
Use `start_vmic(folder)` directly (child processes get `.env`), or the session fixture `vmic`,
which also sets PULSE_SERVER in os.environ for in-process capture.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

SINK = "vmic_sink"
SOURCE = "vmic"
SPEAKERS = "vmic_speakers"  # the default output: its monitor is "the system audio"
SPEAKERS_NAME = "VirtualSpeakers"
SINK_RATE = 48000
_SOCKET_MAX = 100  # unix socket paths must fit in sockaddr_un (108 bytes)


@dataclass
class VMic:
    base: Path
    env: dict[str, str]  # {"PULSE_SERVER": ...}: pass to child processes
    _keepalive: subprocess.Popen | None = None
    _players: list[subprocess.Popen] = field(default_factory=list)
    _outputs: dict[str, tuple[str, subprocess.Popen]] = field(default_factory=dict)  # sink: (module, keep-alive)

    def _run(self, *args: str, timeout: float = 5.0) -> subprocess.CompletedProcess:
        return subprocess.run(
            args, env=self._full_env(), capture_output=True, text=True, timeout=timeout
        )

    def _full_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def play(self, wav_path: str | os.PathLike, wait: bool = True, sink: str = SINK) -> subprocess.Popen:
        """Play a file into the microphone (or another sink) in real time; returns when done
        unless wait=False."""
        proc = subprocess.Popen(
            ["paplay", f"--device={sink}", str(wav_path)],
            env=self._full_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._players.append(proc)
        if wait:
            _, err = proc.communicate(timeout=600)
            if proc.returncode:
                raise RuntimeError(f"paplay failed: {err.decode(errors='replace')}")
        return proc

    def play_system(self, wav_path: str | os.PathLike, wait: bool = True,
                    sink: str = SPEAKERS) -> subprocess.Popen:
        """Play a file into an output (the system audio) in real time."""
        return self.play(wav_path, wait, sink=sink)

    def add_output(self, sink: str = SPEAKERS, description: str = SPEAKERS_NAME,
                   default: bool = True) -> None:
        """A second null sink, an output like loudspeakers (the default one unless told);
        the default source stays the virtual mic. Kept alive as vmic_sink is."""
        module = self._run("pactl", "load-module", "module-null-sink", f"sink_name={sink}",
                           f"rate={SINK_RATE}", "channels=2",
                           f"sink_properties=device.description={description}").stdout.strip()
        keepalive = _start_keepalive(self, sink, channels=2)
        self._outputs[sink] = (module, keepalive)
        self._settle(sink, keepalive)
        if default:
            self.set_default_output(sink)
        self._run("pactl", "set-default-source", SOURCE)

    def _keepalives(self) -> dict[str, subprocess.Popen]:
        return {SINK: self._keepalive, **{sink: k for sink, (_, k) in self._outputs.items()}}

    def _settle(self, sink: str, keepalive: subprocess.Popen) -> None:
        """Put a sink's keep-alive on it, then restart the sink's clock: without its
        keep-alive a null sink renders 2 s ahead, and captures from it stall till then."""
        index, now_on = _wait_until(lambda: self._stream_of(keepalive), f"the keep-alive stream of {sink}")
        if now_on != sink:
            self._run("pactl", "move-sink-input", index, sink)
        self._run("pactl", "suspend-sink", sink, "1")
        self._run("pactl", "suspend-sink", sink, "0")

    def _stream_of(self, player: subprocess.Popen) -> tuple[str, str] | None:
        """(sink-input index, sink name) of a player's stream."""
        names = {x["index"]: x["name"] for x in self._pactl_json("sinks")}
        for stream in self._pactl_json("sink-inputs"):
            if stream["properties"].get("application.process.id") == str(player.pid):
                return str(stream["index"]), names.get(stream["sink"], "")
        return None

    def _pactl_json(self, what: str) -> list[dict]:
        return json.loads(self._run("pactl", "-f", "json", "list", what).stdout or "[]")

    def set_default_output(self, sink: str) -> None:
        """PulseAudio moves the streams of the old default sink to the new one, a
        keep-alive too (one opened on the default sink can't be pinned): put it back."""
        old = self.default_output()
        self._run("pactl", "set-default-sink", sink)
        keepalive = self._keepalives().get(old)
        where = keepalive and self._stream_of(keepalive)
        if where and where[1] != old:
            self._settle(old, keepalive)

    def remove_output(self, sink: str = SPEAKERS) -> None:
        """Unload an output, as unplugged headphones vanish."""
        module, keepalive = self._outputs.pop(sink)
        keepalive.kill()
        keepalive.wait()
        self._run("pactl", "unload-module", module)

    def default_output(self) -> str:
        return self._run("pactl", "get-default-sink").stdout.strip()

    def kill_daemon(self) -> None:
        """Kill the daemon outright, as a vanished device looks to PortAudio."""
        pid = _read_pid(self.base / "run" / "pulse" / "pid")
        if pid:
            _kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        for proc in [*self._players, self._keepalive, *(k for _, k in self._outputs.values())]:
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
        pid = _read_pid(self.base / "run" / "pulse" / "pid")
        try:
            self._run("pactl", "exit", timeout=3)
        except subprocess.TimeoutExpired:
            pass
        if pid:
            _wait_gone(pid, timeout=0.3)  # it can dawdle ~2 s on exit; it is ours to kill
        shutil.rmtree(self.base, ignore_errors=True)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, timeout: float = 3.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    _kill(pid, signal.SIGKILL)


def _wait_until(check, what: str, timeout: float = 10.0):
    """check()'s first true value, polled until `timeout`."""
    end = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > end:
            raise RuntimeError(f"virtual mic: timed out waiting for {what}")
        time.sleep(0.05)
    return value


def start_vmic(tmpdir: str | os.PathLike) -> VMic:
    """Start a private PulseAudio daemon under tmpdir and make its null-sink monitor the mic."""
    base = Path(tmpdir) / "vmic"
    if len(str(base / "run" / "pulse" / "native")) > _SOCKET_MAX:
        base = Path(tempfile.mkdtemp(prefix="vmic", dir="/tmp"))
    shutil.rmtree(base, ignore_errors=True)  # a stale pid file would stop the daemon starting
    (base / "run").mkdir(parents=True, mode=0o700)
    (base / "home").mkdir()
    socket = base / "run" / "pulse" / "native"
    daemon_env = {
        **os.environ,
        "HOME": str(base / "home"),
        "XDG_RUNTIME_DIR": str(base / "run"),
        "XDG_CONFIG_HOME": str(base / "home" / ".config"),
        "PULSE_STATE_PATH": str(base / "state"),
        "DBUS_SESSION_BUS_ADDRESS": "disabled:",
    }
    daemon_env.pop("PULSE_SERVER", None)
    subprocess.run(
        [
            "pulseaudio", "--daemonize=yes", "-n", "--exit-idle-time=-1", "--disallow-exit=no",
            "--use-pid-file=yes", f"--log-target=file:{base / 'pulse.log'}",
            "-L", f"module-native-protocol-unix auth-anonymous=1 socket={socket}",
            "-L", f"module-null-sink sink_name={SINK} rate={SINK_RATE} channels=1",
            "-L", f"module-remap-source master={SINK}.monitor source_name={SOURCE}",
        ],
        env=daemon_env, stdin=subprocess.DEVNULL, check=True, timeout=15,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    mic = VMic(base=base, env={"PULSE_SERVER": f"unix:{socket}"})
    try:
        _wait_until(lambda: mic._run("pactl", "info").returncode == 0, "the daemon")
        mic._run("pactl", "set-default-sink", SINK)
        mic._run("pactl", "set-default-source", SOURCE)
        mic._keepalive = _start_keepalive(mic)
        mic._settle(SINK, mic._keepalive)
    except BaseException:
        mic.stop()
        raise
    return mic


def _start_keepalive(mic: VMic, sink: str = SINK, channels: int = 1) -> subprocess.Popen:
    # Without a low-latency stream the null sink runs in 2 s blocks and capture arrives bunched.
    return subprocess.Popen(
        ["pacat", "--playback", "--raw", "--latency-msec=10", f"--device={sink}",
         "--format=s16le", f"--rate={SINK_RATE}", f"--channels={channels}"],
        env=mic._full_env(), stdin=open("/dev/zero", "rb"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def _rescan_portaudio() -> None:
    # PortAudio lists devices once at initialisation; an earlier import saw no server.
    if "sounddevice" in sys.modules:
        from tui.core.audio.devices import rescan

        rescan()


_shared: VMic | None = None  # one daemon even when several test modules import the fixture
_users = 0
_old_server: str | None = None


@pytest.fixture(scope="session")
def vmic(tmp_path_factory):
    """One virtual microphone for the test session, with PULSE_SERVER set in os.environ."""
    global _shared, _users, _old_server
    if _shared is None:
        _shared = start_vmic(tmp_path_factory.mktemp("pa"))
        _old_server = os.environ.get("PULSE_SERVER")
        os.environ.update(_shared.env)
        _rescan_portaudio()
    _users += 1
    yield _shared
    _users -= 1
    if _users == 0:
        _shared.stop()
        _shared = None
        if _old_server is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = _old_server


def best_correlation(ref: np.ndarray, got: np.ndarray) -> float:
    """Peak normalized cross-correlation of got against ref, over all lags."""
    ref = ref.astype(np.float64) - ref.mean()
    got = got.astype(np.float64) - got.mean()
    n = len(ref) + len(got)
    corr = np.fft.irfft(np.fft.rfft(got, n) * np.conj(np.fft.rfft(ref, n)), n)
    lag = int(np.argmax(corr))
    lag = lag - n if lag > len(got) else lag
    a = got[max(0, lag) : max(0, lag) + len(ref)]
    b = ref[max(0, -lag) : max(0, -lag) + len(a)]
    return float(np.dot(a[: len(b)], b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


def play_until(mic: VMic, wav: str, stop: threading.Event) -> None:
    """Play wav into the microphone again and again until stop is set (for benchmarks)."""
    while not stop.is_set():
        proc = mic.play(wav, wait=False)
        while proc.poll() is None and not stop.is_set():
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
