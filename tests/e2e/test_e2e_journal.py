"""Transcripts are never lost: real `captioner --plain/--jsonl` processes against a scripted
`captioner serve`, stopped by real signals while turns are coming in.

SIGKILL: every turn printed before the kill is in the journal, same text, same order, once.
SIGTERM / SIGHUP: nothing is lost at all: the open turn is flushed and printed, the journal
holds every printed turn and a footer, --output is written, and the exit status is 0.
The four runs share one data folder and run at the same time; `captioner sessions` and
`captioner export` then work on the journals they left.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import srt
from e2e import PYTHON, ROOT, Captioner, Server, captioner_env, jsonl_turns, turn_texts, wait_for
from streaming import write_wav

from tui.core.transcript.journal import read_journal
from tui.core.transcript.model import Transcript
from tui.server.scripted import make_script, script_duration_ms

TURNS = [f"This is turn {n} of the talk, said slowly and clearly." for n in
         ("one", "two", "three", "four", "five", "six", "seven", "eight")]
SPEED = 2.0  # the file is streamed at twice real time (the hidden --speed flag)
N = 3  # turns printed before the signal
# After turn N is printed (~0.4-0.5 s of audio after its last word), wait this long: 1.6 s
# of audio, about 1 s into the next turn's 3 s of words (0.6 s pause first), so a turn is open.
MID_TURN_S = 0.8


@dataclass
class Run:
    lines: list[str]
    code: int
    stderr: str
    journal: Path
    at_signal: list[str] = field(default_factory=list)  # lines printed when the signal went
    output: Path | None = None

    def transcript(self) -> Transcript:
        return read_journal(self.journal)


def _open_journal(pid: int) -> Path:
    """The session journal the running process has open (how a run is matched to its file)."""
    def find():
        try:
            return next((Path(f.path) for f in psutil.Process(pid).open_files()
                         if f.path.endswith(".jsonl")), None)
        except psutil.NoSuchProcess:
            return None
    return wait_for(find, 10, "the journal to be open")


def _signalled_run(url: str, wav: Path, env: dict, sig: int, extra: list[str]) -> Run:
    with Captioner(["--url", url, "--input", str(wav), "--speed", str(SPEED), *extra], env) as cap:
        cap.wait_lines(N, 60)
        journal = _open_journal(cap.pid)
        time.sleep(MID_TURN_S)
        at_signal = list(cap.lines)
        cap.signal(sig)
        code = cap.finish(30)
    return Run(cap.lines, code, cap.stderr, journal, at_signal)


def _output_error_run(url: str, wav: Path, env: dict, output: Path) -> Run:
    """The output folder exists at start and vanishes mid-run (a drive pulled out)."""
    output.parent.mkdir(parents=True)
    with Captioner(["--url", url, "--input", str(wav), "--speed", str(2 * SPEED), "--plain",
                    "--output", str(output)], env) as cap:
        cap.wait_lines(1, 60)
        journal = _open_journal(cap.pid)
        output.parent.rmdir()
        code = cap.finish(60)
    return Run(cap.lines, code, cap.stderr, journal, output=output)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("journal_e2e")
    env = captioner_env(folder)
    script = make_script(TURNS, pause_ms=600)
    (folder / "script.json").write_text(json.dumps(script))
    long_wav = write_wav(folder / "talk.wav", script_duration_ms(script) + 1000)
    short = make_script(TURNS[:2], pause_ms=600)
    short_wav = write_wav(folder / "short.wav", script_duration_ms(short) - 100)  # ends before turn 3
    out = folder / "out"
    out.mkdir()
    jobs = {
        "SIGKILL": lambda url: _signalled_run(url, long_wav, env, signal.SIGKILL, ["--plain"]),
        "SIGTERM": lambda url: _signalled_run(url, long_wav, env, signal.SIGTERM,
                                              ["--plain", "--output", str(out / "talk.srt")]),
        "SIGHUP": lambda url: _signalled_run(url, long_wav, env, signal.SIGHUP, ["--jsonl"]),
        "missing dir": lambda url: _output_error_run(url, short_wav, env, folder / "no" / "such" / "t.srt"),
    }
    results: dict = {}
    with Server("--engine", "scripted", "--script", str(folder / "script.json")) as server:
        def run(name, job):
            try:
                results[name] = job(server.url)
            except BaseException as exc:  # noqa: BLE001 - reported by the test that needs it
                results[name] = exc

        threads = [threading.Thread(target=run, args=item) for item in jobs.items()]
        for t in threads:
            t.start()
            time.sleep(0.2)  # distinct start times, so `export last` has one answer
        for t in threads:
            t.join(120)
    yield {"env": env, "out": out, **results}


def _get(runs, name) -> Run:
    result = runs[name]
    if isinstance(result, BaseException):
        raise result
    return result


def _words(text: str) -> list[str]:
    return text.split()


def test_sigkill_keeps_every_printed_turn(runs):
    run = _get(runs, "SIGKILL")
    assert run.code == -signal.SIGKILL
    assert len(run.lines) >= N
    journal = run.transcript()
    texts = turn_texts(journal)
    assert texts[: len(run.lines)] == run.lines  # every printed turn, same text, same order
    assert [t.index for t in journal.turns] == list(range(len(texts)))  # each once
    assert set(texts) <= set(TURNS)  # and nothing garbled
    assert journal.footer is None  # it really was killed: no clean close


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_stop_signal_flushes_the_open_turn_and_loses_nothing(runs, name):
    run = _get(runs, name)
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr
    texts = [t["text"] for t in jsonl_turns(run.lines)] if name == "SIGHUP" else run.lines
    assert texts[:N] == TURNS[:N] and run.at_signal == run.lines[:N]
    # the turn that was open when the signal came was finished and printed, not dropped
    assert len(texts) == N + 1, (texts, run.stderr)
    flushed = _words(texts[N])
    assert 1 <= len(flushed) <= len(_words(TURNS[N])), texts[N]
    assert flushed == _words(TURNS[N])[: len(flushed)]
    journal = run.transcript()
    assert turn_texts(journal) == texts
    assert journal.footer is not None and journal.footer["turns"] == len(texts)
    if name == "SIGHUP":
        assert [t["turn_order"] for t in jsonl_turns(run.lines)] == list(range(N + 1))


def test_output_srt_written_at_the_end_of_a_stopped_run(runs):
    run = _get(runs, "SIGTERM")
    cues = list(srt.parse((runs["out"] / "talk.srt").read_text()))
    assert cues and [c.index for c in cues] == list(range(1, len(cues) + 1))
    assert all(c.start < c.end for c in cues)
    assert [w for c in cues for w in c.content.split()] == [w for line in run.lines for w in line.split()]


def test_output_folder_gone_at_the_end_fails_clearly_and_the_journal_keeps_all(runs):
    run = _get(runs, "missing dir")
    assert run.code == 1
    assert run.lines == TURNS[:2]
    assert not run.output.exists()
    error = [line for line in run.stderr.splitlines() if "t.srt" in line]
    assert error and error[0].startswith("captioner: cannot write ") and "Traceback" not in run.stderr
    assert str(run.journal) in error[0]  # it says where the transcript is kept
    journal = run.transcript()
    assert turn_texts(journal) == TURNS[:2] and journal.footer["turns"] == 2


def test_sessions_and_export_on_those_journals(runs, tmp_path):
    env = runs["env"]
    made = {name: _get(runs, name) for name in ("SIGKILL", "SIGTERM", "SIGHUP", "missing dir")}
    table = subprocess.run([PYTHON, "-m", "tui", "sessions"], env=env, cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert table.returncode == 0, table.stderr
    rows = table.stdout.splitlines()
    assert rows[0].split()[:4] == ["ID", "STARTED", "LENGTH", "TURNS"] and len(rows) == 1 + len(made)
    for run in made.values():
        journal = run.transcript()
        row = next(r for r in rows if r.startswith(journal.info.id[:8]))
        assert row.split()[4] == str(len(journal.turns)) and "This is turn one" in row
    # `export last` picks the newest session
    newest = max(made.values(), key=lambda r: r.transcript().info.started).transcript()
    target = tmp_path / "x.vtt"
    done = subprocess.run([PYTHON, "-m", "tui", "export", "last", "-o", str(target)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and f"wrote {target}" in done.stderr, done.stderr
    vtt = target.read_text()
    assert vtt.startswith("WEBVTT")
    cue_words = [w for block in vtt.split("\n\n")[1:] for line in block.splitlines()
                 if "-->" not in line and line.strip() for w in line.split()]
    assert cue_words == [w for t in newest.turns for w in t.text.split()]
