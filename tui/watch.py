"""The `captioner watch URL` command: follow a shared session read-only in this terminal."""

from __future__ import annotations

import argparse
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from tui.config import ConfigError, Settings, load_settings
from tui.screens.watch import WatchScreen
from tui.share.client import WatchError, events_url


class WatchApp(App[None]):
    CSS_PATH = "captioner.tcss"
    TITLE = "captioner watch"
    BINDINGS = [Binding("q", "quit", "Quit", id="quit")]

    def __init__(self, url: str, settings: Settings) -> None:
        super().__init__()
        self.url, self.settings = url, settings

    def on_mount(self) -> None:
        try:
            self.theme = self.settings["ui.theme"]
        except Exception:  # noqa: BLE001 - an unknown theme name must not stop watching
            pass
        self.push_screen(WatchScreen(self.url, self.settings))


def watch_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="captioner watch",
                                 description="Follow a session shared with --share, read-only.")
    ap.add_argument("url", help="the shared page's address, e.g. http://127.0.0.1:8080/?token=...")
    ap.add_argument("--config", type=Path, help="config file (default: ~/.config/captioner/config.toml)")
    ap.add_argument("--view", choices=("full", "captions"), help="start in this view (v switches)")
    ap.add_argument("--large", action="store_true", default=None, help="large block letters in the caption view")
    args = ap.parse_args(argv)
    try:
        events_url(args.url)
    except WatchError as exc:
        raise ConfigError(str(exc)) from None
    settings = load_settings(args.config, overrides={"ui.view": args.view, "ui.large_text": args.large})
    app = WatchApp(args.url, settings)
    app.run()
    return app.return_code or 0
