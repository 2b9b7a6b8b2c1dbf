"""The sound server's outputs (PulseAudio, or PipeWire's pulse server) through pulsectl.

Every output (sink) has a monitor source that carries what it plays: "the system audio".
list_outputs() names them, find_output() picks one, OutputWatcher reports every change of
the outputs or of the default one, from its own thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from tui.core.audio.source import AudioError

NO_SERVER = (
    "system audio needs a PulseAudio or PipeWire sound server (with pipewire-pulse) that "
    "answers this process (check PULSE_SERVER / `pactl info`)"
)


@dataclass(frozen=True, slots=True)
class Output:
    name: str  # the sink's name, e.g. alsa_output.pci-0000_00_1f.3.analog-stereo
    description: str  # the friendly name, e.g. "Built-in Audio Analog Stereo"
    monitor: str  # the source that carries what it plays
    is_default: bool


def _pulse(name: str):
    try:
        import pulsectl

        return pulsectl.Pulse(name, connect=True)
    except Exception:  # libpulse missing, or no server: the same advice either way
        raise AudioError(NO_SERVER) from None


def _outputs(pulse) -> list[Output]:
    default = pulse.server_info().default_sink_name
    return [Output(s.name, s.description or s.name, s.monitor_source_name, s.name == default)
            for s in pulse.sink_list()]


def list_outputs() -> list[Output]:
    """Every output with its monitor; AudioError when no sound server answers."""
    pulse = _pulse("captioner")
    try:
        return _outputs(pulse)
    except Exception:
        raise AudioError(NO_SERVER) from None
    finally:
        pulse.close()


def find_output(spec: str | None, outputs: list[Output]) -> Output | None:
    """The default output (spec None), else the one whose name or description is spec
    (case-insensitive), else the only one that contains it. None when nothing (or more
    than one) matches."""
    if spec is None:
        return next((o for o in outputs if o.is_default), None)
    want = spec.strip().lower()
    exact = [o for o in outputs if want in (o.name.lower(), o.description.lower())]
    found = exact or [o for o in outputs if want in o.name.lower() or want in o.description.lower()]
    return found[0] if len(found) == 1 else None


def select_output(spec: str | None) -> Output:
    """find_output on the server's outputs, or AudioError naming the outputs there are."""
    outputs = list_outputs()
    found = find_output(spec, outputs)
    if found is not None:
        return found
    names = ", ".join(repr(o.description) for o in outputs) or "none"
    what = "no default output" if spec is None else f"no single output matches '{spec}'"
    raise AudioError(f"system audio: {what}; outputs: {names}. List them with `captioner devices`")


def format_output_table(outputs: list[Output]) -> str:
    """The outputs part of `captioner devices`; '*' marks the default."""
    if not outputs:
        return "No outputs (system audio) found."
    width = max(len("output"), *(len(o.description) for o in outputs))
    lines = [f"   {'output':<{width}}  sink name"]
    lines += [f"{'*' if o.is_default else ' '}  {o.description:<{width}}  {o.name}" for o in outputs]
    lines.append("* = default output. Caption it with --system-audio (beside the microphone) "
                 "or --input system; another with --system-audio NAME.")
    return "\n".join(lines)


class OutputWatcher:
    """Calls on_change(outputs) from its own thread whenever an output comes, goes or the
    default output changes (the server's sink and server events); stop() ends it."""

    def __init__(self, on_change: Callable[[list[Output]], None]) -> None:
        self.on_change = on_change
        self._stop = threading.Event()
        self._pulse = _pulse("captioner-watch")
        self._thread = threading.Thread(target=self._run, name="output-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        import pulsectl

        pulse, changed = self._pulse, [False]

        def on_event(event) -> None:
            changed[0] = True
            raise pulsectl.PulseLoopStop

        try:
            pulse.event_mask_set("sink", "server")
            pulse.event_callback_set(on_event)
            while not self._stop.is_set():
                pulse.event_listen(timeout=0.25)
                if changed[0] and not self._stop.is_set():
                    changed[0] = False
                    self.on_change(_outputs(pulse))
        except Exception:  # the server went away: the capture stream reports that itself
            pass
        finally:
            pulse.close()
