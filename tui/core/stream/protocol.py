"""AssemblyAI Universal Streaming v3 messages, URLs and error texts.

Shared by the client and the local server, so both speak exactly one protocol.
The reference is shared/docs/assemblyai-v3-protocol.md (section numbers below), updated by
shared/docs/assemblyai-v3-protocol-2026.md (the "addendum": models, speakers, new messages).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

CLOUD_HOSTS = {
    "auto": "streaming.assemblyai.com",
    "us": "streaming.us.assemblyai.com",
    "eu": "streaming.eu.assemblyai.com",
}
WS_PATH = "/v3/ws"
TOKEN_PATH = "/v3/token"
DEFAULT_SPEECH_MODEL = "universal-streaming-english"
# Known ids and what each is for (addendum section 1). Any id of this shape is accepted: the
# service adds models every few months, and Begin.configuration.model says what it used.
KNOWN_MODELS = {
    "universal-streaming-english": "word-by-word partials, the cheapest; English (the default)",
    "universal-streaming-multilingual": "word-by-word partials; en, es, fr, de, it, pt; language detection",
    "universal-3-5-pro": "Pro family: revisable whole-turn partials, formatted finals; 19 languages",
    "universal-3-6-pro": "Pro family, the flagship since 2026-09: 32 languages, same settings as 3.5 Pro",
    "assemblyai-stt-3-7-realtime": "newest generation (Nov 2026), presumably Pro-style; unverified",
    "whisper-rt": "legacy (mid-2026): word-by-word, non-speech tags",
    "u3-rt-pro": "legacy (mid-2026) Pro-style model",
}
SPEECH_MODELS = tuple(KNOWN_MODELS)
MODEL_ID = re.compile(r"[A-Za-z0-9.-]{1,100}")
MODES = ("min_latency", "balanced", "max_accuracy")
# Pro-family mode presets: (min_turn_silence, max_turn_silence) in ms (addendum section 1).
MODE_SILENCE = {"min_latency": (128, 640), "balanced": (128, 1280), "max_accuracy": (512, 2560)}
UNATTRIBUTED = frozenset({"PENDING", "UNKNOWN"})  # speaker labels that mean "not known yet"


def is_model_id(model: object) -> bool:
    return isinstance(model, str) and MODEL_ID.fullmatch(model) is not None


def is_pro_model(model: str) -> bool:
    """The Pro family (whole-turn revisable partials, one formatted final): every current id
    that is not Universal-Streaming or legacy whisper-rt (u3-*, universal-3-*, assemblyai-stt-*)."""
    return not model.startswith(("universal-streaming", "whisper"))


def known_speaker(label: object) -> str | None:
    """The label if it names a speaker; None for no label, PENDING or UNKNOWN."""
    return label if isinstance(label, str) and label and label not in UNATTRIBUTED else None
MIN_CHUNK_MS = 50
MAX_CHUNK_MS = 1000
MAX_KEYTERMS = 100
MAX_KEYTERM_CHARS = 50
MAX_MESSAGE_BYTES = 1 << 20  # a server message larger than this is malformed
MAX_WIRE_INT = 1 << 53  # integers beyond this (ms, s, counts) are nonsense, not data
CLOSE_REASON_LONG = "See Error message for details"

# Close codes (section 5).
NORMAL = 1000
UNAUTHORIZED = 1008
SERVER_ERROR = 3005
BAD_INPUT = 3006
BAD_AUDIO = 3007
EXPIRED = 3008
TOO_MANY_SESSIONS = 3009

# What a person should do about each close code; the server's own text is shown too.
CLOSE_ADVICE = {
    1000: "session ended",
    1009: "a message to the service was larger than its 128 KB limit",
    1006: "connection lost without a close frame",
    1008: "not authorized: check ASSEMBLYAI_API_KEY (or too many new sessions; wait a minute)",
    1011: "the service hit an internal error",
    3005: "the service cancelled the session after an internal error",
    3006: "the service rejected a parameter or message",
    3007: "audio chunk size or sending rate out of range",
    3008: "session reached its maximum duration",
    3009: "too many concurrent sessions; wait a minute or close other sessions",
}
# Codes after which the same request will fail again: never retry these in a loop.
FATAL_CODES = frozenset({1008, 3006, 3009})


INACTIVITY_ADVICE = "the service closed the session after no audio for inactivity_timeout"


def describe_close(code: int | None, reason: str = "") -> str:
    """One line for a person: what the code means plus the server's reason."""
    if code is None:  # no close frame: the reason is the whole story (tui.core.stream.failures)
        return reason or "connection closed"
    advice = CLOSE_ADVICE.get(code, "closed by the server")
    if code == BAD_INPUT and "inactivity" in reason.lower():
        advice = INACTIVITY_ADVICE  # 3006 also covers the inactivity timeout (addendum 5)
    if reason and reason != CLOSE_REASON_LONG:
        return f"{advice} ({code}: {reason})"
    return f"{advice} ({code})" if code else advice


