"""The real `captioner` in a tmux pane of its own tmux server: keys, raw terminal input, resizes.

Used by the e2e tests that drive the app as a user would (tests/e2e/test_monkey.py,
tests/e2e/test_ui_errors_tmux.py) and by bench/monkey.py. Each app gets a private data
folder, a config file, a log folder (XDG_STATE_HOME) and a working directory, all in `folder`.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import uuid
from pathlib import Path

from e2e import wait_for as wait_until  # noqa: F401 - for the monkey and tmux tests

ROOT = Path(__file__).resolve().parent.parent


class TmuxApp:
    """`python ARGS` (by default `-m tui ...`) in a tmux pane; the shell records its exit status."""

    def __init__(self, folder: Path, args: list[str], size: tuple[int, int] = (100, 30),
                 config: str = "", env: dict[str, str] | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.rc = folder / "rc"
        self.config = folder / "config.toml"
        self.config.write_text(config)
        (folder / "cwd").mkdir(exist_ok=True)
        self.tmux = ["tmux", "-L", f"capt-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
        variables = {"CAPTIONER_DATA_DIR": folder / "data", "CAPTIONER_CONFIG": self.config,
                     "XDG_STATE_HOME": folder / "state", "PYTHONPATH": ROOT, **(env or {})}
        command = (" ".join(f"{k}={shlex.quote(str(v))}" for k, v in variables.items())
                   + f" {shlex.quote(sys.executable)} {' '.join(shlex.quote(a) for a in args)};"
                   + f" echo $? > {self.rc}.tmp; mv {self.rc}.tmp {self.rc}; sleep 600")
        width, height = size
        subprocess.run([*self.tmux, "new-session", "-d", "-x", str(width), "-y", str(height),
                        "-c", str(folder / "cwd"), command], check=True)
        # The pane keeps its size when the (absent) client would have set another.
        subprocess.run([*self.tmux, "set-option", "-g", "window-size", "manual"], check=True)

    # ----------------------------------------------------------------- output

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout

    def wait(self, text: str, timeout: float = 30) -> None:
        wait_until(lambda: text in self.screen(), timeout, repr(text))

    def exited(self) -> bool:
        return self.rc.exists()

    def exit_status(self, timeout: float = 30) -> int:
        wait_until(self.rc.exists, timeout, "captioner to exit")
        return int(self.rc.read_text())

    def log_text(self) -> str:
        path = self.folder / "state" / "captioner" / "captioner.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def journals(self) -> list[Path]:
        return sorted((self.folder / "data" / "sessions").glob("*.jsonl"))

    # ------------------------------------------------------------------ input

    def keys(self, *keys: str) -> None:
        """tmux key names (Enter, Escape, C-p, F5, ...)."""
        subprocess.run([*self.tmux, "send-keys", *keys], check=True)

    def write(self, data: str) -> None:
        """Bytes as the terminal would send them (escape sequences included), via hex."""
        hexes = [f"{b:02x}" for b in data.encode()]
        for i in range(0, len(hexes), 200):
            subprocess.run([*self.tmux, "send-keys", "-H", *hexes[i:i + 200]], check=True)

    def resize(self, width: int, height: int) -> None:
        subprocess.run([*self.tmux, "resize-window", "-x", str(width), "-y", str(height)], check=True)

    def size(self) -> tuple[int, int]:
        out = subprocess.run([*self.tmux, "display-message", "-p", "#{pane_width} #{pane_height}"],
                             capture_output=True, text=True).stdout.split()
        return int(out[0]), int(out[1])

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)

    def __enter__(self) -> "TmuxApp":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def traceback_on(screen: str) -> str | None:
    """The first screen line that looks like a Python traceback, if any."""
    for line in screen.splitlines():
        if "Traceback" in line or line.lstrip().startswith(("File \"", "raise ")):
            return line
    return None
