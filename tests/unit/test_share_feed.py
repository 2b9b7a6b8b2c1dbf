"""The shared feed's messages, its viewers' queues, the --share checks and the large text."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from apphelpers import live_words, turn

from tui.core.stream import events as ev
from tui.screens.watch import turn_from
from tui.share.address import ShareError, is_loopback, parse_address, resolve_token
from tui.share.client import WatchError, events_url
from tui.share.feed import CaptionFeed
from tui.widgets import bigtext


def decoded(data: bytes | None) -> dict:
    assert data is not None and data.startswith(b"data: ") and data.endswith(b"\n\n")
    return json.loads(data[6:])


def drain(viewer) -> list[dict]:
    out = [decoded(b) for b in viewer.backlog]
    while not viewer.queue.empty():
        item = viewer.queue.get_nowait()
        out.append({"type": "<closed>"} if item is None else decoded(item))
    return out


async def test_finals_partials_and_a_late_viewer_gets_the_finals_so_far():
    feed = CaptionFeed()
    early = feed.join()
    feed(ev.StateChanged(ev.LIVE))
    feed(ev.PartialTurn(live_words(("hello", 0.9, False))))
    feed(ev.PartialTurn(live_words(("hello", 0.9, False))))  # the same words: not sent again
    feed(ev.TurnFinal(turn(0, "Hello there.", 100, speaker="A")))
    feed(ev.PartialTurn(live_words(("second", 0.9, False), ("one", 0.5, False))))
    late = feed.join()
    got = drain(early)
    assert [m["type"] for m in got] == ["state", "state", "partial", "final", "partial"]
    assert got[3] == {"type": "final", "turn": 0, "text": "Hello there.", "start_ms": 100,
                      "end_ms": got[3]["end_ms"], "time": got[3]["time"], "speaker": "A"}
    assert got[4] == {"type": "partial", "turn": 1, "text": "second one"}
    assert [(m["type"], m.get("text")) for m in drain(late)] == [
        ("state", None), ("final", "Hello there."), ("partial", "second one")]


async def test_a_final_again_is_a_revision_and_a_revision_event_amends_the_history():
    @dataclass
    class SpeakerRevision:  # the shape another branch may add: a turn id and what changed
        index: int
        speaker: str

    feed = CaptionFeed()
    viewer = feed.join()
    feed(ev.TurnFinal(turn(0, "First.", 0)))
    feed(ev.TurnFinal(turn(0, "First, corrected.", 0)))
    feed(SpeakerRevision(0, "Ann"))
    got = drain(viewer)[1:]
    assert [(m["type"], m.get("text"), m.get("speaker")) for m in got] == [
        ("final", "First.", None), ("revision", "First, corrected.", None), ("revision", None, "Ann")]
    replay = drain(feed.join())[1]
    assert (replay["type"], replay["text"], replay["speaker"]) == ("final", "First, corrected.", "Ann")


async def test_a_viewer_that_lags_is_dropped_not_waited_for():
    feed = CaptionFeed(queue_size=4)
    slow, quick = feed.join(), feed.join()
    for i in range(6):
        feed(ev.TurnFinal(turn(i, f"Turn {i}.", i * 1000)))
        while not quick.queue.empty():
            quick.queue.get_nowait()
    assert slow.dropped and slow not in feed.viewers and feed.dropped == 1
    assert slow.queue.get_nowait() is None  # its writer wakes up and ends the stream
    assert quick in feed.viewers and not quick.dropped


async def test_the_end_reaches_viewers_after_what_they_had_queued():
    feed = CaptionFeed()
    viewer = feed.join()
    feed(ev.TurnFinal(turn(0, "Last words.", 0)))
    feed(ev.Finished(0))
    assert [m["type"] for m in drain(viewer)] == ["state", "final", "end", "<closed>"]
    assert [m["type"] for m in drain(feed.join())] == ["state", "final", "end", "<closed>"]


@pytest.mark.parametrize("value,host,port", [("127.0.0.1:8080", "127.0.0.1", 8080),
                                             ("[::1]:0", "::1", 0), ("localhost:9", "localhost", 9)])
def test_share_addresses(value, host, port):
    assert parse_address(value) == (host, port)
    assert is_loopback(host)


@pytest.mark.parametrize("value", ["8080", "host:", ":80", "h:99999", "h:x"])
def test_bad_share_addresses_name_the_flag(value):
    with pytest.raises(ShareError, match=r"^--share .*HOST:PORT"):
        parse_address(value)


def test_off_loopback_a_token_is_required():
    with pytest.raises(ShareError, match=r"^--share 0\.0\.0\.0:80: a non-loopback address needs --share-token"):
        resolve_token("0.0.0.0", None, "0.0.0.0:80")
    assert not is_loopback("example.org") and not is_loopback("192.168.1.4")
    assert resolve_token("127.0.0.1", None, "") == ""
    assert resolve_token("0.0.0.0", "s3cret-token", "") == "s3cret-token"
    made = resolve_token("0.0.0.0", "auto", "")
    assert len(made) >= 16 and made != resolve_token("0.0.0.0", "auto", "")
    with pytest.raises(ShareError, match="--share-token: use at least 8"):
        resolve_token("0.0.0.0", "short", "")


def test_watch_urls():
    assert events_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/events"
    assert events_url("127.0.0.1:8080/?token=abc") == "http://127.0.0.1:8080/events?token=abc"
    assert events_url("http://h:1/events?token=x") == "http://h:1/events?token=x"
    with pytest.raises(WatchError):
        events_url("ftp://h/")


def test_a_revision_keeps_what_it_does_not_change():
    first = turn_from({"type": "final", "turn": 3, "text": "Hi.", "start_ms": 10, "end_ms": 900, "time": 5.0})
    again = turn_from({"type": "revision", "turn": 3, "speaker": "B"}, first)
    assert (again.index, again.text, again.start_ms, again.end_ms, again.speaker) == (3, "Hi.", 10, 900, "B")


@pytest.mark.parametrize("width", [80, 120, 200, 320])
def test_large_text_fits_the_width_and_wraps_at_words(width):
    size = bigtext.pick_size(width)
    assert size is not None
    text = "Ask not what your country can do for you, ask what you can do for your country, my friends"
    rows = bigtext.render(text, width, size)
    h = bigtext.height(size)
    assert len(rows) % h == 0 and len(rows) // h >= 2
    assert all(len(r) <= width for r in rows)
    assert width / bigtext.char_width(size) >= bigtext.MIN_CHARS
    # Each line of block letters is the words of that line, drawn one by one.
    first_line = rows[:h]
    words = text.split()
    drawn = bigtext.glyphs(words[0], size)
    assert all(row.startswith(glyph) for row, glyph in zip(first_line, drawn))


def test_larger_terminals_get_larger_letters_and_narrow_ones_plain_text():
    heights = [bigtext.height(bigtext.pick_size(w)) for w in (80, 200, 320, 480)]
    assert heights == sorted(heights) and heights[0] < heights[-1]
    assert bigtext.pick_size(30) is None
    assert bigtext.plain_ascii("Olá, café – 5€") == "Ola, cafe ? 5?"