# --------------------------------------------------------------------- messages


@dataclass(slots=True)
class Word:
    start: int
    end: int
    text: str
    confidence: float
    word_is_final: bool
    speaker: str | None = None  # with speaker_labels, on final words only (addendum 3)

    def to_dict(self) -> dict[str, Any]:
        # Key order as on the wire (section 3.2).
        d: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "confidence": self.confidence,
            "word_is_final": self.word_is_final,
        }
        if self.speaker is not None:
            d["speaker"] = self.speaker
        return d


@dataclass(slots=True)
class Begin:
    id: str
    expires_at: int
    configuration: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": "Begin", "id": self.id, "expires_at": self.expires_at}
        if self.configuration:
            d["configuration"] = self.configuration
        return d


@dataclass(slots=True)
class Turn:
    turn_order: int
    end_of_turn: bool
    turn_is_formatted: bool
    transcript: str
    words: list[Word]
    end_of_turn_confidence: float = 0.0
    utterance: str = ""
    language_code: str | None = None
    language_confidence: float | None = None
    speaker_label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "turn_order": self.turn_order,
            "turn_is_formatted": self.turn_is_formatted,
            "end_of_turn": self.end_of_turn,
            "transcript": self.transcript,
            "end_of_turn_confidence": self.end_of_turn_confidence,
            "words": [w.to_dict() for w in self.words],
            "utterance": self.utterance,
        }
        for key in ("language_code", "language_confidence", "speaker_label"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        d["type"] = "Turn"  # last key, as live frames have it
        return d


@dataclass(slots=True)
class Termination:
    audio_duration_seconds: int
    session_duration_seconds: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "Termination",
            "audio_duration_seconds": self.audio_duration_seconds,
            "session_duration_seconds": self.session_duration_seconds,
        }


@dataclass(slots=True)
class ServerError:
    """An in-band Error frame, either {"type":"Error",...} or bare {"error": ...}."""

    error_code: int | None
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Error", "error_code": self.error_code, "error": self.error}


@dataclass(slots=True)
class SpeechStarted:
    timestamp: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"type": "SpeechStarted", "timestamp": self.timestamp, "confidence": self.confidence}


@dataclass(slots=True)
class Warning:  # noqa: A001 - the protocol's name
    warning_code: int
    warning: str


@dataclass(slots=True)
class Revision:
    """One item of a SpeakerRevision: the corrected speakers of one earlier turn."""

    turn_order: int
    speaker_label: str | None
    words: list[Word] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"turn_order": self.turn_order, "speaker_label": self.speaker_label,
                "words": [w.to_dict() for w in self.words]}


@dataclass(slots=True)
class SpeakerRevision:
    revisions: list[Revision]

    def to_dict(self) -> dict[str, Any]:
        return {"type": "SpeakerRevision", "revisions": [r.to_dict() for r in self.revisions]}


@dataclass(slots=True)
class Heartbeat:
    total_audio_received_ms: int
    total_duration_ms: int
    realtime_factor: float
    max_speech_probability: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Heartbeat", "total_audio_received_ms": self.total_audio_received_ms,
                "total_duration_ms": self.total_duration_ms, "realtime_factor": self.realtime_factor,
                "max_speech_probability": self.max_speech_probability}


