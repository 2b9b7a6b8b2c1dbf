"""A session run with its captions shared, when --share asks for it."""

from __future__ import annotations


async def run_shared(session) -> int:
    """session.run(); with session.options.share set, also the page and event stream meanwhile.

    aiohttp is imported only then: it takes longer to import than the microphone takes to
    deliver its first frame (bench/RESULTS.md, launch -> first audio frame).
    """
    spec = getattr(session.options, "share", None)
    if spec is None:
        return await session.run()
    from tui.share.server import serve_while

    return await serve_while(session, spec)
