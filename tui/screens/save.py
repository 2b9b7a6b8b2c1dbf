"""The save dialog: a path and a format; errors stay in the dialog until fixed or cancelled."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet

from tui.core.transcript.exports import FORMATS, ExportError


def default_save_path(directory: str, fmt: str, now: float | None = None) -> Path:
    """<directory>/captioner-YYYYmmdd-HHMMSS.<fmt>, with ~ expanded."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    return Path(directory).expanduser() / f"captioner-{stamp}.{fmt}"


def save_transcript(save: Callable[[Path, str], Path], path: Path, fmt: str) -> Path:
    """Create the folder if missing, then save; raises ExportError with one line for a person."""
    path = Path(path).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    return save(path, fmt)


class SaveDialog(ModalScreen[Path | None]):
    """Ask where and how to save; dismisses with the path written, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save.cancel")]

    def __init__(self, path: Path, fmt: str, save: Callable[[Path, str], Path]) -> None:
        super().__init__()
        self.path, self.fmt, self._save = path, fmt, save

    def compose(self) -> ComposeResult:
        with Vertical(id="save-box"):
            yield Label("Save the transcript", id="save-title")
            yield Input(str(self.path), id="save-path", select_on_focus=False)
            with RadioSet(id="save-format"):
                for fmt in FORMATS:
                    yield RadioButton(fmt, value=fmt == self.fmt, name=fmt)
            yield Label("", id="save-error", markup=False)
            with Horizontal(id="save-buttons"):
                yield Button("Save", variant="primary", id="save-ok")
                yield Button("Cancel", id="save-cancel")

    def on_mount(self) -> None:
        path_input = self.query_one("#save-path", Input)
        path_input.focus()
        path_input.cursor_position = len(path_input.value)

    @on(RadioSet.Changed, "#save-format")
    def _format_changed(self, event: RadioSet.Changed) -> None:
        self.fmt = event.pressed.name or self.fmt
        path_input = self.query_one("#save-path", Input)
        path = Path(path_input.value)
        if path.suffix.lstrip(".") in FORMATS:
            path_input.value = str(path.with_suffix(f".{self.fmt}"))

    @on(Input.Submitted, "#save-path")
    @on(Button.Pressed, "#save-ok")
    def action_save(self) -> None:
        value = self.query_one("#save-path", Input).value.strip()
        error = self.query_one("#save-error", Label)
        if not value:
            error.update("Enter a file name.")
            return
        try:
            written = save_transcript(self._save, Path(value), self.fmt)
        except (ExportError, OSError) as exc:
            error.update(f"Not saved: {exc}")
            return
        self.dismiss(written)

    @on(Button.Pressed, "#save-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
