"""Over SSH: the real `captioner` in a real ssh session (a private sshd on 127.0.0.1), on a
real terminal (tmux), against a scripted `captioner serve`.

A dropped connection (the ssh client killed with SIGKILL, so sshd hangs up the remote
terminal and the remote process gets SIGHUP) must end the remote captioner within seconds,
with every turn that was on screen in its journal and a footer (a clean close). `q` typed
over SSH quits cleanly, and ssh hands back exit status 0.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import uuid
from pathlib import Path

import psutil
import pytest
from e2e import PYTHON, exited, scripted_talk, wait_for, wait_or_kill

from tui.core.transcript.journal import read_journal
from tui.core.transcript.model import Transcript

TURNS = [f"Turn {n} said over a secure shell." for n in
         ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")]
SPEED = 2.0  # the file is streamed at twice real time (the hidden --speed flag)
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sshd:
    """A private sshd on 127.0.0.1: its own host key, config and authorized key; foreground."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.user = psutil.Process().username()
        self.key = folder / "client_key"
        for key in (folder / "host_key", self.key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
        config = folder / "sshd_config"
        self.port = _free_port()
        config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host_key'}",
            f"PidFile {folder / 'sshd.pid'}", f"AuthorizedKeysFile {folder / 'authorized_keys'}",
            "UsePAM no", "PermitRootLogin yes", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PubkeyAuthentication yes", "StrictModes no",
            "PrintMotd no", "PrintLastLog no", "X11Forwarding no", "LogLevel VERBOSE", "",
        ]))
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # its privilege-separation directory
        self.log = (folder / "sshd.log").open("w")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._listening, 15, f"sshd to listen on {self.port}: {self.log_text()}")

    def _listening(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"sshd exited {self.proc.returncode}: {self.log_text()}")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def log_text(self) -> str:
        self.log.flush()
        return (self.folder / "sshd.log").read_text()

    def ssh(self, remote: str) -> str:
        """The local command line that runs `remote` over ssh with a terminal (-tt)."""
        return (f"ssh -tt -p {self.port} -i {self.key} -o StrictHostKeyChecking=no "
                f"-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR "
                f"{self.user}@127.0.0.1 '{remote}'")

    def close(self) -> None:
        self.proc.terminate()
        wait_or_kill(self.proc)
        self.log.close()


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = Sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.close()


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    with scripted_talk(tmp_path_factory.mktemp("talk"), TURNS) as url_and_wav:
        yield url_and_wav


class Terminal:
    """A 100x30 tmux terminal on a private socket running one local command."""

    def __init__(self, command: str) -> None:
        self.tmux = ["tmux", "-L", f"capssh-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
        subprocess.run([*self.tmux, "new-session", "-d", "-x", "100", "-y", "30", command], check=True)
        pane = subprocess.run([*self.tmux, "display-message", "-p", "#{pane_pid}"],
                              capture_output=True, text=True, check=True).stdout
        self.pane_pid = int(pane)

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", *keys], check=True)

    def ssh_client(self) -> psutil.Process:
        """The local ssh process (a child of the pane's shell)."""
        def find():
            try:
                return next((p for p in psutil.Process(self.pane_pid).children(recursive=True)
                             if p.name() == "ssh"), None)
            except psutil.NoSuchProcess:
                return None
        return wait_for(find, 10, "the ssh client")

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def _remote_captioner(data_dir: Path) -> psutil.Process:
    """The captioner started over ssh (sshd's grandchild): `-m tui` with this data folder."""
    def find():
        for p in psutil.process_iter(["cmdline"]):
            cmd = p.info["cmdline"] or []
            if cmd[1:3] == ["-m", "tui"]:
                try:
                    if p.environ().get("CAPTIONER_DATA_DIR") == str(data_dir):
                        return p
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
        return None
    return wait_for(find, 20, "the remote captioner process")


def _start(sshd: Sshd, talk, folder: Path, rc_file: Path) -> tuple[Terminal, Path]:
    url, wav = talk
    data = folder / "data"
    config = folder / "empty.toml"
    config.write_text("")
    remote = (f"env CAPTIONER_DATA_DIR={data} CAPTIONER_CONFIG={config} XDG_STATE_HOME={folder / 'state'} "
              f"{PYTHON} -m tui --url {url} --input {wav} --speed {SPEED}")
    return Terminal(f"{sshd.ssh(remote)}; echo $? > {rc_file}; sleep 60"), data


def _on_screen(screen: str) -> list[str]:
    return [t for t in TURNS if t in screen]


def _journal(data: Path) -> Transcript:
    paths = sorted((data / "sessions").glob("*.jsonl"))
    assert len(paths) == 1, paths
    return read_journal(paths[0])


def test_dropped_ssh_connection_ends_the_remote_captioner_and_keeps_the_transcript(sshd, talk, tmp_path):
    term, data = _start(sshd, talk, tmp_path, tmp_path / "rc")
    remote = None
    try:
        wait_for(lambda: len(_on_screen(term.screen())) >= 3, 30,
                 f"three captions on the screen over ssh: {sshd.log_text()}", step=0.1)
        remote = _remote_captioner(data)
        screen = term.screen()
        assert "● live" in screen  # the status bar, drawn over ssh
        assert "Quit" in screen and "Pause" in screen  # the footer's keys
        shown = _on_screen(screen)
        ssh = term.ssh_client()
        ssh.send_signal(signal.SIGKILL)  # the connection drops: no goodbye from the client
        wait_for(lambda: exited(remote.pid), 10, "the remote captioner to exit after the hang-up")
        journal = _journal(data)
        texts = [t.text for t in journal.turns]
        assert texts[: len(shown)] == shown, (texts, screen)  # every turn that was on screen
        assert texts[:-1] == TURNS[: len(texts) - 1]  # in order, once, nothing garbled
        last, spoken = texts[-1].split(), TURNS[len(texts) - 1].split()
        assert last == spoken[: len(last)]  # the last one may be the open turn, flushed
        assert journal.footer is not None, "no footer: the session was not closed cleanly"
        assert journal.footer["turns"] == len(texts)
    finally:
        term.close()
        if remote is not None and not exited(remote.pid):
            remote.kill()  # it hung (the failure reported above): do not leave it behind


def test_q_over_ssh_quits_cleanly_with_status_0(sshd, talk, tmp_path):
    rc_file = tmp_path / "rc"
    term, data = _start(sshd, talk, tmp_path, rc_file)
    try:
        wait_for(lambda: TURNS[0] in term.screen(), 30, "the first caption over ssh", step=0.1)
        term.keys("q")
        wait_for(rc_file.exists, 20, "ssh to return after q")
        assert rc_file.read_text().strip() == "0", term.screen()
        journal = _journal(data)
        assert [t.text for t in journal.turns][:1] == TURNS[:1]
        assert journal.footer is not None and journal.footer["turns"] == len(journal.turns)
    finally:
        term.close()
