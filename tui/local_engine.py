"""Run `captioner serve` as a child process for the embedded offline engine.

The child reads nothing from stdin but exits when stdin closes, so it cannot outlive the app,
even when the app is killed. It gets no API key: its environment is scrubbed of it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import deque

from tui.config import API_KEY_ENV

LOAD_TIMEOUT_S = 180.0


class EmbeddedServerError(Exception):
    pass


class EmbeddedServer:
    def __init__(self, engine: str = "moonshine", threads: int = 1, extra_args: tuple[str, ...] = ()) -> None:
        self.engine = engine
        self.threads = threads
        self.extra_args = extra_args
        self.url = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr: deque[str] = deque(maxlen=20)
        self._reader: asyncio.Task | None = None

    async def start(self) -> str:
        env = {k: v for k, v in os.environ.items() if k != API_KEY_ENV}
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", "serve", "--host", "127.0.0.1", "--port", "0",
            "--engine", self.engine, "--threads", str(self.threads), "--exit-on-stdin-eof",
            *self.extra_args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, start_new_session=True,
        )
        self._reader = asyncio.create_task(self._keep_stderr())
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), LOAD_TIMEOUT_S)
        except asyncio.TimeoutError:
            await self.stop()
            raise EmbeddedServerError("the offline engine did not start within "
                                      f"{LOAD_TIMEOUT_S:.0f} s") from None
        text = line.decode(errors="replace").strip()
        if not text.startswith("listening on "):
            await self._proc.wait()
            await asyncio.gather(self._reader, return_exceptions=True)
            raise EmbeddedServerError("the offline engine failed to start: " + self.last_error())
        self.url = text.removeprefix("listening on ")
        return self.url

    async def _keep_stderr(self) -> None:
        assert self._proc and self._proc.stderr
        async for line in self._proc.stderr:
            self._stderr.append(line.decode(errors="replace").rstrip())

    def last_error(self) -> str:
        return self._stderr[-1] if self._stderr else "no output"

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            if proc.stdin:
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 2.0)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader:
            await asyncio.gather(self._reader, return_exceptions=True)
