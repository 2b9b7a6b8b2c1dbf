"""Two sources: echo detection, source names in exports and headless output, the call's
one turn numbering and its holding back of mic turns that may be echoes."""

from __future__ import annotations

import asyncio
import io
import json

import numpy as np
import pytest

from tui.call import CallSession, make_session
from tui.captioning import CaptionSession, RunOptions
from tui.config import load_settings
from tui.core.audio.pulse import Output, find_output, format_output_table
from tui.core.stream import events as ev
from tui.core.transcript.echo import EchoDetector, common_in_order, is_echo, time_overlap, words_of
from tui.core.transcript.exports import render
from tui.core.transcript.model import (FinalTurn, SessionInfo, TimedWord, Transcript, turn_from_dict,
                                       turn_to_dict)
from tui.core.transcript.speakers import speaker_name
from tui.headless import HeadlessPrinter


def turn(text: str, start: int, end: int, source: str | None = None, index: int = 0, **kw) -> FinalTurn:
    n = max(len(text.split()), 1)
    step = (end - start) // n
    words = [TimedWord(w, start + i * step, start + (i + 1) * step) for i, w in enumerate(text.split())]
    return FinalTurn(index, start, end, text, words, 1.7e9, source=source, **kw)


# ------------------------------------------------------------------ echo rules


def test_words_ignore_case_and_punctuation():
    assert words_of("Ask not, what YOUR country's...") == ["ask", "not", "what", "your", "country's"]


def test_common_words_in_order():
    assert common_in_order("a b c d".split(), "a x b c y".split()) == 3
    assert common_in_order([], ["a"]) == 0


def test_time_overlap_is_a_share_of_the_first_turn():
    assert time_overlap(turn("a", 0, 1000), turn("b", 500, 3000)) == 0.5
    assert time_overlap(turn("a", 0, 1000), turn("b", 2000, 3000)) == 0.0


@pytest.mark.parametrize("mic, system, echo", [
    (("And so my fellow Americans.", 3808, 5690), ("And so my fellow Americans.", 3776, 5627), True),
    (("and so my fellow", 100, 1000), ("And so, my fellow Americans!", 0, 1200), True),  # case, punctuation
    (("As not.", 6752, 7732), ("As not.", 6752, 7704), False),  # under 4 words: too short to judge
    (("and so my fellow Americans", 0, 1000), ("and so my fellow Americans", 600, 2000), False),  # 40 % overlap
    (("and so my dear fellow Americans", 0, 1000), ("and so my fellow Americans", 0, 1000), True),  # 5/6
    (("and so my dear old fellow Americans", 0, 1000), ("and so my fellow Americans", 0, 1000), False),  # 5/7
    (("what your country can do", 0, 1000), ("do can country your what", 0, 1000), False),  # order
])
def test_is_echo(mic, system, echo):
    assert is_echo(turn(*mic, source="mic"), turn(*system, source="system")) is echo


def test_a_mic_turn_that_repeats_two_system_turns_together_is_an_echo():
    detector = EchoDetector()
    detector.add_system(turn("As not.", 6752, 7704, "system", 2))
    detector.add_system(turn("What your country can do for you?", 7900, 11007, "system", 3))
    assert detector.echo_of(turn("Ask not what your country can do for you?", 6760, 11070, "mic", 4)) == 3
    assert detector.echo_of(turn("What is it that I can do for them?", 6760, 11070, "mic", 5)) is None


# --------------------------------------------------------------- names, exports


NAMES = {"mic": "You", "system": "Them"}


def test_speaker_name_combines_source_and_diarization():
    assert speaker_name(None, None, NAMES["mic"]) == "You"
    assert speaker_name("A", None, NAMES["system"]) == "Them · A"
    assert speaker_name("A", {"A": "Alice"}, NAMES["system"]) == "Them · Alice"  # a rename composes
    assert speaker_name("B") == "B"
    assert speaker_name(None, None, None) is None


def call_transcript() -> Transcript:
    info = SessionInfo("id", 1.7e9, "local", "m", "mic + system", "1", sources=dict(NAMES))
    return Transcript(info, [
        turn("the other side talks first", 0, 3000, "system", 0, speaker="A"),
        turn("the other side talks first", 50, 3000, "mic", 1, echo_of=0),
        turn("and then I reply", 2500, 3500, "mic", 2),
        turn("a short one", 1000, 2000, "system", 3),  # final after turn 2, but began before it
    ])


