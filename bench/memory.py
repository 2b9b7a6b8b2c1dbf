"""Peak memory (RSS high-water mark, VmHWM) of the full-screen app while captioning.

cloud:  `captioner --url ...` against a separately started `captioner serve --engine scripted`
        (the app as it runs with the cloud engine: no child process), on a real pty.
local:  `captioner` with the offline engine: the app, and its embedded server child
        (moonshine model) reported separately.
Both caption the speech file paced in real time for the same number of seconds.

    python bench/memory.py [--quick] [--seconds 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PY, PtyApp, ServeProcess, figure, header, isolated_env, speech_file  # noqa: E402


def hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(args: list[str], folder: Path, seconds: float) -> tuple[float, float | None]:
    app = PtyApp([PY, "-m", "tui", *args], isolated_env(folder), watch=("● live",))
    try:
        app.wait_seen("● live", 120)
        time.sleep(seconds)
        proc = psutil.Process(app.proc.pid)
        children = proc.children(recursive=True)
        out = hwm_mb(proc.pid), (hwm_mb(children[0].pid) if children else None)
        app.send(b"q")
        app.proc.wait(30)
        return out
    finally:
        app.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5 s each (CI)")
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    seconds = 5.0 if args.quick else args.seconds
    header("memory")
    folder = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    wav = speech_file(folder / "speech.wav", seconds + 30)
    config = folder / "empty.toml"
    config.write_text("")
    with ServeProcess(folder) as server:
        cloud, _ = run(["--url", server.url, "--input", str(wav), "--config", str(config)],
                       folder / "cloud", seconds)
        figure("app_peak_rss_cloud", cloud, "MB")
        figure("scripted_server_peak_rss", hwm_mb(server.proc.pid), "MB")
    app, child = run(["--input", str(wav), "--config", str(config)], folder / "local", seconds)
    figure("app_peak_rss_local", app, "MB")
    figure("local_server_peak_rss", child if child is not None else float("nan"), "MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
