"""The issue's "Done when", as real `captioner` processes against a scripted `captioner serve`
that labels speakers and revises one turn at the end of the session.

- `captioner --url URL --input talk.wav --jsonl --speakers --output out.json` prints each turn
  with its label (and the revision as a line of its own); out.json and
  `captioner export last --format vtt -o out.vtt` carry the revised label.
- with `speech_model = "universal-3-6-pro"` in a --config file, `--plain` prints each formatted
  turn once, in order, and nothing else.
"""

from __future__ import annotations

import json
import subprocess

import srt
import webvtt
from e2e import PYTHON, ROOT, Captioner, Server, captioner_env, journals
from streaming import write_wav

from tui.server.scripted import make_script, script_duration_ms

TURNS = ["Good morning, everyone.", "Morning! Shall we start?", "Yes, the budget first.",
         "Fine by me."]
LABELS = ["A", "B", "A", "B"]
REVISED = ["A", "B", "A", "A"]  # the end-of-session pass gives the last turn to A


def talk(folder):
    script = make_script(TURNS, pause_ms=700)
    for turn, label in zip(script["turns"], LABELS):
        turn["speaker"] = label
    script["turns"][-1]["revised_speaker"] = "A"
    script["turns"][0]["words"][1].append({"draft": "mourning,"})  # a Pro partial revises it
    path = folder / "script.json"
    path.write_text(json.dumps(script))
    wav = write_wav(folder / "talk.wav", script_duration_ms(script) + 800)
    return path, wav


def run(args, env, timeout=60):
    with Captioner(args, env) as cap:
        code = cap.finish(timeout)
    return code, cap.lines, cap.stderr


def export(env, *args):
    return subprocess.run([PYTHON, "-m", "tui", "export", "last", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_jsonl_speakers_revision_output_and_export(tmp_path):
    script, wav = talk(tmp_path)
    env = captioner_env(tmp_path)
    out = tmp_path / "out.json"
    with Server("--engine", "scripted", "--script", str(script)) as server:
        code, lines, err = run(["--url", server.url, "--input", str(wav), "--jsonl", "--speakers",
                                "--output", str(out), "--speed", "2"], env)
    assert code == 0, err
    objects = [json.loads(line) for line in lines]
    turns = [o for o in objects if "type" not in o]
    revisions = [o for o in objects if o.get("type") == "revision"]
    assert [t["text"] for t in turns] == TURNS
    assert [t["speaker"] for t in turns] == LABELS  # each turn with its label as it came
    assert [(r["turn_order"], r["speaker"]) for r in revisions] == [(3, "A")]
    assert objects.index(revisions[0]) == len(objects) - 1  # after Terminate, before Termination
    doc = json.loads(out.read_text())  # written after the revision
    assert [t["speaker"] for t in doc["turns"]] == REVISED
    assert {w.get("speaker") for w in doc["turns"][3]["words"]} == {"A"}

    done = export(env, "--format", "vtt", "-o", str(tmp_path / "out.vtt"))
    assert done.returncode == 0, done.stderr
    cues = webvtt.read(str(tmp_path / "out.vtt"))
    assert [c.voice for c in cues] == REVISED  # webvtt-py reads the voice spans
    assert cues[-1].text == "Fine by me."

    named = export(env, "--format", "srt", "--speaker", "A=Alice", "--speaker", "B=Bob")
    assert named.returncode == 0, named.stderr
    subs = list(srt.parse(named.stdout))
    assert [s.content for s in subs] == ["Alice: Good morning, everyone.", "Bob: Morning! Shall we start?",
                                         "Alice: Yes, the budget first.", "Fine by me."]
    bad = export(env, "--speaker", "Alice")
    assert bad.returncode == 2 and bad.stderr.strip() == \
        "captioner: --speaker 'Alice': use LABEL=NAME, e.g. A=Alice"
    assert len(journals(env)) == 1


def test_pro_model_from_a_config_file_prints_each_formatted_turn_once(tmp_path):
    script, wav = talk(tmp_path)
    env = captioner_env(tmp_path)
    config = tmp_path / "pro.toml"
    config.write_text('[service]\nspeech_model = "universal-3-6-pro"\nformat_turns = false\n')
    with Server("--engine", "scripted", "--script", str(script)) as server:
        code, lines, err = run(["--config", str(config), "--url", server.url, "--input", str(wav),
                                "--plain", "--speed", "2"], env)
    assert code == 0, err
    assert lines == TURNS  # formatted, once each, in order, and nothing else
    assert "captioner: service.format_turns is not sent: universal-3-6-pro is the Pro family, " \
           "which ignores it" in err.splitlines()
    assert "mourning" not in "\n".join(lines)


def test_a_model_id_with_spaces_is_refused_in_one_line(tmp_path):
    env = captioner_env(tmp_path)
    config = tmp_path / "bad.toml"
    config.write_text('[service]\nspeech_model = "no spaces allowed"\n')
    done = subprocess.run([PYTHON, "-m", "tui", "--config", str(config), "--plain"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"captioner: {config}: service.speech_model must be a model id (letters, digits, '-' and '.') "
        "(got 'no spaces allowed')"]
