"""Exports: every writer, cue rules, real parsers, ffmpeg, atomic writes."""

from __future__ import annotations

import contextlib
import html
import json
import os
import random
import re
import shutil
import tempfile
from pathlib import Path

import pytest
import srt
import webvtt
from markdown_it import MarkdownIt
from sample_transcripts import HOUR, STARTED, TURN_TEXTS, info, make_turn, sample_transcript, stress_transcript

from tui.core.transcript.cues import MAX_CUE_MS, MAX_LINE, MIN_CUE_MS, build_cues, wrap
from tui.core.transcript.exports import FORMATS, ExportError, clock, cue_time, format_for_path, render, write_export
from tui.core.transcript.journal import Journal, read_journal
from tui.core.transcript.model import FinalTurn, Marker, Transcript


def assert_cue_rules(cues, turns):
    assert cues, "no cues"
    prev_end = 0
    for n, cue in enumerate(cues):
        assert 1 <= len(cue.lines) <= 2, cue
        for line in cue.lines:
            assert line == line.strip() and line
            assert len(line) <= MAX_LINE or " " not in line, f"line too long: {line!r}"
        assert cue.start_ms >= prev_end, "cues overlap or go backwards"
        dur = cue.end_ms - cue.start_ms
        assert 0 < dur <= MAX_CUE_MS
        nxt = cues[n + 1] if n + 1 < len(cues) else None
        assert dur >= MIN_CUE_MS or (nxt is not None and cue.end_ms == nxt.start_ms), f"short cue {cue}"
        prev_end = cue.end_ms
    # Every word of every turn, once, in order, exactly as given.
    words = [w for cue in cues for line in cue.lines for w in line.split()]
    ordered = sorted(turns, key=lambda x: (x.start_ms, x.index))
    assert words == [w for x in ordered for w in x.text.split()]


def test_cues_follow_the_rules_on_realistic_speech():
    t = sample_transcript()
    cues = build_cues(t.turns)
    assert_cue_rules(cues, t.turns)
    # Breaks land at sentence ends: no cue carries the end of one sentence into the next.
    for cue in cues:
        assert not re.search(r"[.?!] \w+", cue.text.replace("Mr. ", "Mr ")), cue.text
    # Long pauses (between turns, after a sentence) are gaps between cues, not screen time.
    assert any(b.start_ms - a.end_ms >= 500 for a, b in zip(cues, cues[1:]))
    assert len(cues) > len(t.turns)


def test_cues_follow_the_rules_on_edge_cases():
    t = stress_transcript()
    cues = build_cues(t.turns)
    assert_cue_rules(cues, t.turns)
    assert cues[0].lines == ["Okay."] and cues[0].end_ms - cues[0].start_ms == MIN_CUE_MS
    assert any(line.startswith("Pneumono") for c in cues for line in c.lines)
    assert cues[-1].text == "It costs $5."


def test_wrap_balances_lines_and_refuses_three():
    assert wrap(["short", "line"]) == ["short line"]
    two = wrap("a fairly long sentence that will not fit on a single line at all".split())
    assert two and len(two) == 2 and all(len(x) <= MAX_LINE for x in two)
    assert abs(len(two[0]) - len(two[1])) < 15
    assert wrap(("word " * 30).split()) is None
    assert wrap(["x" * 60]) == ["x" * 60]


def test_txt():
    t = sample_transcript()
    out = render(t, "txt")
    paras = out.rstrip("\n").split("\n\n")
    assert len(paras) == 6
    assert paras[0] == f"[00:00:01] A: {TURN_TEXTS[0]}"
    assert paras[2] == "[paused 00:00:39–00:01:07]"
    assert re.fullmatch(r"\[reconnected at 00:01:1\d: connection lost \(1006\)\]", paras[4])
    bare = render(t, "txt", timestamps=False)
    assert bare.split("\n\n")[1] == f"B: {TURN_TEXTS[1]}"
    for text in TURN_TEXTS:
        assert out.count(text) == 1
    assert render(Transcript(info()), "txt") == ""


NASTY = [
    "*not emphasis* and _not this_ and **nor this**",
    "[a link](http://example.com) ![image](x.png) <b>html</b> <http://auto.link>",
    "`code` ~~strike~~ | pipe | table | & &amp; &copy; back\\slash",
    "# not a heading",
    "- not a list",
    "1. not a numbered list",
    "> not a quote",
    "+ neither",
    "===",
]