def test_exports_name_sources_hide_echoes_and_go_by_start_time():
    txt = render(call_transcript(), "txt", timestamps=False)
    assert txt.split("\n\n") == ["Them · A: the other side talks first", "Them: a short one",
                                 "You: and then I reply\n"]
    assert "<v You>and then I reply" in render(call_transcript(), "vtt")
    doc = json.loads(render(call_transcript(), "json"))
    assert [t["index"] for t in doc["turns"]] == [0, 3, 2]
    assert doc["session"]["sources"] == NAMES


def test_source_and_echo_round_trip_through_the_journal_form():
    t = turn("the other side talks first", 50, 3000, "mic", 1, echo_of=0)
    back = turn_from_dict(json.loads(json.dumps(turn_to_dict(t))))
    assert (back.source, back.echo_of) == ("mic", 0)
    assert "source" not in turn_to_dict(turn("x", 0, 1))


def test_plain_prefixes_the_source_name_and_jsonl_carries_the_source():
    out = io.StringIO()
    printer = HeadlessPrinter(jsonl=False, out=out)
    printer.names = NAMES
    printer(ev.TurnFinal(turn("hello there", 0, 1000, "system")))
    assert out.getvalue() == "Them: hello there\n"
    out = io.StringIO()
    HeadlessPrinter(jsonl=True, out=out)(ev.TurnFinal(turn("hello there", 0, 1000, "mic")))
    assert json.loads(out.getvalue())["source"] == "mic"


# ------------------------------------------------------------------ outputs


OUTPUTS = [Output("alsa_output.pci.analog-stereo", "Built-in Audio", "alsa_output.pci.analog-stereo.monitor", True),
           Output("bluez_sink.AA_BB", "WH-1000XM4 Headphones", "bluez_sink.AA_BB.monitor", False)]


def test_find_output_by_default_name_or_part_of_either():
    assert find_output(None, OUTPUTS) is OUTPUTS[0]
    assert find_output("headphones", OUTPUTS) is OUTPUTS[1]
    assert find_output("bluez_sink.AA_BB", OUTPUTS) is OUTPUTS[1]
    assert find_output("a", OUTPUTS) is None  # in both: ambiguous
    assert find_output("hdmi", OUTPUTS) is None


def test_output_table_marks_the_default():
    table = format_output_table(OUTPUTS).splitlines()
    assert table[1].startswith("*  Built-in Audio") and table[2].startswith("   WH-1000XM4 Headphones")
    assert "--system-audio" in table[-1]


# ------------------------------------------------------------------ the call


def settings(**values):
    s = load_settings(overrides={"service.engine": "local"})
    for k, v in values.items():
        s[k] = v
    return s


def test_make_session_picks_one_source_or_a_call(tmp_path):
    assert type(make_session(settings(), lambda e: None)) is CaptionSession
    call = make_session(settings(**{"audio.system_audio": "on"}), lambda e: None)
    assert isinstance(call, CallSession) and call.sources == [("mic", "You"), ("system", "Them")]
    alone = make_session(settings(), lambda e: None, RunOptions(input="system"))
    assert type(alone) is CaptionSession and alone.source_tag == "system"
    named = make_session(settings(**{"audio.system_audio": "Headphones"}), lambda e: None,
                         RunOptions(input="system"))
    assert named.options.input == "system:Headphones"


class Run:
    """A call whose legs' client events are fed by hand (no audio, no server)."""

    def __init__(self, tmp_path, **values) -> None:
        self.seen: list = []
        self.call = CallSession(settings(**{"audio.system_audio": "on", **values}), self.seen.append,
                                RunOptions(journal_dir=tmp_path))
        self.mic, self.system = self.call.legs

    def final(self, leg, text, start, end, index):
        leg.on_stream_event(ev.TurnFinal(FinalTurn(index, start, end, text, [], 1.7e9)))

    def shown(self) -> list[tuple[int, str, str]]:
        return [(e.turn.index, e.turn.source, e.turn.text) for e in self.seen if isinstance(e, ev.TurnFinal)]


