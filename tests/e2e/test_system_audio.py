"""System audio beside the microphone, end to end: the real `captioner` process (offline
engine, no key) captures the private PulseAudio daemon's virtual mic and the monitor of its
second null sink, the default output; speech played into each must come back with its own
words and its own label. Also: the system audio alone, a change of default output and an
output that disappears mid-session, the echo of the output in the microphone, and no
sound server at all.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest
from e2e import DATA, ROOT, Captioner, captioner_env, only_journal, wait_for
from vmic import SPEAKERS, start_vmic

WAV_HEADER = 44
MIC_WAV, SYSTEM_WAV = DATA / "jfk.wav", DATA / "ls_0870.wav"
MIC_WORDS = {"americans", "fellow", "country"}  # words of jfk only
SYSTEM_WORDS = {"dashwood", "leisure", "prudently", "consider", "power", "john"}  # of ls_0870 only
HEADPHONES = "vmic_headphones"


@pytest.fixture(scope="module")
def pa(tmp_path_factory):
    """A private daemon (outputs are added and removed here): the mic plus a default output."""
    mic = start_vmic(tmp_path_factory.mktemp("sys"))
    mic.add_output()
    yield mic
    mic.stop()


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def finals(cap: Captioner) -> list[dict]:
    return [json.loads(line) for line in cap.lines]


def wait_capturing(rec) -> None:
    wait_for(lambda: rec.exists() and rec.stat().st_size > WAV_HEADER + 32000, 90, "capture to start")


def stop(cap: Captioner, tail_s: float = 1.0) -> int:
    time.sleep(tail_s)
    cap.signal(signal.SIGINT)
    return cap.finish(40)


def test_mic_and_system_audio_each_captioned_with_their_own_words_and_label(pa, tmp_path):
    env = captioner_env(tmp_path, pa.env)
    rec = tmp_path / "mic.wav"
    with Captioner(["--system-audio", "--jsonl", "--record", str(rec)], env) as cap:
        wait_capturing(rec)
        mic = pa.play(MIC_WAV, wait=False)
        time.sleep(2.0)  # the two overlap in time: the call's other side talks over you
        pa.play_system(SYSTEM_WAV)
        mic.wait(30)
        code = stop(cap, 1.5)
    assert code == 0, cap.stderr
    turns = finals(cap)
    by_source = {"mic": set(), "system": set()}
    for turn in turns:
        assert turn["source"] in by_source, turn
        heard = words(turn["text"])
        other = SYSTEM_WORDS if turn["source"] == "mic" else MIC_WORDS
        assert not heard & other, f"mislabelled turn {turn}"
        by_source[turn["source"]] |= heard
    assert len(by_source["mic"] & MIC_WORDS) >= 2, turns
    assert len(by_source["system"] & SYSTEM_WORDS) >= 3, turns
    journal = only_journal(env)
    assert journal.info.sources == {"mic": "You", "system": "Them"}
    # (a mic turn said while the other side is mid-turn is printed once that turn is final)
    assert {t.index: (t.source, t.text) for t in journal.turns} == {
        t["turn_order"]: (t["source"], t["text"]) for t in turns}
    assert sorted(t.index for t in journal.turns) == list(range(len(turns)))  # one numbering


def test_plain_prefixes_each_line_with_the_source_name(pa, tmp_path):
    env = captioner_env(tmp_path, pa.env)
    rec = tmp_path / "mic.wav"
    out = tmp_path / "call.txt"
    with Captioner(["--system-audio", "--plain", "--record", str(rec), "-o", str(out)], env) as cap:
        wait_capturing(rec)
        pa.play(DATA / "ls_0880.wav")
        pa.play_system(DATA / "goforward.wav")
        code = stop(cap, 1.5)
    assert code == 0, cap.stderr
    you = [line for line in cap.lines if line.startswith("You: ")]
    them = [line for line in cap.lines if line.startswith("Them: ")]
    assert you and them and len(you) + len(them) == len(cap.lines), cap.lines
    mine = " ".join(you).lower()  # the model writes "ill-disposed" or "ill-sposed"
    assert ("disposed" in mine or "young man" in mine) and "forward" in " ".join(them).lower()
    exported = out.read_text()
    assert re.search(r"\] You: .*(disposed|young man)", exported) and re.search(r"\] Them: .*[Ff]orward", exported)


def test_input_system_captions_the_output_alone(pa, tmp_path):
    env = captioner_env(tmp_path, pa.env)
    rec = tmp_path / "sys.wav"
    with Captioner(["--input", "system", "--jsonl", "--record", str(rec)], env) as cap:
        wait_capturing(rec)
        mic = pa.play(MIC_WAV, wait=False)  # the microphone is not listened to
        pa.play_system(SYSTEM_WAV)
        mic.wait(30)
        code = stop(cap)
    assert code == 0, cap.stderr
    turns = finals(cap)
    heard = set().union(*(words(t["text"]) for t in turns)) if turns else set()
    assert len(heard & SYSTEM_WORDS) >= 3 and not heard & MIC_WORDS, turns
    assert {t["source"] for t in turns} == {"system"}


def test_follows_a_change_of_default_output(pa, tmp_path):
    env = captioner_env(tmp_path, pa.env)
    rec = tmp_path / "sys.wav"
    pa.add_output(HEADPHONES, "VirtualHeadphones", default=False)
    try:
        with Captioner(["--input", "system", "--jsonl", "--record", str(rec)], env) as cap:
            wait_capturing(rec)
            pa.play_system(DATA / "goforward.wav")
            cap.wait_lines(1, 30)
            pa.set_default_output(HEADPHONES)  # the person plugs in headphones
            wait_for(lambda: "VirtualHeadphones" in cap.stderr, 10, "the switch to be reported")
            pa.play_system(SYSTEM_WAV, sink=HEADPHONES)
            code = stop(cap)
    finally:
        pa.set_default_output(SPEAKERS)
        pa.remove_output(HEADPHONES)
    assert code == 0, cap.stderr
    said = " ".join(t["text"] for t in finals(cap)).lower()
    assert "forward" in said and len(words(said) & SYSTEM_WORDS) >= 3, said


def test_an_output_that_disappears_and_returns(pa, tmp_path):
    # Picked by name: were it the default output, the server would make another one the
    # default when it goes, and captioner would follow that one.
    env = captioner_env(tmp_path, pa.env)
    rec = tmp_path / "sys.wav"
    with Captioner(["--input", "system", "--system-audio", "speakers", "--jsonl", "--record", str(rec)],
                   env) as cap:
        wait_capturing(rec)
        pa.play_system(DATA / "goforward.wav")
        cap.wait_lines(1, 30)
        pa.remove_output(SPEAKERS)
        wait_for(lambda: "is gone" in cap.stderr, 10, "the loss to be reported")
        time.sleep(3.0)  # longer than the 2 s that would mean a dead device
        assert cap.proc.poll() is None, cap.stderr
        pa.add_output()
        wait_for(lambda: "captioning 'VirtualSpeakers'" in cap.stderr, 10, "the return to be reported")
        pa.play_system(SYSTEM_WAV)
        code = stop(cap)
    assert code == 0, cap.stderr
    turns = finals(cap)
    said = " ".join(t["text"] for t in turns).lower()
    assert "forward" in said and len(words(said) & SYSTEM_WORDS) >= 3, said
    # the time it was gone is on the timeline (sent as silence): the later turn starts after it
    assert turns[-1]["start_ms"] - turns[0]["end_ms"] > 3000


def test_the_mic_hearing_the_loudspeakers_is_an_echo(pa, tmp_path):
    env = captioner_env(tmp_path, pa.env)
    rec = tmp_path / "mic.wav"
    with Captioner(["--system-audio", "--jsonl", "--record", str(rec)], env) as cap:
        wait_capturing(rec)
        mic = pa.play(MIC_WAV, wait=False)  # the same speech into both, at the same time
        pa.play_system(MIC_WAV)
        mic.wait(30)
        code = stop(cap, 1.5)
    assert code == 0, cap.stderr
    turns = finals(cap)
    system = [t for t in turns if t["source"] == "system"]
    assert len(words(" ".join(t["text"] for t in system)) & MIC_WORDS) >= 2, turns
    # what the mic printed is only what is too short to call an echo (under 4 words)
    assert all(len(t["words"]) < 4 for t in turns if t["source"] == "mic"), turns
    journal = only_journal(env)
    echoes = [t for t in journal.turns if t.echo_of is not None]
    assert len(echoes) >= 2 and all(t.source == "mic" for t in echoes), journal.turns
    system = {t.index for t in journal.turns if t.source == "system"}
    assert {t.echo_of for t in echoes} <= system


def test_no_sound_server_is_one_line_and_exit_2(tmp_path):
    env = captioner_env(tmp_path, {"PULSE_SERVER": f"unix:{tmp_path}/nothing"})
    with Captioner(["--input", "system", "--plain"], env) as cap:
        code = cap.finish(60)
    assert code == 2
    lines = [line for line in cap.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and "system audio needs a PulseAudio or PipeWire" in lines[0], cap.stderr


def test_full_screen_shows_both_sources_labelled(pa, tmp_path):
    env = captioner_env(tmp_path, pa.env)
    tmux = ["tmux", "-L", f"sysaudio-{tmp_path.name[-12:]}", "-f", "/dev/null"]
    rc = tmp_path / "rc"
    variables = " ".join(f"{k}={shlex.quote(env[k])}" for k in
                         ("CAPTIONER_DATA_DIR", "CAPTIONER_CONFIG", "PULSE_SERVER", "PATH"))
    command = (f"env -u ASSEMBLYAI_API_KEY {variables} {sys.executable} -m tui --system-audio; "
               f"echo $? > {rc}.tmp; mv {rc}.tmp {rc}; sleep 30")
    screen = lambda: subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout  # noqa: E731
    try:
        subprocess.run([*tmux, "new-session", "-d", "-x", "100", "-y", "30", command], check=True, cwd=ROOT)
        wait_for(lambda: "listening" in screen(), 90, "the offline engine to load")
        time.sleep(1.0)
        mic = pa.play(MIC_WAV, wait=False)  # both speak at once: two labelled live lines
        pa.play_system(SYSTEM_WAV, wait=False)
        both = lambda: (rows := screen().splitlines()) and any(r.startswith(" You: ") for r in rows) \
            and any(r.startswith(" Them: ") for r in rows)  # noqa: E731 - live lines have no time
        wait_for(both, 15, "a live line for each source at once", step=0.02)
        mic.wait(30)
        pa.play(DATA / "ls_0880.wav")
        pa.play_system(DATA / "goforward.wav")
        wait_for(lambda: re.search(r"Them: .*[Ff]orward", screen()), 30, "the system audio's caption")
        # "young" alone: a long turn can wrap between "young" and "man"
        wait_for(lambda: re.search(r"disposed|young", screen()), 60, "the mic's caption")
        rows = screen().splitlines()
        said = next(i for i, row in enumerate(rows) if re.search(r"disposed|young", row))
        # A name is shown where the speaker changes: the nearest one above is the mic's.
        named = [row for row in rows[:said + 1] if re.search(r" (You|Them): ", row)]
        assert named and " You: " in named[-1], rows
        rows = screen().splitlines()
        assert any(row.startswith(" You   ") and "dB" in row for row in rows), rows  # two meters
        assert any(row.startswith(" Them  ") and "dB" in row for row in rows), rows
        subprocess.run([*tmux, "send-keys", "q"], check=True)
        wait_for(rc.exists, 30, "captioner to exit")
        assert rc.read_text().strip() == "0"
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def test_devices_lists_the_outputs_with_their_friendly_names(pa, tmp_path):
    env = captioner_env(tmp_path, pa.env)
    with Captioner(["devices"], env) as cap:
        assert cap.finish(60) == 0, cap.stderr
    rows = cap.lines
    assert any(row.startswith("*  VirtualSpeakers") and SPEAKERS in row for row in rows), rows
    assert any(row.startswith("   Null Output") for row in rows), rows