def _inline_text(children) -> str:
    out = []
    for tok in children:
        assert tok.type in ("text", "softbreak", "hardbreak"), f"markup leaked: {tok.type} {tok.content!r}"
        out.append("\n" if tok.type.endswith("break") else tok.content)
    return "".join(out)


def test_md_escapes_everything_and_keeps_the_text():
    t = Transcript(info())
    for i, text in enumerate(NASTY):
        t.add(FinalTurn(i, i * 1000, i * 1000 + 900, text, [], STARTED))
    t.add(FinalTurn(99, 20_000, 21_000, "line one\n    indented code?\n2) second", [], STARTED))
    t.add(Marker("gap", 30_000, STARTED, 1_000, "lost *audio*"))
    doc = render(t, "md", timestamps=False)
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    tokens = md.parse(doc)
    assert [x.type for x in tokens[:3]] == ["heading_open", "inline", "heading_close"]
    assert tokens[1].content == "Captions — 2023-11-14"
    assert not any(x.type in ("code_block", "fence", "bullet_list_open", "ordered_list_open",
                              "blockquote_open", "table_open", "html_block", "hr") for x in tokens)
    inlines = [x for x in tokens if x.type == "inline"][2:]  # after the title and the info line
    for text, inline in zip(NASTY, inlines):
        assert _inline_text(inline.children) == text
    assert _inline_text(inlines[len(NASTY)].children) == "line one\nindented code?\n2) second"
    marker = inlines[-1].children
    assert [x.type for x in marker] == ["em_open", "text", "em_close"]
    assert marker[1].content == "audio lost 00:00:30–00:00:31: lost *audio*"


def test_md_header_timestamps_and_speakers():
    t = sample_transcript()
    doc = render(t, "md")
    lines = doc.splitlines()
    assert lines[0] == "# Captions — 2023-11-14"
    assert re.fullmatch(r"2023-11-1\d \d\d:\d\d · 1:4\d · assemblyai universal-streaming-english", lines[2])
    assert f"`00:00:01` **A:** {TURN_TEXTS[0]}" in lines
    assert "*paused 00:00:39–00:01:07*" in lines
    tokens = MarkdownIt("commonmark").parse(doc)
    strong = [c.content for x in tokens if x.type == "inline" for c in x.children or [] if c.type == "text"]
    assert "B:" in strong and "A:" in strong


def _write_srt(t: Transcript, directory: Path) -> Path:
    return write_export(t, directory / "captions.srt")


def test_srt_parses_and_matches_the_cues(tmp_path):
    t = stress_transcript()
    path = _write_srt(t, tmp_path)
    text = path.read_text()
    assert text.startswith("1\n03:25:")
    assert re.search(r"^03:25:\d\d,\d{3} --> 03:25:\d\d,\d{3}$", text, re.M)
    subs = list(srt.parse(text))
    cues = build_cues(t.turns)
    assert [s.index for s in subs] == list(range(1, len(cues) + 1))
    for sub, cue in zip(subs, cues):
        assert sub.start.total_seconds() * 1000 == pytest.approx(cue.start_ms)
        assert sub.end.total_seconds() * 1000 == pytest.approx(cue.end_ms)
        assert sub.content == cue.text


def test_vtt_parses_with_voices_and_escapes(tmp_path):
    t = sample_transcript()
    t.add(make_turn(9, "Fish & chips <for> two --> now.", 200_000, random.Random(1), speaker="C & D"))
    path = write_export(t, tmp_path / "captions.vtt")
    text = path.read_text()
    assert text.startswith("WEBVTT\n\n00:00:01.200 --> ")
    captions = webvtt.read(str(path))
    cues = build_cues(t.turns)
    assert len(captions) == len(cues)
    for cap, cue in zip(captions, cues):
        assert cap.start_in_seconds * 1000 + int(cap.start[-3:]) == cue.start_ms
        assert cap.end_in_seconds * 1000 + int(cap.end[-3:]) == cue.end_ms
        assert html.unescape(re.sub(r"^<v [^>]*>", "", cap.raw_text)) == cue.text
        assert cap.voice == html.escape(cue.speaker, quote=False)
    assert "Fish &amp; chips &lt;for&gt; two --&gt; now." in text


