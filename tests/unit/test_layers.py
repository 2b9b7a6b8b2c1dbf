"""The layer rules in pyproject.toml hold, and they would catch each kind of upward arrow."""

import logging
import os
import shutil
import sys

import pytest
from importlinter.cli import lint_imports

import paths

CONFIG = str(paths.ROOT / "pyproject.toml")


def lint(root) -> int:
    """lint-imports on the `tui` package under root (it puts the working folder first on sys.path)."""
    cwd = os.getcwd()
    os.chdir(root)
    sys.path.insert(0, str(root))
    saved = {k: v for k, v in sys.modules.items() if k == "tui" or k.startswith("tui.")}
    for k in saved:
        del sys.modules[k]
    # lint-imports configures its logging with dictConfig, which disables every logger that
    # exists (tui.ui among them): later tests in this process would see no log records.
    loggers = [x for x in logging.Logger.manager.loggerDict.values() if isinstance(x, logging.Logger)]
    disabled = [x.disabled for x in loggers]
    try:
        return lint_imports(config_filename=CONFIG, no_cache=True, no_logo=True)
    finally:
        for logger, was in zip(loggers, disabled):
            logger.disabled = was
        os.chdir(cwd)
        while str(root) in sys.path:
            sys.path.remove(str(root))
        for k in [k for k in sys.modules if k == "tui" or k.startswith("tui.")]:
            del sys.modules[k]
        sys.modules.update(saved)


def test_the_package_keeps_every_contract(capsys):
    assert lint(paths.ROOT) == 0, capsys.readouterr().out


@pytest.mark.parametrize("module,source", [
    ("tui/core/bad_config.py", "from tui.config import Settings\n"),
    ("tui/core/bad_ui.py", "def f():\n    import textual.app\n"),
    ("tui/core/bad_orchestrator.py", "def f():\n    from tui.captioning import CaptionSession\n"),
    ("tui/server/bad_config.py", "from tui.config import API_KEY_ENV\n"),
    ("tui/server/bad_ui.py", "from tui.widgets.meter import LevelMeter\n"),
    ("tui/core/bad_share.py", "from tui.share.feed import CaptionFeed\n"),
    ("tui/share/bad_ui.py", "def f():\n    import textual.app\n"),
    # A cycle made of function-level imports, as open_source once was.
    ("tui/core/audio/source.py", None),
])
def test_an_upward_arrow_or_a_cycle_breaks_a_contract(tmp_path, capsys, module, source):
    shutil.copytree(paths.ROOT / "tui", tmp_path / "tui", ignore=shutil.ignore_patterns("__pycache__", "data"))
    target = tmp_path / module
    if source is None:
        target.write_text(target.read_text() + "\n\ndef _cycle():\n    from tui.core.audio import mic\n")
    else:
        target.write_text(source)
    assert lint(tmp_path) == 1
    assert "BROKEN" in capsys.readouterr().out
