"""The session's query parameters for the chosen model, and warnings for settings it ignores.

The two model families take different settings (addendum section 2): Universal-Streaming has
format_turns and the end-of-turn confidence threshold, the Pro family has mode, prompt and
language_codes and takes its turn silences from the mode. Each family is sent only its own
settings; a setting the user changed for the other family earns one warning.
"""

from __future__ import annotations

from tui.config import KEYS, Settings
from tui.core.stream import protocol as p

UNIVERSAL_ONLY = ("service.format_turns", "service.end_of_turn_confidence_threshold")
PRO_ONLY = ("service.mode", "service.prompt", "service.language_codes")
# Pro takes these from its mode preset: sent only when the user changed them.
PRO_FROM_MODE = ("service.min_turn_silence", "service.max_turn_silence")


def _changed(settings: Settings, dotted: str) -> bool:
    return settings[dotted] != KEYS[dotted].default


def connection_params(settings: Settings) -> dict:
    model = settings["service.speech_model"]
    pro = p.is_pro_model(model)
    params: dict = {"sample_rate": settings["audio.sample_rate"], "encoding": "pcm_s16le",
                    "speech_model": model}
    if pro:
        params["mode"] = settings["service.mode"] or None
        params["prompt"] = settings["service.prompt"] or None
        params["language_codes"] = list(settings["service.language_codes"]) or None
        for dotted in PRO_FROM_MODE:
            if _changed(settings, dotted):
                params[dotted.split(".")[1]] = settings[dotted]
    else:
        params["format_turns"] = settings["service.format_turns"]
        params["end_of_turn_confidence_threshold"] = settings["service.end_of_turn_confidence_threshold"]
        params["min_turn_silence"] = settings["service.min_turn_silence"]
        params["max_turn_silence"] = settings["service.max_turn_silence"]
    if settings["service.keyterms"]:
        params["keyterms_prompt"] = list(settings["service.keyterms"])
    if settings["service.language_detection"]:
        params["language_detection"] = True
    if settings["service.speaker_labels"]:
        params["speaker_labels"] = True
        params["max_speakers"] = settings["service.max_speakers"] or None
    if settings["service.session_heartbeat"]:
        params["session_heartbeat"] = True
    return {k: v for k, v in params.items() if v is not None}


def ignored_settings(settings: Settings) -> list[str]:
    """One warning per changed setting that the chosen model's family does not take."""
    model = settings["service.speech_model"]
    pro = p.is_pro_model(model)
    others = UNIVERSAL_ONLY if pro else PRO_ONLY
    family = "the Pro family" if pro else "Universal-Streaming"
    out = [f"{dotted} is not sent: {model} is {family}, which ignores it"
           for dotted in others if _changed(settings, dotted)]
    if settings["service.max_speakers"] and not settings["service.speaker_labels"]:
        out.append("service.max_speakers is not sent: it needs speaker_labels (--speakers)")
    return out


def max_turn_silence(settings: Settings) -> int:
    """The longest silence that still belongs to a turn, as the chosen model applies it."""
    if p.is_pro_model(settings["service.speech_model"]) and not _changed(settings, "service.max_turn_silence"):
        return p.MODE_SILENCE[settings["service.mode"] or "balanced"][1]
    return settings["service.max_turn_silence"]