@dataclass(slots=True)
class Other:
    """A well-formed message of a type we do not use (Silence, LLMGatewayResponse, new ones)."""

    type: str
    data: dict[str, Any]


@dataclass(slots=True)
class Malformed:
    """A frame that is not a valid server message; the reason says why."""

    reason: str


ServerMessage = (Begin | Turn | Termination | ServerError | SpeechStarted | Warning | SpeakerRevision
                 | Heartbeat | Other | Malformed)


def to_json(msg: Begin | Turn | Termination | ServerError | SpeechStarted | SpeakerRevision | Heartbeat) -> str:
    return json.dumps(msg.to_dict(), separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------- parsing


class _Bad(Exception):
    pass


def _int(d: dict, key: str, default: int | None = None) -> int:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
        raise _Bad(f"{key} is not a number")
    if not -MAX_WIRE_INT <= v <= MAX_WIRE_INT:
        raise _Bad(f"{key} is out of range")
    return int(v)


def _float(d: dict, key: str, default: float | None = None) -> float:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise _Bad(f"{key} is not a number")  # json.loads takes NaN and Infinity
    return float(v)


def _str(d: dict, key: str, default: str | None = None) -> str:
    v = d.get(key, default)
    if not isinstance(v, str):
        raise _Bad(f"{key} is not a string")
    return v


def _bool(d: dict, key: str, default: bool | None = None) -> bool:
    v = d.get(key, default)
    if not isinstance(v, bool):
        raise _Bad(f"{key} is not a boolean")
    return v


def _opt(d: dict, key: str, kind: type) -> Any:
    v = d.get(key)
    if v is None:
        return None
    if kind is float and isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v if isinstance(v, kind) and not isinstance(v, bool) else None


def _word(w: Any) -> Word:
    if not isinstance(w, dict):
        raise _Bad("word is not an object")
    return Word(
        start=_int(w, "start", 0),
        end=_int(w, "end", 0),
        text=_str(w, "text", ""),
        confidence=_float(w, "confidence", 1.0),
        word_is_final=_bool(w, "word_is_final", True),
        speaker=_opt(w, "speaker", str),
    )


def _turn(d: dict) -> Turn:
    words = d.get("words", [])
    if not isinstance(words, list):
        raise _Bad("words is not a list")
    return Turn(
        turn_order=_int(d, "turn_order"),
        end_of_turn=_bool(d, "end_of_turn", False),
        turn_is_formatted=_bool(d, "turn_is_formatted", False),
        transcript=_str(d, "transcript", ""),
        words=[_word(w) for w in words],
        end_of_turn_confidence=_float(d, "end_of_turn_confidence", 0.0),
        utterance=_str(d, "utterance", "") if d.get("utterance") is not None else "",
        language_code=_opt(d, "language_code", str),
        language_confidence=_opt(d, "language_confidence", float),
        speaker_label=_opt(d, "speaker_label", str),
    )


def _revision(d: dict) -> SpeakerRevision:
    items = d.get("revisions", [])
    if not isinstance(items, list):
        raise _Bad("revisions is not a list")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise _Bad("revision is not an object")
        words = item.get("words") or []
        if not isinstance(words, list):
            raise _Bad("words is not a list")
        out.append(Revision(_int(item, "turn_order"), _opt(item, "speaker_label", str),
                            [_word(w) for w in words]))
    return SpeakerRevision(out)


def _heartbeat(d: dict) -> Heartbeat:
    return Heartbeat(_int(d, "total_audio_received_ms", 0), _int(d, "total_duration_ms", 0),
                     _float(d, "realtime_factor", 0.0), _float(d, "max_speech_probability", 0.0))


def _error(d: dict) -> ServerError:
    code = d.get("error_code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    text = d.get("error")
    if not isinstance(text, str):
        try:
            text = json.dumps(text)
        except (ValueError, RecursionError):  # NaN is fine; a nest deeper than the stack is not
            text = "(unreadable error text)"
    return ServerError(code, text)


def _typed(d: dict) -> ServerMessage:
    kind = d.get("type")
    if kind == "Begin":
        conf = d.get("configuration")
        return Begin(_str(d, "id"), _int(d, "expires_at"), conf if isinstance(conf, dict) else {})
    if kind == "Turn":
        return _turn(d)
    if kind == "Termination":
        return Termination(
            _int(d, "audio_duration_seconds", 0), _int(d, "session_duration_seconds", 0)
        )
    if kind == "Error" or (kind is None and "error" in d):
        return _error(d)
    if kind == "SpeechStarted":
        return SpeechStarted(_int(d, "timestamp", 0), _float(d, "confidence", 0.0))
    if kind == "Warning":
        return Warning(_int(d, "warning_code", 0), _str(d, "warning", ""))
    if kind == "SpeakerRevision":
        return _revision(d)
    if kind == "Heartbeat":
        return _heartbeat(d)
    if isinstance(kind, str):
        return Other(kind, d)
    raise _Bad("no message type")


def parse_server_message(frame: str | bytes) -> ServerMessage:
    """Parse one frame from the server. Never raises: bad frames become Malformed."""
    if isinstance(frame, (bytes, bytearray, memoryview)):
        return Malformed("binary frame from server")
    if len(frame) > MAX_MESSAGE_BYTES:
        return Malformed(f"message of {len(frame)} bytes is too large")
    try:
        data = json.loads(frame)
    except (ValueError, RecursionError):
        return Malformed("invalid JSON")
    if not isinstance(data, dict):
        return Malformed("message is not a JSON object")
    try:
        return _typed(data)
    except (_Bad, OverflowError, ValueError, RecursionError) as exc:
        kind = data.get("type")
        return Malformed(f"{kind[:100] if isinstance(kind, str) else 'message'}: {exc}")


# -------------------------------------------------------------- client messages

TERMINATE = json.dumps({"type": "Terminate"})
FORCE_ENDPOINT = json.dumps({"type": "ForceEndpoint"})
KEEP_ALIVE = json.dumps({"type": "KeepAlive"})
UPDATABLE = (
    "end_of_turn_confidence_threshold",
    "min_turn_silence",
    "max_turn_silence",
    "vad_threshold",
    "format_turns",
    "keyterms_prompt",
    "filter_profanity",
)


def update_configuration(**fields: Any) -> str:
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"not updatable mid-session: {', '.join(sorted(unknown))}")
    body = {"type": "UpdateConfiguration"}
    body.update({k: v for k, v in fields.items() if v is not None})
    return json.dumps(body)


# ------------------------------------------------------------------------- URLs


def cloud_url(region: str = "auto") -> str:
    return f"wss://{CLOUD_HOSTS[region]}{WS_PATH}"


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(list(value) if isinstance(value, tuple) else value)
    return str(value)


def build_url(base: str, params: dict[str, Any]) -> str:
    """The session URL: base endpoint plus the query (section 1.3).

    None values are left out; booleans go as true/false; lists as one JSON array.
    """
    parts = urlsplit(base)
    path = parts.path or WS_PATH
    query = urlencode({k: _wire(v) for k, v in params.items() if v is not None})
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def token_url(ws_base: str, expires_in: int, max_session: int | None = None) -> str:
    """The GET /v3/token URL on the same host as the websocket endpoint."""
    parts = urlsplit(ws_base)
    scheme = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)
    q = {"expires_in_seconds": expires_in}
    if max_session is not None:
        q["max_session_duration_seconds"] = max_session
    return urlunsplit((scheme, parts.netloc, TOKEN_PATH, urlencode(q), ""))


def redact_url(url: str) -> str:
    """The URL with any token removed, for logs and the status bar."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]").lower()
    return host == "localhost" or host == "::1" or host.startswith("127.")


def bytes_per_ms(sample_rate: int, encoding: str = "pcm_s16le") -> float:
    width = 1 if encoding == "pcm_mulaw" else 2
    return sample_rate * width / 1000.0


def normalize_text(text: str) -> str:
    """The unformatted form of formatted text: lower case, no punctuation."""
    out = []
    for token in text.split():
        core = "".join(ch for ch in token if ch.isalnum() or ch in "'-").strip("'-")
        if core:
            out.append(core.lower())
    return " ".join(out)
