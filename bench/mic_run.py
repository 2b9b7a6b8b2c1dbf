"""A live microphone session end to end: capture-to-send delay and input overflows.

Starts a private PulseAudio virtual microphone (tests/vmic.py), plays the speech fixtures into
it in a loop, and runs a real CaptionSession on the default microphone through the real
streaming client to the offline engine (engine local: the `captioner serve` child process),
or to a scripted `captioner serve` with --engine scripted.

delay = when the websocket send of an audio frame returned - frame.due (when the frame's
last sample was captured: MicSource takes it from PortAudio's stamps of the block holding it,
inputBufferAdcTime, not from when the callback ran, so time the block spent in the sound
server's and PortAudio's buffers counts). Measured from outside the client: the script wraps
the websocket connection's send() and remembers each frame's due time as the client queues
it, so nothing in tui/ is changed. It runs on the event loop the app runs (tui/core/event_loop.py).
Prints `name: value unit` lines.

    python bench/mic_run.py [--seconds 120] [--quick] [--engine local|scripted]
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import psutil
import soundfile as sf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from vmic import play_until, start_vmic  # noqa: E402

from tui.core import event_loop  # noqa: E402


def speech_loop(folder: str) -> str:
    """The speech fixtures back to back, each followed by a second of silence."""
    parts = []
    for path in sorted(glob.glob(f"{ROOT}/tests/data/*.wav")):
        parts += [sf.read(path, dtype="int16")[0], np.zeros(16000, "int16")]
    out = os.path.join(folder, "speech.wav")
    sf.write(out, np.concatenate(parts), 16000, subtype="PCM_16")
    return out


class SendTimer:
    """Frame.due -> websocket send, by wrapping the client's queue and the socket's send()."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.handed: list[float] = []  # frame.due -> the capture thread handing it to the loop
        self.client: list[float] = []  # that hand-over -> the send: the client's own part
        self._due: dict[int, tuple[bytes, float]] = {}
        self._pushed: dict[float, float] = {}  # due -> when the capture thread handed it over

    def install(self) -> None:
        from websockets.asyncio.client import ClientConnection

        from tui.core.audio.source import ThreadFedSource
        from tui.core.stream.client import StreamingClient

        timer, add_frame, send = self, StreamingClient._add_frame, ClientConnection.send
        push = ThreadFedSource._push

        def _push(source, item):
            if isinstance(item, tuple):  # (block, due) at the service's rate: due is the frame's
                timer._pushed[item[1]] = time.monotonic()
            push(source, item)

        def _add_frame(client, frame):
            timer._due[id(frame.pcm)] = (frame.pcm, frame.due)  # keep pcm: its id stays unique
            add_frame(client, frame)

        async def _send(ws, message, *args, **kwargs):
            await send(ws, message, *args, **kwargs)
            if isinstance(message, bytes) and (entry := timer._due.pop(id(message), None)):
                sent = time.monotonic()
                timer.delays.append(sent - entry[1])
                if (handed := timer._pushed.pop(entry[1], None)) is not None:
                    timer.handed.append(handed - entry[1])
                    timer.client.append(sent - handed)

        ThreadFedSource._push = _push
        StreamingClient._add_frame = _add_frame
        ClientConnection.send = _send


def settings(folder: str, engine: str, url: str | None):
    from tui.config import load_settings

    from pathlib import Path

    config = Path(folder) / "empty.toml"
    config.write_text("")
    overrides = {"service.engine": "local"} if engine == "local" else {"service.url": url}
    return load_settings(config, env={}, overrides=overrides)


async def run(seconds: float, engine: str, url: str | None, folder: str):
    from tui.core.stream import events as ev
    from tui.captioning import CaptionSession, RunOptions

    timer = SendTimer()
    timer.install()
    finals: list[float | None] = []

    def on_event(event) -> None:
        if isinstance(event, ev.TurnFinal):
            finals.append(event.latency_ms)
        elif isinstance(event, ev.Notice) and event.level == "error":
            print(f"error: {event.text}", file=sys.stderr)

    session = CaptionSession(settings(folder, engine, url), on_event,
                             RunOptions(input="default", journal_dir=os.path.join(folder, "journal")))
    loop = asyncio.get_running_loop()
    loop.call_later(seconds, session.stop)
    started = time.monotonic()
    code = await session.run()
    return code, timer, session, finals, time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="length of the session (default 120)")
    ap.add_argument("--quick", action="store_true", help="a 10 s session")
    ap.add_argument("--engine", choices=("local", "scripted"), default="local",
                    help="offline engine child (default) or a scripted `captioner serve`")
    args = ap.parse_args()
    seconds = 10.0 if args.quick else args.seconds
    folder = tempfile.mkdtemp(prefix="micrun")
    mic = start_vmic(folder)
    os.environ.update(mic.env)  # before PortAudio is first loaded in this process
    server = None
    stop = threading.Event()
    player = threading.Thread(target=play_until, args=(mic, speech_loop(folder), stop), daemon=True)
    try:
        url = None
        if args.engine == "scripted":
            server = subprocess.Popen([sys.executable, "-m", "tui", "serve", "--port", "0", "--engine",
                                       "scripted", "--repeat", "--exit-on-stdin-eof"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True)
            url = server.stdout.readline().split()[-1]
        player.start()
        cpu0 = psutil.Process().cpu_times()
        code, timer, session, finals, wall = event_loop.run(run(seconds, args.engine, url, folder))
        cpu1 = psutil.Process().cpu_times()
    finally:
        stop.set()
        player.join(5)
        if server:
            server.stdin.close()
            server.wait(10)
        mic.stop()
    ms, handed, client = ([d * 1000 for d in x] for x in (timer.delays, timer.handed, timer.client))
    latencies = [x for x in finals if x is not None]
    status = session.status()
    print(f"engine: {args.engine}")
    print(f"exit_code: {code}")
    print(f"session: {wall:.1f} s")
    print(f"frames_sent: {len(ms)} frames")
    print(f"audio_sent: {len(ms) * session.settings['audio.chunk_ms'] / 1000:.1f} s")
    print(f"capture_to_send_p50: {percentile(ms, 50):.1f} ms")
    print(f"capture_to_send_p95: {percentile(ms, 95):.1f} ms")
    print(f"capture_to_send_max: {max(ms, default=float('nan')):.1f} ms")
    print(f"capture_to_handover_p95: {percentile(handed, 95):.1f} ms")  # PulseAudio + PortAudio
    print(f"handover_to_send_p95: {percentile(client, 95):.1f} ms")  # the client's own part
    print(f"input_overflows: {status.overflows} count")
    print(f"frames_dropped: {status.dropped} count")
    print(f"device_rate: {status.device_rate} Hz")
    print(f"turns: {len(finals)} count")
    print(f"final_latency_p50: {percentile(latencies, 50):.0f} ms")
    print(f"client_cpu: {100 * (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / wall:.1f} %")
    return 0 if code == 0 and ms else 1


if __name__ == "__main__":
    raise SystemExit(main())
