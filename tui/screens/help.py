"""The help screen: every key, with the binding id used to remap it in [keymap]."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

_KEY_NAMES = {"space": "space", "slash": "/", "question_mark": "?", "escape": "esc", "end": "End"}


def key_label(keys: str) -> str:
    """'space,p' -> 'space, p'; 'question_mark,f1' -> '?, F1'."""
    out = []
    for key in keys.split(","):
        key = key.strip()
        if key in _KEY_NAMES:
            out.append(_KEY_NAMES[key])
        elif key.startswith("f") and key[1:].isdigit():
            out.append(key.upper())
        else:
            out.append(key)
    return ", ".join(out)


class HelpScreen(ModalScreen[None]):
    """A table of (keys, what they do, binding id); any of esc, q, ?, F1 closes it."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close")]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, padding=(0, 1), show_edge=False)
        table.add_column("keys", no_wrap=True, style="bold")
        table.add_column("action", ratio=1)
        table.add_column("keymap id", no_wrap=True, style="dim")
        for keys, description, binding_id in self.rows:
            table.add_row(Text(key_label(keys)), Text(description), Text(binding_id))
        with VerticalScroll(id="help-box"):
            yield Label("Keys", id="help-title")
            yield Static(table, id="help-table")
            yield Static(Text("Remap keys in the config file: [keymap] then id = \"keys\". "
                              "ctrl+p opens the command palette. Esc closes this help."),
                         id="help-footnote")

    def action_close(self) -> None:
        self.dismiss(None)
