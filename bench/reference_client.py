"""A minimal streaming client, as in AssemblyAI's streaming tutorial: the CPU reference.

A thread reads the audio file in real time (50 ms blocks, paced by the wall clock) and sends
each block on a websocket (the `websockets` sync client); the main thread prints partials
on one line (`\\r`) and each formatted final on its own line. Terminate at the end of the
file, exit after Termination. No screen, no journal, no reconnects.

    python bench/reference_client.py --url ws://127.0.0.1:8765/v3/ws --input speech.wav
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from urllib.parse import urlencode

import soundfile as sf
from websockets.sync.client import connect

CHUNK_MS = 50


def stream_file(ws, path: str) -> None:
    with sf.SoundFile(path) as f:
        block = f.samplerate * CHUNK_MS // 1000
        start, n = time.monotonic(), 0
        for data in f.blocks(blocksize=block, dtype="int16"):
            n += 1
            delay = start + n * CHUNK_MS / 1000 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            ws.send(data.tobytes())
    ws.send(json.dumps({"type": "Terminate"}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--input", required=True, help="a 16 kHz mono WAV file")
    args = ap.parse_args()
    params = urlencode({"sample_rate": 16000, "encoding": "pcm_s16le", "format_turns": "true"})
    with connect(f"{args.url}?{params}") as ws:
        threading.Thread(target=stream_file, args=(ws, args.input), daemon=True).start()
        for message in ws:
            data = json.loads(message)
            if data.get("type") == "Turn":
                if data["end_of_turn"] and data["turn_is_formatted"]:
                    print("\r" + data["transcript"], flush=True)
                elif not data["end_of_turn"]:
                    print("\r" + data["transcript"], end="", flush=True)
            elif data.get("type") == "Termination":
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
