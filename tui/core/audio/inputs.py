"""open_source(): the audio source a spec names (microphone, device, file or stdin).

Each kind is imported when asked for: the microphone's first frame does not wait for
soundfile or pulsectl to load.
"""

from __future__ import annotations

import os

from tui.core.audio.source import AudioSource

SYSTEM = "system"  # --input system: the default output's monitor; system:NAME another output's

AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".webm",
                    ".mp4", ".mkv", ".aiff", ".aif", ".au", ".raw", ".pcm", ".wma"}  # fmt: skip


def _looks_like_file(spec: str) -> bool:
    # Device names may contain "/" ("Mic/Line In"), so only clear paths count as files.
    if os.path.exists(spec):
        return True
    return spec.startswith((".", "/", "~")) or os.path.splitext(spec)[1].lower() in AUDIO_EXTENSIONS


def open_source(
    spec: str | None,
    *,
    rate: int = 16000,
    chunk_ms: int = 50,
    device_rate: int | None = None,
    speed: float = 1.0,
    stdin_rate: int = 16000,
) -> AudioSource:
    """The source `spec` names: None = default mic, "-" = stdin, "system" = the system
    audio (system:NAME: an output picked by name), a path, or a device.

    A device is an index or a case-insensitive name substring. Raises AudioError with a
    one-line explanation when the input cannot be used.
    """
    if spec == SYSTEM or (spec or "").startswith(SYSTEM + ":"):
        from tui.core.audio.system import SystemAudioSource

        return SystemAudioSource(spec.partition(":")[2] or None, rate=rate, chunk_ms=chunk_ms)
    if spec == "-":
        from tui.core.audio.files import StdinSource

        return StdinSource(stdin_rate, rate=rate, chunk_ms=chunk_ms)
    if spec is not None and _looks_like_file(spec):
        from tui.core.audio.files import open_file

        path = os.path.expanduser(spec)
        return open_file(path, rate=rate, chunk_ms=chunk_ms, speed=speed)
    from tui.core.audio.mic import MicSource

    return MicSource(spec, rate=rate, chunk_ms=chunk_ms, device_rate=device_rate)
