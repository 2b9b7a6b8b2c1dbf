"""In a browser: `captioner` served by textual-serve on 127.0.0.1 and opened in headless
Chromium (driven over the DevTools protocol), against a scripted `captioner serve`.

The screen is read from the browser's own terminal emulator (xterm.js, public buffer API):
that is what the page draws. textual-serve keeps its terminal object in a closure, so a
script run before the page's own catches it when its constructor assigns `fitAddon`.

Each browser tab runs its own captioner. Closing the tab (or losing its connection) makes
textual-serve ask the app to exit: that must end the session like SIGHUP does, flushing the
open turn into the journal, and `q` typed in the page must quit cleanly.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import psutil
import pytest
from browser import Browser
from e2e import PYTHON, exited, scripted_talk, wait_for, wait_or_kill

from tui.core.transcript.journal import read_journal
from tui.core.transcript.model import Transcript

TURNS = [f"Turn {n} said in a web browser." for n in
         ("one", "two", "three", "four", "five", "six", "seven", "eight")]
SPEED = 2.0  # the file is streamed at twice real time (the hidden --speed flag)

# Runs before textual-serve's script: keep its terminal object where the test can read it.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, 'fitAddon', {configurable: true, get() { return undefined; },
  set(value) {
    Object.defineProperty(this, 'fitAddon', {value, writable: true, configurable: true, enumerable: true});
    window.__captionerTerminal = this.terminal;
  }});
"""
READ_SCREEN = """(() => {
  const t = window.__captionerTerminal; if (!t) return null;
  const b = t.buffer.active, rows = [];
  for (let y = 0; y < t.rows; y++) rows.push(b.getLine(b.viewportY + y).translateToString(true));
  return rows.join('\\n'); })()"""


def _screen(page) -> str:
    return page.evaluate(READ_SCREEN) or ""


SERVE = ("import sys; from textual_serve.server import Server; "
         "Server(sys.argv[1], host='127.0.0.1', port=int(sys.argv[2])).serve()")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TextualServe:
    """`textual-serve` for one captioner command line, on a free port on 127.0.0.1."""

    def __init__(self, command: str, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = log.open("w")
        self.proc = subprocess.Popen([PYTHON, "-c", SERVE, command, str(self.port)], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._up, 20, f"textual-serve on {self.url}", step=0.1)

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"textual-serve exited {self.proc.returncode}")
        try:
            with urllib.request.urlopen(self.url, timeout=2) as reply:
                return reply.status == 200
        except OSError:
            return False

    def close(self) -> None:
        apps = psutil.Process(self.proc.pid).children(recursive=True) if self.proc.poll() is None else []
        self.proc.send_signal(signal.SIGINT)
        wait_or_kill(self.proc)
        for app in apps:  # a captioner still running here would be a failure the test reports
            if app.is_running():
                app.kill()
        self.log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Browser(tmp_path_factory.mktemp("chromium"))
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    with scripted_talk(tmp_path_factory.mktemp("talk"), TURNS) as url_and_wav:
        yield url_and_wav


@pytest.fixture
def served(talk, tmp_path):
    url, wav = talk
    config = tmp_path / "empty.toml"
    config.write_text("")
    data = tmp_path / "data"
    command = (f"env CAPTIONER_DATA_DIR={data} CAPTIONER_CONFIG={config} XDG_STATE_HOME={tmp_path / 'state'} "
               f"{PYTHON} -m tui --url {url} --input {wav} --speed {SPEED}")
    serve = TextualServe(command, tmp_path / "serve.log")
    yield serve, data
    serve.close()


def _captioner(data_dir: Path) -> psutil.Process:
    """The captioner textual-serve started for the tab, found by its data folder."""
    def find():
        for p in psutil.process_iter(["cmdline"]):
            if (p.info["cmdline"] or [])[1:3] == ["-m", "tui"]:
                try:
                    if p.environ().get("CAPTIONER_DATA_DIR") == str(data_dir):
                        return p
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
        return None
    return wait_for(find, 10, "the captioner process behind the tab")


def _journal(data: Path) -> Transcript:
    paths = sorted((data / "sessions").glob("*.jsonl"))
    assert len(paths) == 1, paths
    return read_journal(paths[0])


def test_captions_render_in_the_browser_and_closing_the_tab_flushes_the_open_turn(browser, served):
    serve, data = served
    page = browser.open(serve.url, before=CATCH_TERMINAL)
    try:
        # three finished turns in the scrollback, and the fourth open on the live line
        wait_for(lambda: all(t in _screen(page) for t in TURNS[:3]) and "turn four" in _screen(page), 30,
                 "captions in the browser's terminal", step=0.1)
        app = _captioner(data)
        screen = _screen(page)
        assert "● live" in screen and "q Quit" in screen, screen  # status bar and footer drawn
        page.call("Page.close")  # the tab goes away mid-sentence
        wait_for(lambda: exited(app.pid), 15, "the captioner to exit after its tab closed")
    finally:
        page.close()
    journal = _journal(data)
    texts = [t.text for t in journal.turns]
    assert texts[:3] == TURNS[:3] and len(texts) == 4, texts
    flushed, spoken = texts[3].split(), TURNS[3].split()
    assert len(flushed) >= 2 and flushed == spoken[: len(flushed)], texts[3]  # the open turn, kept
    assert journal.footer is not None and journal.footer["turns"] == 4
    assert journal.footer["audio_duration_s"] > 0  # a real close with the service, not a cancel


def test_q_in_the_browser_quits_cleanly(browser, served):
    serve, data = served
    page = browser.open(serve.url, before=CATCH_TERMINAL)
    try:
        wait_for(lambda: TURNS[0] in _screen(page), 30, "the first caption in the browser", step=0.1)
        app = _captioner(data)
        page.type("q")
        wait_for(lambda: exited(app.pid), 15, "the captioner to exit after q")
        # the page saw its session end
        wait_for(lambda: "-closed" in page.evaluate("document.body.className"), 10, "the page's end dialog")
    finally:
        page.close()
    journal = _journal(data)
    assert [t.text for t in journal.turns][:1] == TURNS[:1]
    assert journal.footer is not None and journal.footer["turns"] == len(journal.turns)


def test_the_caption_view_in_the_browser(browser, served):
    serve, data = served
    page = browser.open(serve.url, before=CATCH_TERMINAL)
    try:
        wait_for(lambda: TURNS[0] in _screen(page), 30, "the first caption in the browser", step=0.1)
        app = _captioner(data)
        page.type("v")
        wait_for(lambda: "q Quit" not in _screen(page) and TURNS[0] in _screen(page), 10,
                 "captions only, no footer", step=0.1)
        page.type("l")  # block letters: a turn is no longer there as plain text
        wait_for(lambda: "█" in _screen(page) or "┃" in _screen(page), 10, "large text", step=0.1)
        page.type("v")
        wait_for(lambda: "q Quit" in _screen(page), 10, "the full screen again", step=0.1)
        page.type("q")
        wait_for(lambda: exited(app.pid), 15, "the captioner to exit after q")
    finally:
        page.close()