def test_timestamp_formats():
    assert cue_time(0, ",") == "00:00:00,000"
    assert cue_time(3 * HOUR + 25 * 60_000 + 7_089, ",") == "03:25:07,089"
    assert cue_time(HOUR - 1, ".") == "00:59:59.999"
    assert cue_time(100 * HOUR + 5, ".") == "100:00:00.005"
    assert clock(59_999) == "00:00:59" and clock(-5) == "00:00:00"


def test_journal_to_every_format(tmp_path):
    original = sample_transcript()
    j = Journal.create(tmp_path / "sessions", original.info)
    for e in original.entries:
        j.append(e)
    j.close(audio_duration_s=104.0, session_duration_s=111.5)
    t = read_journal(j.path)
    original.footer = {"audio_duration_s": 104.0, "session_duration_s": 111.5, "turns": 4}
    for fmt in FORMATS:
        assert write_export(t, tmp_path / f"out.{fmt}").read_text() == render(original, fmt), fmt
    doc = json.loads((tmp_path / "out.json").read_text())
    assert set(doc) == {"session", "speakers", "turns", "markers", "footer"}
    assert [x["text"] for x in doc["turns"]] == TURN_TEXTS
    assert [m["kind"] for m in doc["markers"]] == ["pause", "reconnect"]
    assert doc["footer"]["session_duration_s"] == 111.5 and doc["session"]["id"] == "a1b2c3d4e5f6"
    assert len(list(srt.parse((tmp_path / "out.srt").read_text()))) == len(build_cues(t.turns))


def test_empty_transcript_in_every_format(tmp_path):
    t = Transcript(info())
    assert render(t, "srt") == "" and list(srt.parse(render(t, "srt"))) == []
    assert render(t, "vtt") == "WEBVTT\n"
    assert len(webvtt.read(str(write_export(t, tmp_path / "e.vtt")))) == 0
    assert json.loads(render(t, "json"))["turns"] == []
    assert render(t, "md").startswith("# Captions — ")


def test_formats_from_paths_and_names():
    assert [format_for_path(Path(f"x.{f}")) for f in FORMATS] == list(FORMATS)
    assert format_for_path(Path("Notes.MARKDOWN")) == "md"
    with pytest.raises(ValueError, match=r"\.txt, \.md, \.srt, \.vtt, \.json"):
        format_for_path(Path("captions.docx"))
    with pytest.raises(ValueError, match="unknown export format 'pdf'"):
        render(Transcript(info()), "pdf")


# ------------------------------------------------------------------ atomic writes


def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_write_replaces_atomically_and_keeps_the_mode(tmp_path):
    target = tmp_path / "talk.txt"
    target.write_text("old")
    target.chmod(0o640)
    write_export(sample_transcript(), target)
    assert target.read_text() == render(sample_transcript(), "txt")
    assert target.stat().st_mode & 0o777 == 0o640
    assert _leftovers(tmp_path) == []


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ExportError, match=r"^cannot write .*/nope/x\.srt: folder .*/nope does not exist$"):
        write_export(sample_transcript(), tmp_path / "nope" / "x.srt")


def test_target_is_a_folder(tmp_path):
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        write_export(sample_transcript(), tmp_path / "dir.txt")


@contextlib.contextmanager
def unprivileged():
    """Act as 'nobody' when running as root, so permission bits apply."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def test_read_only_folder_leaves_the_old_file_untouched():
    base = Path(tempfile.mkdtemp(prefix="captioner-ro-"))  # traversable by 'nobody', unlike tmp_path
    try:
        base.chmod(0o755)
        ro = base / "ro"
        ro.mkdir()
        old = ro / "talk.md"
        old.write_text("old transcript")
        ro.chmod(0o555)
        with unprivileged():
            assert not os.access(ro, os.W_OK, effective_ids=True)
            with pytest.raises(ExportError, match=r"^cannot write .*talk\.md: permission denied in .*ro$"):
                write_export(sample_transcript(), old)
        assert old.read_text() == "old transcript"
        assert _leftovers(ro) == []
    finally:
        (base / "ro").chmod(0o755)
        shutil.rmtree(base)
