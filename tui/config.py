"""Settings: a strict TOML schema, with CLI flag > environment > config file > default.

Every key is declared once in SCHEMA with its type, allowed values and a comment;
config.example.toml is generated from it (`python -m tui.config > config.example.toml`).
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

from tui.core.stream import protocol
from tui.core.transcript.formats import FORMATS

API_KEY_ENV = "ASSEMBLYAI_API_KEY"
CONFIG_ENV = "CAPTIONER_CONFIG"


class ConfigError(Exception):
    """A bad setting: one line naming the file, the key and what is allowed."""


@dataclass(frozen=True, slots=True)
class Key:
    section: str
    name: str
    default: Any
    doc: str
    choices: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    kind: type | tuple[type, ...] | None = None  # defaults to type(default)
    secret: bool = False
    pattern: str = ""  # "model": a model id (protocol.is_model_id)

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}"


def _k(section: str, name: str, default: Any, doc: str, **kw: Any) -> Key:
    return Key(section, name, default, doc, **kw)


SCHEMA: tuple[Key, ...] = (
    # --- service
    _k("service", "engine", "auto", "auto: AssemblyAI when an API key is set, else the offline engine",
       choices=("auto", "assemblyai", "local")),
    _k("service", "url", "", "streaming endpoint override, e.g. ws://127.0.0.1:8765/v3/ws (empty: from engine/region)"),
    _k("service", "region", "auto", "AssemblyAI data zone", choices=("auto", "us", "eu")),
    _k("service", "api_key", "", "AssemblyAI API key; prefer the ASSEMBLYAI_API_KEY environment variable", secret=True),
    _k("service", "temporary_token", False, "mint a short-lived token (GET /v3/token) and connect with it"),
    _k("service", "speech_model", protocol.DEFAULT_SPEECH_MODEL, "speech model sent on every connection "
       "(any model id; see the list above)", pattern="model"),
    _k("service", "format_turns", True, "Universal-Streaming: punctuation, casing and number formatting "
       "of finished turns (the Pro family always formats)"),
    _k("service", "end_of_turn_confidence_threshold", 0.4, "Universal-Streaming: semantic end-of-turn "
       "threshold", low=0.0, high=1.0, kind=(float, int)),
    _k("service", "mode", "", "Pro family: turn-taking preset (empty: the service's default, balanced)",
       choices=("",) + protocol.MODES),
    _k("service", "prompt", "", "Pro family: context about the audio, at most 1750 characters (empty: none)"),
    _k("service", "language_codes", [], "Pro family: languages to favour, ISO 639-1 codes, at most 10",
       kind=list),
    _k("service", "language_detection", False, "multilingual and Pro: report each turn's language"),
    _k("service", "speaker_labels", False, "label speakers (A, B, ...) in turns and exports"),
    _k("service", "max_speakers", 0, "with speaker_labels: at most this many speakers (0: no cap)",
       low=0, high=10),
    _k("service", "session_heartbeat", False, "ask for Heartbeat messages: the status bar shows the "
       "service's real-time factor"),
    _k("service", "min_turn_silence", 400, "ms of silence that ends a turn when the model is confident",
       low=0, high=10000),
    _k("service", "max_turn_silence", 1280, "ms of silence that always ends a turn", low=0, high=30000),
    _k("service", "keyterms", [], "words and names to boost (at most 100, each at most 50 characters)", kind=list),
    _k("service", "insecure", False, "allow sending the key over plain ws:// to a non-loopback host"),
    _k("service", "reconnect_buffer_s", 120, "seconds of audio kept while reconnecting", low=5, high=3600),
    _k("service", "pause_close_after_s", 60, "seconds paused before the session is closed (reopened on resume)",
       low=5, high=3600),
    _k("service", "local_threads", 1, "CPU cores the offline engine may use", low=1, high=64),
    # --- audio
    _k("audio", "device", "", "input device: index or part of its name (empty: system default)",
       kind=(str, int)),
    _k("audio", "device_rate", 0, "microphone rate; 0: automatic (the service's rate through "
       "PulseAudio/PipeWire, else the device's own)",
       choices=(0, 8000, 16000, 22050, 32000, 44100, 48000, 96000)),
    _k("audio", "sample_rate", 16000, "sample rate sent to the service", choices=(8000, 16000, 22050, 44100, 48000)),
    _k("audio", "chunk_ms", 50, "audio per websocket message, ms", low=50, high=1000),
    _k("audio", "record", "", "also save the audio sent to the service to this WAV file (empty: off)"),
    _k("audio", "system_audio", "off", "caption the system audio (an output's monitor) beside the "
       "microphone: off, on (the default output) or part of an output's name (`captioner devices`)"),
    _k("audio", "mic_name", "You", "the microphone's name in captions and exports when both sources are on"),
    _k("audio", "system_name", "Them", "the system audio's name in captions and exports"),
    _k("audio", "suppress_echo", True, "hide a microphone turn that repeats the system audio (the mic "
       "hearing the loudspeakers); the journal keeps it, marked as an echo"),
    # --- output
    _k("output", "directory", "~/captions", "where the save key writes transcripts"),
    _k("output", "format", "txt", "default format for the save key", choices=FORMATS),
    _k("output", "timestamps", True, "timestamps in txt/md exports"),
    # --- ui
    _k("ui", "timestamps", "offset", "timestamps in the caption log", choices=("off", "offset", "wall")),
    _k("ui", "scrollback", 5000, "finished turns kept on screen (the transcript keeps all)", low=100, high=1_000_000),
    _k("ui", "meter_rate", 10, "at most this many level meter repaints a second, each showing the loudest "
       "audio since the last; audio comes in 20 frames a second, so 20 repaints at every frame "
       "(smoother, for about 0.25 % more of a core)", low=1, high=120),
    _k("ui", "theme", "textual-dark", "Textual theme name"),
    _k("ui", "view", "full", "full: log, live line, meter and status; captions: captions only (key v)",
       choices=("full", "captions")),
    _k("ui", "large_text", False, "block letters sized to the width in the caption view (key l)"),
    _k("ui", "low_confidence", 0.5, "words below this confidence are marked (0: off)", low=0.0, high=1.0,
       kind=(float, int)),
)
SECTIONS = ("service", "audio", "output", "ui")
KEYS = {k.dotted: k for k in SCHEMA}


@dataclass
class Settings:
    """Resolved settings: `values` maps "section.name" to the value in force."""

    values: dict[str, Any] = field(default_factory=dict)
    keymap: dict[str, str] = field(default_factory=dict)
    source: str = "defaults"  # the config file read, for messages
    warnings: list[str] = field(default_factory=list)

    def __getitem__(self, dotted: str) -> Any:
        return self.values[dotted]

    def __setitem__(self, dotted: str, value: Any) -> None:
        self.values[dotted] = check_value(KEYS[dotted], value, "command line")

    @property
    def api_key(self) -> str:
        return self.values.get("service.api_key", "")


def default_config_path() -> Path:
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else Path(user_config_dir("captioner")) / "config.toml"


MODEL_ID_TEXT = "a model id (letters, digits, '-' and '.')"


def _allowed(key: Key) -> str:
    if key.pattern == "model":
        return MODEL_ID_TEXT
    if key.choices:
        return "one of " + ", ".join(str(c) if c != "" else "\"\"" for c in key.choices)
    if key.low is not None:
        return f"a number from {key.low:g} to {key.high:g}"
    kinds = key.kind if isinstance(key.kind, tuple) else (key.kind or type(key.default),)
    return " or ".join({bool: "true or false", str: "a string", int: "a whole number",
                        float: "a number", list: "a list of strings"}[k] for k in kinds)


def check_value(key: Key, value: Any, where: str) -> Any:
    """The value if it is allowed for key, else ConfigError naming where, key and what is allowed."""
    kinds = key.kind if isinstance(key.kind, tuple) else (key.kind or type(key.default),)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if ok and key.choices:
        ok = value in key.choices
    if ok and key.low is not None:
        ok = key.low <= value <= key.high
    if ok and key.pattern == "model":
        ok = protocol.is_model_id(value)
    if ok and key.name == "language_codes":
        ok = len(value) <= 10 and all(isinstance(c, str) and c.isalpha() and len(c) <= 5 for c in value)
    if ok and key.name == "prompt":
        ok = len(value) <= 1750
    if ok and key.name == "keyterms":
        ok = all(isinstance(t, str) and 0 < len(t) <= protocol.MAX_KEYTERM_CHARS for t in value)
        ok = ok and len(value) <= protocol.MAX_KEYTERMS
    if not ok:
        got = "a secret value" if key.secret else repr(value)
        raise ConfigError(f"{where}: {key.dotted} must be {_allowed(key)} (got {got})")
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None


def _from_file(path: Path, data: dict[str, Any], settings: Settings) -> None:
    for section, table in data.items():
        if section == "keymap":
            _keymap(path, table, settings)
            continue
        if section not in SECTIONS or not isinstance(table, dict):
            raise ConfigError(f"{path}: unknown section [{section}]; sections are "
                              + ", ".join(SECTIONS + ("keymap",)))
        for name, value in table.items():
            key = KEYS.get(f"{section}.{name}")
            if key is None:
                known = ", ".join(k.name for k in SCHEMA if k.section == section)
                raise ConfigError(f"{path}: unknown key {section}.{name}; [{section}] keys are {known}")
            settings.values[key.dotted] = check_value(key, value, str(path))


def _keymap(path: Path, table: Any, settings: Settings) -> None:
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ConfigError(f"{path}: [keymap] maps binding ids to keys, e.g. pause = \"space,p\"")
    settings.keymap.update(table)


def _key_file_warning(path: Path) -> str | None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return f"{path} holds an API key and is readable by others: chmod 600 {path}"
    return None


def load_settings(path: Path | None = None, env: dict[str, str] | None = None,
                  overrides: dict[str, Any] | None = None) -> Settings:
    """Defaults, then the config file, then the environment, then CLI overrides (None = not given)."""
    env = os.environ if env is None else env
    settings = Settings(values={k.dotted: k.default for k in SCHEMA})
    explicit = path is not None
    path = path or default_config_path()
    if path.exists() or explicit:
        _from_file(path, _read_toml(path), settings)
        settings.source = str(path)
        if settings.api_key and (warning := _key_file_warning(path)):
            settings.warnings.append(warning)
    if env.get(API_KEY_ENV):
        settings.values["service.api_key"] = env[API_KEY_ENV]
    for dotted, value in (overrides or {}).items():
        if value is not None:
            settings[dotted] = value
    return settings


def example_toml() -> str:
    """The documented example config, every key at its default."""
    lines = ["# captioner configuration. Copy to ~/.config/captioner/config.toml and edit.",
             "# Precedence: command-line flag > environment > this file > default.", ""]
    for section in SECTIONS:
        lines.append(f"[{section}]")
        for key in (k for k in SCHEMA if k.section == section):
            allowed = f" ({_allowed(key)})" if key.choices or key.low is not None else ""
            if key.pattern == "model":
                lines += _model_list()
            lines.append(f"# {key.doc}{allowed}")
            lines.append(f"{key.name} = {_toml_value(key.default)}")
        lines.append("")
    lines += ["[keymap]", "# binding id = comma-separated keys; ids are listed on the help screen (?)",
              '# pause = "space,p"', ""]
    return "\n".join(lines)


def _model_list() -> list[str]:
    lines = ["# Known speech models (the service adds more; any id is sent as given):"]
    for model, what in protocol.KNOWN_MODELS.items():
        lines.append(f"#   {model}: {what}")
    return lines


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


if __name__ == "__main__":
    print(example_toml(), end="")