async def test_turns_of_both_legs_get_one_numbering_and_a_source(tmp_path):
    run = Run(tmp_path)
    run.final(run.mic, "hello from me", 0, 900, 0)
    run.final(run.system, "hello from them", 1000, 2000, 0)
    run.final(run.system, "hello again from them", 1000, 2000, 0)  # the same turn, formatted
    run.final(run.mic, "me again now", 2000, 2500, 1)
    assert run.shown() == [(0, "mic", "hello from me"), (1, "system", "hello from them"),
                           (1, "system", "hello again from them"), (2, "mic", "me again now")]
    assert [t.text for t in run.call.transcript.turns] == ["hello from me", "hello again from them",
                                                          "me again now"]


async def test_an_echo_is_journaled_not_shown_even_when_it_is_final_first(tmp_path):
    run = Run(tmp_path)
    said = "ask not what your country can do for you"
    run.mic.on_stream_event(ev.PartialTurn([ev.LiveWord("x", 1, False)]))
    run.system.on_stream_event(ev.PartialTurn([ev.LiveWord("ask", 1, False)]))
    run.final(run.mic, said, 20, 3000, 0)  # the echo is final before the system turn it repeats
    assert run.shown() == []  # held: the system side is mid-turn
    run.final(run.system, said, 0, 3000, 0)
    run.final(run.mic, "that was me for real", 4000, 5000, 1)
    assert run.shown() == [(1, "system", said), (2, "mic", "that was me for real")]
    echoes = [t for t in run.call.transcript.turns if t.echo_of is not None]
    assert [(t.index, t.source, t.echo_of) for t in echoes] == [(0, "mic", 1)]
    lines = [json.loads(line) for line in run.call.journal.path.read_text().splitlines()]
    assert [line.get("echo_of") for line in lines if line.get("index") == 0] == [None, 1]


async def test_held_turn_that_is_no_echo_is_shown_when_the_wait_ends(tmp_path, monkeypatch):
    monkeypatch.setattr("tui.call.ECHO_WAIT_S", 0.01)
    run = Run(tmp_path)
    run.system.on_stream_event(ev.PartialTurn([ev.LiveWord("well", 1, False)]))
    run.final(run.mic, "sorry to interrupt you there", 0, 2000, 0)
    assert run.shown() == []
    await asyncio.sleep(0.05)
    assert run.shown() == [(0, "mic", "sorry to interrupt you there")]


async def test_a_mic_turn_said_while_the_system_audio_sounded_waits_for_its_turn(tmp_path):
    """The system's recognizer may lag: its partials have not come yet, but its audio had
    sound during the mic turn, so the mic turn is held until the system turn is final."""
    from tui.core.audio.source import Frame

    run = Run(tmp_path)
    loud, quiet = (np.full(800, 3000, "<i2").tobytes(), bytes(1600))
    for k in range(40):  # 2 s: loud from 1.0 s on
        run.call.system_sounded(Frame(loud if k >= 20 else quiet, k * 50.0, 0.0))
    said = "ask not what your country can do for you"
    run.final(run.mic, "hello I am early", 0, 900, 0)  # before the sound: shown at once
    run.final(run.mic, said, 1020, 3000, 1)
    assert run.shown() == [(0, "mic", "hello I am early")]
    run.final(run.system, said, 1000, 3000, 0)
    assert run.shown() == [(0, "mic", "hello I am early"), (2, "system", said)]


async def test_echo_suppression_off_shows_everything(tmp_path):
    run = Run(tmp_path, **{"audio.suppress_echo": False})
    said = "ask not what your country can do for you"
    run.final(run.system, said, 0, 3000, 0)
    run.final(run.mic, said, 20, 3000, 0)
    assert run.shown() == [(0, "system", said), (1, "mic", said)]
    assert all(t.echo_of is None for t in run.call.transcript.turns)


async def test_pause_and_resume_act_on_both_sources_and_say_so_once(tmp_path):
    run = Run(tmp_path)
    run.call.toggle_pause()
    assert run.mic.paused and run.system.paused and run.call.paused
    run.call.toggle_pause()
    assert not run.mic.paused and not run.system.paused
    states = [e.state for e in run.seen if isinstance(e, ev.StateChanged)]
    assert states == [ev.PAUSED, ev.CONNECTING]
    markers = [m.kind for m in run.call.transcript.markers]
    assert markers == ["pause"]  # one pause marker for the call, not one per source
