"""Engine factory: the names `captioner serve --engine` accepts."""

from __future__ import annotations

from typing import Any

from tui.server.recognizer import Engine

ENGINE_NAMES = ("scripted", "moonshine")


def create_engine(name: str, options: dict[str, Any] | None = None, threads: int = 1) -> Engine:
    """Load an engine (may take seconds for a model: call it off the event loop)."""
    options = dict(options or {})
    if name == "scripted":
        from tui.server.scripted import ScriptedEngine

        return ScriptedEngine(**options)
    if name == "moonshine":
        # Imported lazily: it pulls in the model runtime, which scripted sessions never need.
        from tui.server.moonshine import MoonshineEngine

        return MoonshineEngine(threads=threads, **options)
    raise ValueError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")
