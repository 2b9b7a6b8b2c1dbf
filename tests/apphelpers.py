"""Helpers for the app tests: a scripted local server, a WAV, settings, and waiting on conditions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import soundfile as sf

from tui.config import load_settings
from tui.core.stream import events as ev
from tui.captioning import RunOptions
from tui.core.transcript.model import FinalTurn, Marker, TimedWord
from tui.server.faults import Faults
from tui.server.scripted import make_script
from tui.server.server import LocalServer, ServerConfig

TURNS = ["Hello, and welcome to captioner.", "The second turn has a few more words.", "Goodbye now."]


def write_wav(path: Path, seconds: float, rate: int = 16000) -> Path:
    """A tone at about -13 dBFS (the scripted engine only counts its duration)."""
    t = np.arange(int(rate * seconds)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype("float32"), rate)
    return path


@contextlib.asynccontextmanager
async def scripted_server(turns: list[str] = TURNS, faults: Faults | None = None, **cfg):
    """A real LocalServer on 127.0.0.1 whose scripted engine "hears" `turns`."""
    config = ServerConfig(engine="scripted", engine_options={"script": make_script(turns, pause_ms=900)},
                          faults=faults or Faults(), **cfg)
    async with LocalServer(config) as server:
        yield server


def settings_for(tmp_path: Path, url: str, keymap: dict | None = None, **overrides):
    config = tmp_path / "config.toml"
    config.write_text("")
    values = {"service.url": url, "output.directory": str(tmp_path / "captions")}
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    settings = load_settings(path=config, env={}, overrides=values)
    settings.keymap.update(keymap or {})
    return settings


def options_for(tmp_path: Path, seconds: float = 8.0, speed: float = 2.0) -> RunOptions:
    wav = tmp_path / "input.wav"
    if not wav.exists():
        write_wav(wav, seconds)
    return RunOptions(input=str(wav), speed=speed, journal_dir=tmp_path / "journal")


async def wait_for(pilot, condition, timeout: float = 20.0, what: str = "condition"):
    """Let the app run until condition() is truthy; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


class Recorder:
    """A message_hook for run_test that keeps every message of the given types."""

    def __init__(self, *types) -> None:
        self.types, self.messages = types, []

    def __call__(self, message) -> None:
        if isinstance(message, self.types):
            self.messages.append(message)

    def states(self) -> list[str]:
        return [m.event.state for m in self.messages if isinstance(m.event, ev.StateChanged)]


# -------------------------------------------------- fixed data for snapshots

FROZEN_EPOCH = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


def frozen_clock(session_started: float, elapsed_s: float = 83.0) -> SimpleNamespace:
    """A clock standing still `elapsed_s` after the session was created."""
    return SimpleNamespace(monotonic=lambda: session_started + elapsed_s, time=lambda: FROZEN_EPOCH)


def turn(index: int, text: str, start_ms: int, speaker: str | None = None,
         language: str | None = None) -> FinalTurn:
    words = [TimedWord(w, start_ms + i * 300, start_ms + i * 300 + 250) for i, w in enumerate(text.split())]
    return FinalTurn(index, start_ms, words[-1].end_ms if words else start_ms, text, words,
                     FROZEN_EPOCH + start_ms / 1000, speaker, language)


def pause_marker(at_ms: int, duration_ms: int) -> Marker:
    return Marker("pause", at_ms, FROZEN_EPOCH + at_ms / 1000, duration_ms)


def live_words(*spec: tuple[str, float, bool]) -> list[ev.LiveWord]:
    return [ev.LiveWord(text, conf, final) for text, conf, final in spec]


async def settle(pilot, rounds: int = 3) -> None:
    for _ in range(rounds):
        await pilot.pause()
    await asyncio.sleep(0)
