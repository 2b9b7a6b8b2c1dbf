"""Run a coroutine on uvloop where it is installed (Linux, macOS), else on asyncio's own loop.

uvloop does the loop's own work in C: the ready queue, timers, epoll, socket writes and the
wake-up from other threads. On the microphone path the loop wakes, hops tasks and writes to a
socket for every 50 ms frame: uvloop took a fifth off `--plain`'s main thread (bench/RESULTS.md,
issue 16). Nothing else changes: both loops run the same asyncio code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main), on uvloop when it can be imported."""
    try:
        import uvloop
    except ImportError:  # Windows, or not installed: asyncio's loop does the same, a little slower
        log.debug("event loop: asyncio's")
        return asyncio.run(main)
    log.debug("event loop: uvloop %s", uvloop.__version__)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
