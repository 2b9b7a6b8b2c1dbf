"""`captioner serve` that also prints when each connection's first audio frame arrives.

For the launch benchmark (bench/cpu_mic.py): after the usual `listening on URL` line, one
line per connection, `first_audio PORT MONOTONIC`, PORT being the client's own TCP port and
MONOTONIC the system's CLOCK_MONOTONIC (time.monotonic(), the same in every process).

    python bench/first_audio_server.py --port 0 --engine scripted --script S.json --repeat
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.server import connection  # noqa: E402
from tui.server.command import serve_main  # noqa: E402

_on_audio = connection.Session._on_audio


async def _logged(self, data: bytes) -> bool:
    if not self._audio_ms:
        print(f"first_audio {self.ws.remote_address[1]} {time.monotonic():.6f}", flush=True)
    return await _on_audio(self, data)


connection.Session._on_audio = _logged

if __name__ == "__main__":
    raise SystemExit(serve_main(sys.argv[1:]))
