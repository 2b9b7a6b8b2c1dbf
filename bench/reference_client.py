"""A minimal streaming client, as in AssemblyAI's streaming tutorial: the CPU reference.

A thread reads audio in 50 ms blocks and sends each block on a websocket (the `websockets`
sync client); the main thread prints partials on one line (`\\r`) and each formatted final
on its own line. No screen, no journal, no reconnects.

  --input FILE  the file in real time (blocks paced by the wall clock); Terminate at its end
  --mic         the default microphone, as the tutorial does it with PyAudio: blocking reads of
                50 ms (800 samples at 16 kHz, int16) on a thread, PortAudio (sounddevice) at
                its default latency; runs until killed

    python bench/reference_client.py --url ws://127.0.0.1:8765/v3/ws --input speech.wav
    python bench/reference_client.py --url ws://127.0.0.1:8765/v3/ws --mic
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from urllib.parse import urlencode

from websockets.sync.client import connect

CHUNK_MS = 50


def stream_file(ws, path: str) -> None:
    import soundfile as sf

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


def stream_mic(ws) -> None:
    import sounddevice as sd

    block = 16000 * CHUNK_MS // 1000
    with sd.InputStream(samplerate=16000, channels=1, dtype="int16", blocksize=block) as stream:
        while True:
            data, _overflowed = stream.read(block)
            ws.send(data.tobytes())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", help="a 16 kHz mono WAV file")
    source.add_argument("--mic", action="store_true", help="the default microphone")
    args = ap.parse_args()
    params = urlencode({"sample_rate": 16000, "encoding": "pcm_s16le", "format_turns": "true"})
    with connect(f"{args.url}?{params}") as ws:
        reader = (stream_mic, (ws,)) if args.mic else (stream_file, (ws, args.input))
        threading.Thread(target=reader[0], args=reader[1], daemon=True).start()
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
