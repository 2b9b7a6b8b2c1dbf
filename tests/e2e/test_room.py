"""For the room: the caption-only view and `captioner watch`, the real processes in tmux."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
from e2e import PYTHON, ROOT, Captioner, captioner_env, scripted_talk, wait_for

from tui.widgets import bigtext

TURNS = ["Captions for the whole room.", "Read from across the table.", "The last turn is here."]


class Pane:
    """A command in a tmux pane of a given size; `rc` holds its exit status once it has ended."""

    def __init__(self, tmp_path: Path, command: str, width: int, height: int, env: dict[str, str]) -> None:
        self.tmux = ["tmux", "-L", f"room-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
        self.rc = tmp_path / f"rc-{uuid.uuid4().hex[:6]}"
        variables = " ".join(f"{k}={v}" for k, v in env.items() if k.startswith(("CAPTIONER_", "PYTHON")))
        # pytest's environment has COLUMNS/LINES (80x24), which Textual would take over the pane's size.
        line = (f"cd {ROOT} && env -u COLUMNS -u LINES {variables} {command}; echo $? > {self.rc}.tmp; mv {self.rc}.tmp {self.rc};"
                " sleep 30")
        subprocess.run([*self.tmux, "new-session", "-d", "-x", str(width), "-y", str(height), line], check=True)

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout

    def wait(self, predicate, timeout: float, what: str) -> str:
        try:
            return wait_for(lambda: (s := self.screen()) and predicate(s) and s, timeout, what, step=0.2)
        except AssertionError as exc:
            size = subprocess.run([*self.tmux, "display", "-p", "#{window_width}x#{window_height}"],
                                  capture_output=True, text=True).stdout.strip()
            shot = self.rc.with_suffix(".screen")
            shot.write_text(self.screen())
            raise AssertionError(f"{exc}; the {size} screen is in {shot}") from None

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", *keys], check=True)

    def exit_status(self, timeout: float = 30) -> int:
        wait_for(self.rc.exists, timeout, "the command to exit")
        return int(self.rc.read_text())

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


@contextlib.contextmanager
def pane(tmp_path: Path, command: str, width: int, height: int, env: dict[str, str]):
    p = Pane(tmp_path, command, width, height, env)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    with scripted_talk(tmp_path_factory.mktemp("talk"), TURNS) as url_and_wav:
        yield url_and_wav


def caption_view(talk, *flags: str) -> str:
    url, wav = talk
    return f"{PYTHON} -m tui --url {url} --input {wav} --speed 2 --view captions {' '.join(flags)}"


def test_the_caption_view_at_80x24_is_the_captions_and_nothing_else(tmp_path, talk):
    env = captioner_env(tmp_path)
    with pane(tmp_path, caption_view(talk), 80, 24, env) as term:
        screen = term.wait(lambda s: TURNS[-1] in s, 60, "the last turn in the caption view")
        rows = [r.strip() for r in screen.splitlines() if r.strip()]
        assert rows == TURNS  # oldest first, newest on the bottom, no chrome
        assert screen.splitlines()[-1].strip() == TURNS[-1]
        term.keys("v")  # back to the full screen: its log, status and footer
        full = term.wait(lambda s: "Search" in s and "level" in s, 10, "the full screen")
        assert all(t in full for t in TURNS)
        term.keys("q")
        assert term.exit_status() == 0


def test_large_text_at_200x50_draws_the_newest_turn_in_block_letters(tmp_path, talk):
    env = captioner_env(tmp_path)
    size = bigtext.pick_size(198)  # the pane less the view's padding
    expected = bigtext.render(TURNS[-1], 198, size)
    with pane(tmp_path, caption_view(talk, "--large"), 200, 50, env) as term:
        want = [r.rstrip() for r in expected]

        def drawn(screen: str) -> bool:  # the final turn's rows, in order, at the bottom
            rows = [r[1:].rstrip() for r in screen.splitlines()]
            return rows[-len(want):] == want

        screen = term.wait(drawn, 60, "the last turn in block letters")
        rows = screen.splitlines()
        assert bigtext.height(size) >= 5  # letters five rows tall at 200 columns
        assert not any("Quit" in r or "level" in r for r in rows)
        term.keys("l")  # plain text again, the same view
        plain = term.wait(lambda s: TURNS[-1] in s, 10, "the caption in ordinary text")
        assert [r.strip() for r in plain.splitlines() if r.strip()] == TURNS
        term.keys("q")
        assert term.exit_status() == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_watch_follows_a_shared_session_and_reconnects_when_it_comes_up(tmp_path, talk):
    url, wav = talk
    port = _free_port()
    env = captioner_env(tmp_path)
    with pane(tmp_path, f"{PYTHON} -m tui watch http://127.0.0.1:{port}/", 100, 30, env) as viewer:
        viewer.wait(lambda s: "link lost" in s, 20, "the watcher saying it has no link yet")
        sharer = Captioner(["--url", url, "--input", str(wav), "--speed", "2", "--plain",
                            "--share", f"127.0.0.1:{port}"], env)
        with sharer:
            assert sharer.finish(60) == 0
        assert sharer.lines == TURNS
        screen = viewer.wait(lambda s: "the shared session has ended" in s, 20, "the end in the watcher")
        shown = [line for line in screen.splitlines() if any(t in line for t in TURNS)]
        assert [next(t for t in TURNS if t in line) for line in shown] == TURNS
        assert "level" not in screen  # no meter: nothing is captured here
        viewer.keys("q")
        assert viewer.exit_status() == 0


def test_watch_with_a_wrong_address_says_so(tmp_path):
    with Captioner(["watch", "ftp://example.org/"], captioner_env(tmp_path)) as watcher:
        assert watcher.finish(20) == 2
    assert watcher.stderr.strip() == ("captioner: ftp://example.org/: give the shared page's address, "
                                      "e.g. http://127.0.0.1:8080/")


def test_the_full_screen_shares_too_and_watch_shows_the_same_captions(tmp_path, talk):
    url, wav = talk
    port = _free_port()
    env = captioner_env(tmp_path)
    command = f"{PYTHON} -m tui --url {url} --input {wav} --share 127.0.0.1:{port}"
    with pane(tmp_path / "a", command, 100, 30, captioner_env(tmp_path / "a")) as sharer, \
            pane(tmp_path, f"{PYTHON} -m tui watch http://127.0.0.1:{port}/", 100, 30, env) as viewer:
        sharer.wait(lambda s: f"sharing the captions at http://127.0.0.1:{port}/" in s, 20, "the URL, once")
        screen = viewer.wait(lambda s: TURNS[-1] in s, 60, "the last turn in the watcher")
        assert [t for t in TURNS if t in screen] == TURNS
        assert all(t in sharer.screen() for t in TURNS)
        sharer.keys("q")
        assert sharer.exit_status() == 0
        viewer.wait(lambda s: "the shared session has ended" in s, 20, "the end in the watcher")
