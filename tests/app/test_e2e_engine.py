"""The embedded offline engine as a user gets it: no key, engine auto or local, the real
Moonshine model in a `captioner serve` child process that never outlives the app and never
sees the API key.
"""

from __future__ import annotations

import os
import signal

import psutil
import pytest
import soundfile as sf
from e2e import (API_KEY_ENV, DATA, Captioner, captioner_env, exited, journals, only_journal, serve_children,
                 turn_texts, wait_for)
from streaming import Collector
from tui.server.wer import wer

from tui.config import load_settings
from tui.core.stream import events as ev
from tui.captioning import CaptionSession, RunOptions

SECRET = "sk-e2e-0123456789abcdef-not-a-real-key"


def _settings(tmp_path, env: dict | None = None, **overrides):
    config = tmp_path / "empty.toml"
    config.write_text("")
    return load_settings(config, env=env or {}, overrides={k.replace("__", "."): v
                                                             for k, v in overrides.items()})


@pytest.mark.parametrize("name", ["goforward", "ls_0880"])
async def test_engine_local_through_server_and_client(tmp_path, name):
    settings = _settings(tmp_path, service__engine="local")
    events = Collector()
    session = CaptionSession(settings, events, RunOptions(input=str(DATA / f"{name}.wav"), speed=2.0,
                                                          journal_dir=tmp_path / "journal"))
    assert session.engine == "local"
    code = await session.run()
    assert code == 0, events.of(ev.Notice)
    finals = events.of(ev.TurnFinal)
    said = " ".join(f.turn.text for f in finals)
    assert finals and wer((DATA / f"{name}.txt").read_text(), said) <= 0.15, said
    # partials came first, while the speech went on
    kinds = [type(e) for e in events.events if isinstance(e, (ev.PartialTurn, ev.TurnFinal))]
    assert kinds.index(ev.PartialTurn) < kinds.index(ev.TurnFinal)
    assert any(len(e.words) >= 2 for e in events.of(ev.PartialTurn))
    for f in finals:  # formatted finals: a capital first letter and terminal punctuation
        assert f.turn.text[0].isupper() and f.turn.text[-1] in ".?!", f.turn.text
        assert [w.start_ms for w in f.turn.words] == sorted(w.start_ms for w in f.turn.words)
    assert ev.LOADING in events.states and events.states[-1] == ev.CLOSED
    info = session.transcript.info
    assert (info.engine, info.model) == ("local", "moonshine-tiny-en")
    assert not serve_children(os.getpid())  # the child server is gone with the session


def test_demo_without_a_key(tmp_path):
    env = captioner_env(tmp_path)
    with Captioner(["--demo", "--plain"], env) as cap:
        code = cap.finish(90)
    assert code == 0, cap.stderr
    said = " ".join(cap.lines)
    assert wer((DATA / "jfk.txt").read_text(), said) <= 0.15, said
    assert all(line[0].isupper() and line[-1] in ".?!" for line in cap.lines), cap.lines
    # Kennedy's pause after "Ask not" is inside the sentence (it used to be "As not." alone)
    assert any(line.startswith("Ask not what your country can do for you") for line in cap.lines), cap.lines
    assert "streamed 11.0 of 11.0 s from demo.wav" in cap.stderr
    assert turn_texts(only_journal(env)) == cap.lines


def _speech_then_silence() -> bytes:
    audio, _ = sf.read(DATA / "goforward.wav", dtype="int16")
    return audio.astype("<i2").tobytes() + bytes(2 * 16000 * 2)


@pytest.mark.parametrize("ending", ["kill -9", "SIGTERM", "EOF"])
def test_child_server_never_outlives_the_app_and_never_sees_the_key(tmp_path, ending):
    env = captioner_env(tmp_path, {API_KEY_ENV: SECRET})
    read_end, write_end = os.pipe()
    try:
        # a key is set but engine local is forced: the offline child must not get the key
        with Captioner(["--plain", "--engine", "local", "--input", "-"], env, stdin=read_end) as cap:
            os.close(read_end)
            read_end = -1
            child = wait_for(lambda: serve_children(cap.pid), 60, "the serve child")[0]
            parent_env = psutil.Process(cap.pid).environ()
            assert parent_env[API_KEY_ENV] == SECRET  # the test means something
            assert not any(SECRET in arg for arg in child.cmdline())
            assert not any(SECRET in k or SECRET in v for k, v in child.environ().items())
            assert API_KEY_ENV not in child.environ()
            # the child is working: speech through the pipe comes back as a caption
            os.write(write_end, _speech_then_silence())
            assert "Go forward" in cap.wait_lines(1, 60)[0]
            assert not exited(child.pid)
            if ending == "kill -9":
                os.kill(cap.pid, signal.SIGKILL)
                assert cap.finish(10) == -signal.SIGKILL
            elif ending == "SIGTERM":
                cap.signal(signal.SIGTERM)
                assert cap.finish(30) == 0, cap.stderr
            else:
                os.close(write_end)
                write_end = -1
                assert cap.finish(30) == 0, cap.stderr
            wait_for(lambda: exited(child.pid), 5, f"the serve child to exit after {ending}")
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
    journal = only_journal(env)
    assert turn_texts(journal)[:1] == cap.lines[:1]
    assert SECRET not in journals(env)[0].read_text()
    assert SECRET not in cap.stderr and SECRET not in "\n".join(cap.lines)
