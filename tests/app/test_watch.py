"""`captioner watch` in Pilot against the real share server on 127.0.0.1, and the caption
view it shares with the captioning screen: speakers, revisions, large text, the end."""

from __future__ import annotations

from dataclasses import dataclass

from apphelpers import live_words, settings_for, turn, wait_for

from tui.core.stream import events as ev
from tui.screens.captions import CaptionScreen
from tui.share.address import open_share
from tui.share.feed import CaptionFeed
from tui.share.server import ShareServer
from tui.watch import WatchApp
from tui.widgets import bigtext
from tui.widgets.caption_log import CaptionLog
from tui.widgets.live import LiveCaption
from tui.widgets.room import RoomCaptions


@dataclass
class SpeakerRevision:  # what another branch may emit: a turn id and its new speaker
    index: int
    speaker: str


def shown(log: CaptionLog) -> list[tuple[str | None, str]]:
    return [(e.speaker, e.text) for e in log.entries]


async def test_watch_follows_turns_revisions_and_the_end(tmp_path):
    feed = CaptionFeed()
    server = ShareServer(feed, open_share("127.0.0.1:0", "s3cret-token"))
    await server.start()
    try:
        feed(ev.StateChanged(ev.LIVE))
        feed(ev.TurnFinal(turn(0, "Said before the viewer came.", 0, speaker="Ann")))
        app = WatchApp(server.spec.url, settings_for(tmp_path, "ws://unused"))
        async with app.run_test(size=(100, 30)) as pilot:
            log = app.screen.query_one(CaptionLog)
            await wait_for(pilot, lambda: shown(log), what="the finals so far (the token let it in)")
            assert "s3cret-token" not in str(app.screen.query_one("#watch-status").render())
            assert shown(log) == [("Ann", "Said before the viewer came.")]
            feed(ev.PartialTurn(live_words(("still", 0.9, False), ("talking", 0.8, False))))
            live = app.screen.query_one(LiveCaption)
            await wait_for(pilot, lambda: live.plain() == "still talking", what="the live line")
            feed(ev.TurnFinal(turn(1, "Still talking here.", 2000)))
            feed(ev.TurnFinal(turn(1, "Still talking, here.", 2000)))  # amended by the service
            feed(SpeakerRevision(1, "Bob"))
            await wait_for(pilot, lambda: len(shown(log)) == 2 and shown(log)[1][0] == "Bob", what="the revision")
            assert shown(log) == [("Ann", "Said before the viewer came."), ("Bob", "Still talking, here.")]
            assert live.plain() == ""

            await pilot.press("v")
            room = await wait_for(pilot, lambda: isinstance(app.screen, CaptionScreen) and app.screen.room,
                                  what="the caption view")
            await wait_for(pilot, lambda: "Bob: Still talking, here." in room.plain(), what="captions with names")
            assert room.plain().splitlines()[-2:] == ["Ann: Said before the viewer came.",
                                                      "Bob: Still talking, here."]
            await pilot.press("l")
            size = bigtext.pick_size(98)
            block = bigtext.render("Still talking, here.", 98, size)
            await wait_for(pilot, lambda: room.plain().splitlines()[-len(block):] == [r.rstrip() for r in block],
                           what="block letters")
            assert room.plain().splitlines()[-len(block) - 1] == "Bob"  # the name above its words
            await pilot.press("v")
            await wait_for(pilot, lambda: not isinstance(app.screen, CaptionScreen), what="back")

            feed(ev.Finished(0))
            status = app.screen.query_one("#watch-status")
            await wait_for(pilot, lambda: "has ended" in str(status.render()), what="the end")
            assert "s3cret-token" not in str(status.render())
            await pilot.press("q")
    finally:
        await server.stop()


async def test_the_caption_view_fills_the_terminal_bottom_up(tmp_path):
    from textual.app import App

    blocks = []

    class One(App):
        def on_mount(self) -> None:
            self.push_screen(CaptionScreen(lambda n: tuple(blocks[-n:])))

    from tui.widgets.room import captions_of

    turns = [turn(i, f"Turn number {i} of many.", i * 1000) for i in range(40)]
    blocks.extend(captions_of(turns, "and the live"))
    async with One().run_test(size=(80, 24)) as pilot:
        room = pilot.app.screen.query_one(RoomCaptions)
        await wait_for(pilot, lambda: room.plain(), what="the captions")
        lines = room.plain().splitlines()
        assert len(lines) == 24  # full: every row is caption
        assert lines[-1] == "and the live" and lines[-2] == "Turn number 39 of many."


async def test_watch_reconnects_when_the_link_drops_and_shows_each_turn_once(tmp_path):
    feed = CaptionFeed()
    server = ShareServer(feed, open_share("127.0.0.1:0", None))
    port = server.spec.port
    await server.start()
    feed(ev.TurnFinal(turn(0, "Before the drop.", 0)))
    app = WatchApp(server.spec.url, settings_for(tmp_path, "ws://unused"))
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.screen.query_one(CaptionLog)
        status = app.screen.query_one("#watch-status")
        await wait_for(pilot, lambda: shown(log), what="the first turn")
        await server.stop()  # the link drops: the server is gone
        await wait_for(pilot, lambda: "link lost" in str(status.render()), what="the watcher noticing")
        feed(ev.TurnFinal(turn(1, "Said while the link was down.", 1000)))
        server = ShareServer(feed, open_share(f"127.0.0.1:{port}", None))
        await server.start()
        feed(ev.TurnFinal(turn(2, "After it came back.", 2000)))
        await wait_for(pilot, lambda: len(shown(log)) == 3, timeout=20, what="the turns after reconnecting")
        await pilot.pause(0.3)
        assert [text for _, text in shown(log)] == ["Before the drop.", "Said while the link was down.",
                                                    "After it came back."]
        await pilot.press("q")
    await server.stop()


async def test_watch_with_a_wrong_token_stops_and_says_so(tmp_path):
    server = ShareServer(CaptionFeed(), open_share("127.0.0.1:0", "s3cret-token"))
    await server.start()
    try:
        url = server.spec.url.replace("s3cret-token", "guessed-token")
        app = WatchApp(url, settings_for(tmp_path, "ws://unused"))
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.return_code is not None, what="the watcher to give up")
        assert app.return_code == 2
    finally:
        await server.stop()
