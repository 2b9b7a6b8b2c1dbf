"""Input devices through PortAudio: list them, print them, pick one by index or name.

sounddevice is imported lazily, so the rest of the app works where PortAudio is missing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from dataclasses import dataclass
from types import ModuleType

from tui.core.audio.source import ALTERNATIVES, AudioError

NO_PORTAUDIO = (
    "PortAudio library not found: install it (Debian/Ubuntu: sudo apt install libportaudio2; "
    f"macOS: brew install portaudio), or {ALTERNATIVES}"
)
NO_DEVICES = (
    "no audio input device found: connect a microphone, check that PulseAudio/PipeWire is "
    f"running (and PULSE_SERVER reaches this process), or {ALTERNATIVES}"
)


def sounddevice() -> ModuleType:
    """The sounddevice module, or AudioError telling how to install PortAudio."""
    _quiet_alsa()
    try:
        import sounddevice as sd
    except OSError:
        raise AudioError(NO_PORTAUDIO) from None
    return sd


_alsa_handler = None  # kept referenced: ALSA calls it for as long as the process lives


def _quiet_alsa() -> None:
    """Stop libasound printing "ALSA lib ..." probe errors onto the full-screen UI."""
    global _alsa_handler
    if _alsa_handler is not None or not sys.platform.startswith("linux"):
        return
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("asound") or "libasound.so.2")
    except OSError:
        _alsa_handler = False
        return
    # void handler(const char *file, int line, const char *func, int err, const char *fmt, ...)
    proto = ctypes.CFUNCTYPE(
        None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
    )
    _alsa_handler = proto(lambda *args: None)
    lib.snd_lib_error_set_handler(_alsa_handler)


def rescan() -> None:
    """Make PortAudio list devices afresh (it reads them once, at initialisation).

    Only call it when no stream is open.
    """
    sd = sounddevice()
    sd._terminate()  # sounddevice documents these two for re-scanning devices
    sd._initialize()


@dataclass(slots=True, frozen=True)
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    channels: int  # maximum input channels
    default_rate: int
    is_default: bool
    sound_server: bool = False  # PulseAudio/PipeWire's: it resamples, and well


SERVER_PCMS = ("pulse", "pipewire")  # ALSA's PCMs for PulseAudio and PipeWire


def _via_sound_server(name: str, hostapi: str, alsa_names: set[str]) -> bool:
    """Whether a device is a sound server's rather than raw hardware.

    PortAudio lists ALSA's "pulse"/"pipewire" PCM only when the server answers, and where one
    is installed ALSA's "default" is routed to that server. A PulseAudio host API (newer
    PortAudio builds) is the server's throughout. hw:/plughw: devices and "sysdefault" are not.
    """
    if hostapi == "PulseAudio":
        return True
    if hostapi != "ALSA":
        return False
    return name in SERVER_PCMS or (name == "default" and bool(alsa_names & set(SERVER_PCMS)))


def _default_input(sd: ModuleType) -> int:
    try:
        index = sd.default.device[0]
        if index is None or index < 0:
            index = sd.query_hostapis(0)["default_input_device"]
    except Exception:  # PortAudio without host APIs
        return -1
    return -1 if index is None else int(index)


def list_input_devices() -> list[DeviceInfo]:
    """Every device with input channels; AudioError if PortAudio is missing."""
    sd = sounddevice()
    default = _default_input(sd)
    apis = [api["name"] for api in sd.query_hostapis()]
    found = [
        (i, d, apis[d["hostapi"]] if d["hostapi"] < len(apis) else "?")
        for i, d in enumerate(sd.query_devices())
        if d["max_input_channels"] > 0
    ]
    alsa_names = {d["name"] for _, d, api in found if api == "ALSA"}
    return [
        DeviceInfo(
            index=i,
            name=d["name"],
            hostapi=api,
            channels=d["max_input_channels"],
            default_rate=int(d["default_samplerate"]),
            is_default=i == default,
            sound_server=_via_sound_server(d["name"], api, alsa_names),
        )
        for i, d, api in found
    ]


def format_device_table(devices: list[DeviceInfo]) -> str:
    """The `captioner devices` listing; '*' marks the default input."""
    if not devices:
        return NO_DEVICES[0].upper() + NO_DEVICES[1:] + "."
    width = max(len("name"), *(len(d.name) for d in devices))
    api_w = max(len("host API"), *(len(d.hostapi) for d in devices))
    lines = [f"    #  {'name':<{width}}  {'host API':<{api_w}}  ch   rate"]
    for d in devices:
        mark = "*" if d.is_default else " "
        lines.append(
            f"{mark} {d.index:>3}  {d.name:<{width}}  {d.hostapi:<{api_w}}  "
            f"{d.channels:>2}  {d.default_rate:>5}"
        )
    lines.append("* = default input. Pick another with --input INDEX or --input NAME.")
    return "\n".join(lines)


def select_device(spec: str | int | None) -> DeviceInfo:
    """The device for an index, a case-insensitive name (exact, else substring), or None."""
    devices = list_input_devices()
    if not devices and spec is None:
        raise AudioError(NO_DEVICES)
    if spec is None:
        return _the_default(devices)
    text = str(spec).strip()
    if not devices:
        raise AudioError(f"no input device '{text}': PortAudio lists no input devices. "
                         f"Check with `captioner devices`, or {ALTERNATIVES}")
    if text.isdigit():
        for d in devices:
            if d.index == int(text):
                return d
        raise AudioError(f"no input device #{text}; inputs: {_names(devices)}. {_HINT}")
    want = text.lower()
    exact = [d for d in devices if d.name.lower() == want]
    found = exact or [d for d in devices if want in d.name.lower()]
    if len(found) == 1:
        return found[0]
    if found:
        raise AudioError(f"input device '{text}' is ambiguous: {_names(found)}. {_HINT}")
    raise AudioError(f"no input device matches '{text}'; inputs: {_names(devices)}. {_HINT}")


_HINT = f"Run `captioner devices` to list them, or {ALTERNATIVES}"


def _names(devices: list[DeviceInfo]) -> str:
    return ", ".join(f"#{d.index} {d.name!r}" for d in devices)


def _the_default(devices: list[DeviceInfo]) -> DeviceInfo:
    for d in devices:
        if d.is_default:
            return d
    raise AudioError(
        f"no default input device; inputs: {_names(devices)}. Pick one with --input INDEX; "
        f"{_HINT[0].lower() + _HINT[1:]}"
    )
