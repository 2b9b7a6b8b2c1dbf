"""Session query parameters: parsing and validation with the cloud's pydantic-style texts.

Section 1.3 of the protocol reference: unknown parameters are ignored, booleans parse the
pydantic way, keyterms_prompt is one JSON array, min_end_of_turn_silence_when_confident is
an alias of min_turn_silence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tui.core.stream.protocol import (DEFAULT_SPEECH_MODEL, MAX_KEYTERM_CHARS, MAX_KEYTERMS, MODE_SILENCE,
                                      MODES, is_model_id, is_pro_model)

ENCODINGS = ("pcm_s16le", "pcm_mulaw")
_TRUE = {"true", "1", "yes", "on", "t", "y"}
_FALSE = {"false", "0", "no", "off", "f", "n"}


class InputError(Exception):
    """A parameter failed validation; str() is the text of the 3006 Error."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"User Input Validation Error: Invalid '{param}': {message}")
        self.param = param


@dataclass(slots=True)
class SessionParams:
    sample_rate: int
    encoding: str = "pcm_s16le"
    speech_model: str = DEFAULT_SPEECH_MODEL
    format_turns: bool = False
    end_of_turn_confidence_threshold: float = 0.4
    min_turn_silence: int = 400
    max_turn_silence: int = 1280
    vad_threshold: float = 0.4
    keyterms: list[str] = field(default_factory=list)
    inactivity_timeout: int | None = None
    speaker_labels: bool = False
    max_speakers: int | None = None
    mode: str = "balanced"
    language_detection: bool = False
    session_heartbeat: bool = False

    @property
    def pro(self) -> bool:
        """The Pro family: whole-turn revisable partials, one formatted final (addendum 1)."""
        return is_pro_model(self.speech_model)


def _choices(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


def to_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(name, "Input should be a valid boolean, unable to interpret input")


def to_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool):
        raise InputError(name, "Input should be a valid integer")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(
            name, "Input should be a valid integer, unable to parse string as an integer"
        ) from None
    if number != number or number in (float("inf"), float("-inf")) or number != int(number):
        raise InputError(name, "Input should be a valid integer, got a number with a fractional part")
    return int(_bounded(name, int(number), lo, hi))


def to_float(name: str, value: Any, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool):
        raise InputError(name, "Input should be a valid number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(
            name, "Input should be a valid number, unable to parse string as a number"
        ) from None
    if number != number:
        raise InputError(name, "Input should be a finite number")
    return float(_bounded(name, number, lo, hi))


def _bounded(name: str, number: float, lo: float | None, hi: float | None) -> float:
    if lo is not None and number < lo:
        raise InputError(name, f"Input should be greater than or equal to {lo}")
    if hi is not None and number > hi:
        raise InputError(name, f"Input should be less than or equal to {hi}")
    return number


def to_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InputError(name, f"Input should be {_choices(choices)}")
    return value


def to_keyterms(name: str, value: Any) -> list[str]:
    """A JSON array (text or already decoded) of at most 100 strings; long terms are dropped."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InputError(name, "Value error, Invalid JSON array") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(name, "Value error, Invalid JSON array")
    if len(value) > MAX_KEYTERMS:
        raise InputError(name, f"Value error, Max {MAX_KEYTERMS} items")
    return [v for v in value if len(v) <= MAX_KEYTERM_CHARS]


def parse_params(query: dict[str, list[str]]) -> SessionParams:
    """Validate a session's query (as from urllib.parse.parse_qs); raises InputError."""

    def one(name: str) -> str | None:
        values = query.get(name)
        return values[0] if values else None

    rate = one("sample_rate")
    if rate is None:
        raise InputError("sample_rate", "Field required")
    params = SessionParams(sample_rate=to_int("sample_rate", rate, lo=1))
    if (encoding := one("encoding")) is not None:
        params.encoding = to_choice("encoding", encoding, ENCODINGS)
    if (model := one("speech_model")) is not None:
        if not is_model_id(model):
            raise InputError("speech_model", "Input should be a valid speech model id")
        params.speech_model = model
    _connect_time(params, one)
    if len(query.get("keyterms_prompt", [])) > 1:
        raise InputError("keyterms_prompt", "Value error, Invalid JSON array")
    if (terms := one("keyterms_prompt")) is not None:
        params.keyterms = to_keyterms("keyterms_prompt", terms)
    if (timeout := one("inactivity_timeout")) is not None:
        params.inactivity_timeout = to_int("inactivity_timeout", timeout, lo=5, hi=3600)
    apply_updates(params, {k: v[0] for k, v in query.items() if v})
    return params


def _connect_time(params: SessionParams, one) -> None:
    """Settings fixed for the session: speakers, language detection, heartbeat, Pro mode."""
    for name in ("speaker_labels", "language_detection", "session_heartbeat"):
        if (value := one(name)) is not None:
            setattr(params, name, to_bool(name, value))
    if (value := one("max_speakers")) is not None:
        params.max_speakers = to_int("max_speakers", value, lo=1, hi=10)
    if (value := one("mode")) is not None:
        params.mode = to_choice("mode", value, MODES)
    if params.pro:
        # Pro turn silences come from the mode; explicit params (applied next) override it.
        params.min_turn_silence, params.max_turn_silence = MODE_SILENCE[params.mode]


def apply_updates(params: SessionParams, fields: dict[str, Any]) -> None:
    """Apply the turn-detection and formatting fields present in `fields` (query or
    UpdateConfiguration); raises InputError on the first bad value."""
    if "min_end_of_turn_silence_when_confident" in fields:
        fields = {"min_turn_silence": fields["min_end_of_turn_silence_when_confident"], **fields}
    for name, convert in _UPDATERS.items():
        if fields.get(name) is not None:
            setattr(params, name, convert(name, fields[name]))
    if fields.get("keyterms_prompt") is not None and not isinstance(fields["keyterms_prompt"], str):
        params.keyterms = to_keyterms("keyterms_prompt", fields["keyterms_prompt"])


_UPDATERS = {
    "format_turns": to_bool,
    "end_of_turn_confidence_threshold": lambda n, v: to_float(n, v, 0.0, 1.0),
    "min_turn_silence": lambda n, v: to_int(n, v, lo=0),
    "max_turn_silence": lambda n, v: to_int(n, v, lo=0),
    "vad_threshold": lambda n, v: to_float(n, v, 0.0, 1.0),
}
