"""Capture-to-frame delay and overflows of real microphone capture from a virtual mic.

Starts a private PulseAudio virtual microphone (tests/vmic.py), plays the speech fixtures
into it in a loop, captures through MicSource and prints `name: value unit` lines.
delay = time the frame is handed out - frame.due (when its last sample was captured, by
PortAudio's stamp of its block: inputBufferAdcTime, not the callback's arrival).

    python bench/capture.py --seconds 20 [--device-rate 48000] [--external]
    python bench/capture.py --seconds 8 --runs 4 --server-block-ms 50   # the block-size trade
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
import threading
import time

import numpy as np
import soundfile as sf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from vmic import play_until, start_vmic  # noqa: E402

from tui.core import event_loop  # noqa: E402
from tui.core.audio import mic as mic_module  # noqa: E402
from tui.core.audio.inputs import open_source  # noqa: E402


def speech_loop(folder: str) -> str:
    """All fixtures back to back in one file, so one paplay call covers many seconds."""
    parts = [sf.read(p, dtype="int16")[0] for p in sorted(glob.glob(f"{ROOT}/tests/data/*.wav"))]
    path = os.path.join(folder, "speech.wav")
    sf.write(path, np.concatenate(parts), 16000, subtype="PCM_16")
    return path


async def capture(seconds: float, device_rate: int | None) -> tuple[list[float], object]:
    source = open_source(None, device_rate=device_rate)
    delays: list[float] = []
    async for frame in source.frames():
        delays.append(time.monotonic() - frame.due)
        if frame.t0_ms >= seconds * 1000:
            source.stop()
    return delays, source


def report(delays: list[float], source, cpu_s: float, seconds: float) -> None:
    ms = np.array(delays) * 1000
    print(f"device: {source.name} ({source.device_rate} Hz -> {source.rate} Hz)")
    print(f"frames: {len(ms)} count")
    print(f"captured: {len(ms) * source.chunk_ms / 1000:.2f} s")
    print(f"delay_p50: {np.percentile(ms, 50):.1f} ms")
    print(f"delay_p95: {np.percentile(ms, 95):.1f} ms")
    print(f"delay_max: {ms.max():.1f} ms")
    print(f"overflows: {source.overflows} count")
    print(f"cpu: {100 * cpu_s / seconds:.1f} %")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--device-rate", type=int, default=None)
    parser.add_argument("--external", action="store_true", help="use the current PULSE_SERVER")
    parser.add_argument("--quick", action="store_true", help="3 seconds, to check it still runs")
    parser.add_argument("--runs", type=int, default=1, help="streams opened one after another")
    parser.add_argument("--server-block-ms", type=float, help="a sound server's block (default: the app's)")
    parser.add_argument("--server-latency", type=float, help="PortAudio latency there, s (default: the app's)")
    args = parser.parse_args()
    if args.server_block_ms:
        mic_module.SERVER_BLOCK_MS = args.server_block_ms
    if args.server_latency:
        mic_module.SERVER_LATENCY_S = args.server_latency
    folder = tempfile.mkdtemp(prefix="capbench")
    mic = None if args.external else start_vmic(folder)
    stop = threading.Event()
    try:
        if mic:
            os.environ.update(mic.env)
            threading.Thread(
                target=play_until, args=(mic, speech_loop(folder), stop), daemon=True
            ).start()
        for _ in range(args.runs):
            wall, cpu = time.monotonic(), time.process_time()
            seconds = 3.0 if args.quick else args.seconds
            delays, source = event_loop.run(capture(seconds, args.device_rate))
            report(delays, source, time.process_time() - cpu, time.monotonic() - wall)
    finally:
        stop.set()
        if mic:
            mic.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
