"""The rename dialog: give a speaker label (A, B, ...) a name, on screen, in the journal and exports."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from tui.core.transcript.speakers import parse_rename


class RenameDialog(ModalScreen[tuple[str, str] | None]):
    """Dismisses with (label, name), or None when cancelled. "B=Bob" renames another label."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="rename.cancel")]

    def __init__(self, label: str, current: str, labels: list[str]) -> None:
        super().__init__()
        self.label, self.current, self.labels = label, current, labels

    def compose(self) -> ComposeResult:
        with Vertical(id="rename-box"):
            yield Label(f"Rename speaker {self.label}", id="rename-title", markup=False)
            yield Input(self.current, id="rename-name", placeholder="a name, or LABEL=NAME for another speaker")
            others = ", ".join(self.labels)
            yield Label(f"speakers: {others} · Enter: rename · Esc: cancel", id="rename-help", markup=False)
            yield Label("", id="rename-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#rename-name", Input).focus()

    @on(Input.Submitted, "#rename-name")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        try:
            label, name = parse_rename(text) if "=" in text else parse_rename(f"{self.label}={text}")
        except ValueError:
            self.query_one("#rename-error", Label).update("type a name (or LABEL=NAME)")
            return
        self.dismiss((label, name))

    def action_cancel(self) -> None:
        self.dismiss(None)
