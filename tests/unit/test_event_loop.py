"""The app, headless runs and `captioner serve` run their loop through tui.core.event_loop."""

import asyncio
import sys

from tui.core import event_loop


async def _loop_class() -> type:
    await asyncio.sleep(0.001)  # a timer, through the loop's own machinery
    return type(asyncio.get_running_loop())


def test_the_loop_is_uvloop_where_it_is_installed():
    import uvloop

    assert event_loop.run(_loop_class()) is uvloop.Loop


def test_without_uvloop_asyncio_runs_the_same_code(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    cls = event_loop.run(_loop_class())
    assert issubclass(cls, asyncio.BaseEventLoop) and "uvloop" not in cls.__module__
