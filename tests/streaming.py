"""Shared helpers for tests that stream through the real client to a real local server."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import soundfile as sf

from tui.config import load_settings
from tui.core.stream import events as ev
from tui.captioning import CaptionSession, RunOptions
from tui.server.faults import Faults
from tui.server.scripted import make_script, script_duration_ms, timecode_pcm
from tui.server.server import LocalServer, ServerConfig

TURNS = [
    "Good morning, everyone.",
    "Today we talk about live captions in the terminal.",
    "Every word should arrive once, in order.",
    "Thank you.",
]


def write_wav(path: Path, ms: int, rate: int = 16000) -> Path:
    """A WAV `ms` long whose samples carry their own position (the scripted engine's timecode)."""
    sf.write(path, timecode_pcm(0, rate * ms // 1000), rate, subtype="PCM_16")
    return path


def script_file(tmp_path: Path, turns=TURNS, **kw) -> tuple[Path, dict]:
    script = make_script(turns, **kw)
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    return path, script


@contextlib.asynccontextmanager
async def local_server(script: dict | None = None, faults: Faults | None = None, **cfg):
    options = {"script": script, "timecode": True} if script is not None else {}
    config = ServerConfig(engine="scripted", engine_options=options, faults=faults or Faults(), **cfg)
    async with LocalServer(config) as server:
        yield server


def settings_for(tmp_path: Path, url: str, env: dict | None = None, **overrides):
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    values = {"service.url": url}
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_settings(empty, env=env or {}, overrides=values)


class Collector:
    """Records every event a session emits."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def __call__(self, event: ev.Event) -> None:
        self.events.append(event)

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def texts(self) -> list[str]:
        return [e.turn.text for e in self.of(ev.TurnFinal)]

    @property
    def states(self) -> list[str]:
        return [e.state for e in self.of(ev.StateChanged)]


async def run_session(tmp_path: Path, settings, wav: Path, speed: float = 10.0, **opts):
    events = Collector()
    session = CaptionSession(settings, events, RunOptions(input=str(wav), speed=speed,
                                                          journal_dir=tmp_path / "journal", **opts))
    code = await session.run()
    return code, events, session


def scripted_audio(tmp_path: Path, script: dict, tail_ms: int = 0) -> Path:
    return write_wav(tmp_path / "speech.wav", script_duration_ms(script) + tail_ms)
