"""A UI bug in the real process in tmux: a toast and captioning goes on, or (a burst) a clean exit.

The widget is made to raise by a few lines run before captioner's own main(), so the
process is the real one in every other respect.
"""

from __future__ import annotations

from tmuxapp import TmuxApp, traceback_on, wait_until

from tui.core.transcript.journal import read_journal

DEMO_FIRST = "And so my fellow Americans"


def run_patched(patch: str) -> list[str]:
    return ["-c", f"{patch}\nfrom tui.cli import main\nraise SystemExit(main())", "--demo"]


def test_a_raising_click_handler_shows_a_toast_and_captioning_goes_on(tmp_path):
    patch = ("from tui.widgets.caption_log import CaptionLog\n"
             "def boom(self, event):\n    raise RuntimeError('click handler broke')\n"
             "CaptionLog.on_click = boom")
    with TmuxApp(tmp_path, run_patched(patch)) as term:
        term.wait(DEMO_FIRST)
        term.write("\x1b[<0;10;2M\x1b[<0;10;2m")  # a left click on the log (SGR mouse)
        term.wait("RuntimeError: click handler broke")
        assert "Captioning goes on" in term.screen()
        term.wait("the session has ended", 40)  # the demo played to its end after the error
        screen = term.screen()
        assert "Ask what you can do for your country" in screen and traceback_on(screen) is None
        term.keys("q")
        assert term.exit_status() == 0
        assert "internal error in CaptionLog handling Click" in term.log_text()
        assert "Traceback" in term.log_text()  # the details are in the log, not on the screen


def test_a_burst_of_errors_exits_1_with_one_line_and_a_complete_journal(tmp_path):
    patch = ("import time\nfrom tui.widgets.meter import LevelMeter\nshow = LevelMeter.show\n"
             "started = time.monotonic()\n"
             "def broken(self, *a, **k):\n"
             "    if time.monotonic() - started > 6: raise ValueError('meter broke')\n"
             "    return show(self, *a, **k)\n"
             "LevelMeter.show = broken")
    with TmuxApp(tmp_path, run_patched(patch)) as term:
        term.wait(DEMO_FIRST)
        assert term.exit_status(40) == 1
        lines = [line for line in term.screen().splitlines() if line.strip()]
        assert traceback_on("\n".join(lines)) is None, lines
        reason = [line for line in lines if line.startswith("captioner: ")]
        assert len(reason) == 1 and reason[0].startswith("captioner: internal error: ValueError: meter broke ("), lines
        journal = read_journal(wait_until(term.journals, 5, "the journal")[0])
        assert journal.footer is not None  # finished as on q: Terminate, last turns, footer
        assert journal.turns and journal.turns[0].text.startswith(DEMO_FIRST)
