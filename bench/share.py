"""--share with 100 viewers: final → event latency, and the captioner's CPU with 100 viewers
vs none, in the same run.

`captioner serve --engine scripted` "hears" a lecture (about nine partials a second, a final
every 2.6 s). The real `captioner --plain --share 127.0.0.1:PORT` captions a speech file
paced in real time against it. The first window has no viewer, the second one viewer (the
reference for the latency), the third 100 Server-Sent Events viewers (aiohttp, all in this
process), each window the same length. Latency: a final's "time" (time.time() when the captioner made it final) to the
moment each viewer has read its event (same machine, same clock), for every final and every
viewer in the second window. CPU: user + system of the captioner process (psutil, all
threads) over each window.

    python bench/share.py [--quick] [--seconds 30] [--viewers 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PY, ServeProcess, figure, free_port, header, isolated_env, pct, speech_file  # noqa: E402


def cpu_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


class Viewers:
    """n SSE readers; each final's delay (receive time - its "time") while `measuring`."""

    def __init__(self, url: str, n: int) -> None:
        self.url, self.n = url, n
        self.delays: list[float] = []
        self.finals = [0] * n
        self.connected = 0
        self.measuring = False
        self.tasks: list[asyncio.Task] = []

    async def start(self, http: aiohttp.ClientSession) -> None:
        self.tasks = [asyncio.create_task(self._read(http, i)) for i in range(self.n)]
        while self.connected < self.n:
            await asyncio.sleep(0.05)

    async def _read(self, http: aiohttp.ClientSession, i: int) -> None:
        async with http.get(self.url) as response:
            self.connected += 1
            async for line in response.content:
                if not self.measuring or not line.startswith(b'data: {"type": "final"'):
                    continue  # partials: read, not parsed (the reader must not be the bottleneck)
                now = time.time()
                message = json.loads(line[6:])
                if message["type"] == "final":
                    self.delays.append((now - message["time"]) * 1000)
                    self.finals[i] += 1

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def measure(proc: psutil.Process, seconds: float) -> float:
    before, t0 = cpu_s(proc), time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu_s(proc) - before) / (time.monotonic() - t0) * 100


async def watched(http: aiohttp.ClientSession, url: str, n: int, proc: psutil.Process,
                  window: float, warmup: float) -> tuple[Viewers, float]:
    viewers = Viewers(url + "events", n)
    await viewers.start(http)
    await asyncio.sleep(warmup)  # the backlog sent to each newcomer is not what we measure
    viewers.measuring = True
    cpu = await measure(proc, window)
    viewers.measuring = False
    await viewers.stop()
    return viewers, cpu


async def run(url: str, proc: psutil.Process, window: float, warmup: float, n: int) -> None:
    await asyncio.sleep(warmup)
    idle = await measure(proc, window)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:
        one, one_cpu = await watched(http, url, 1, proc, window, warmup)
        many, busy = await watched(http, url, n, proc, window, warmup)
    figure("viewers", n)
    figure("finals_per_viewer_min", min(many.finals))
    figure("finals_per_viewer_max", max(many.finals))
    figure("final_to_event_p50", pct(many.delays, 50), "ms")
    figure("final_to_event_p95", pct(many.delays, 95), "ms")
    figure("final_to_event_max", max(many.delays, default=float("nan")), "ms")
    figure("one_viewer_final_to_event_p50", pct(one.delays, 50), "ms")
    figure("one_viewer_final_to_event_p95", pct(one.delays, 95), "ms")
    figure("cpu_no_viewer", idle, "%")
    figure("cpu_one_viewer", one_cpu, "%")
    figure(f"cpu_{n}_viewers", busy, "%")
    figure("cpu_ratio", busy / idle if idle else float("nan"), "x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 s windows (CI)")
    ap.add_argument("--seconds", type=float, default=30.0, help="each measured window (default 30)")
    ap.add_argument("--viewers", type=int, default=100)
    args = ap.parse_args()
    window = 10.0 if args.quick else args.seconds
    warmup = 4.0
    header("share")
    with tempfile.TemporaryDirectory() as tmp, ServeProcess(Path(tmp)) as server:
        folder = Path(tmp)
        wav = speech_file(folder / "speech.wav", 3 * (window + warmup) + 20)
        port = free_port()
        app = subprocess.Popen([PY, "-m", "tui", "--url", server.url, "--input", str(wav), "--plain",
                                "--share", f"127.0.0.1:{port}"], env=isolated_env(folder),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            line = app.stderr.readline()
            found = re.search(r"sharing the captions at (\S+)", line)
            if not found:
                raise RuntimeError(f"no share URL: {line!r}")
            asyncio.run(run(found.group(1), psutil.Process(app.pid), window, warmup, args.viewers))
        finally:
            app.terminate()
            app.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
