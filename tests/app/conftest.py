"""App tests see a bug in the UI as an error with its traceback (the app would contain it)."""

import pytest

from tui.app import CaptionerApp


@pytest.fixture(autouse=True)
def _uncontained_errors(monkeypatch):
    monkeypatch.setattr(CaptionerApp, "contain_errors", False)
