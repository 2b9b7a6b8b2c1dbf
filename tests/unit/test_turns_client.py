"""The client's turn assembly: finals keyed on end_of_turn, formatted copies supersede."""

from tui.core.stream.protocol import Turn, Word
from tui.core.stream.timeline import SessionClock
from tui.core.stream.assembly import TurnAssembler
from tui.core.stream import assembly as turns_mod


def words(*spec, final=True):
    return [Word(s, e, t, 0.9, final) for t, s, e in spec]


class Recorder:
    def __init__(self, format_turns=True, clock=None):
        self.partials, self.finals, self.n = [], [], 0
        self.clock = clock or SessionClock()
        self.asm = TurnAssembler(self.clock, format_turns, self.next, self.partials.append, self.finals.append)

    def next(self):
        self.n += 1
        return self.n - 1


def classic_turn(order, raw, formatted, offset=0):
    spec = [(w, offset + i * 300, offset + i * 300 + 200) for i, w in enumerate(raw.split())]
    fspec = [(w, s, e) for w, (_, s, e) in zip(formatted.split(), spec)]
    return [
        Turn(order, False, False, "", words(spec[0], final=False)),
        Turn(order, True, False, raw, words(*spec), 0.6, raw),
        Turn(order, True, True, formatted, words(*fspec), 0.6),
    ]


def test_formatted_final_supersedes_unformatted():
    r = Recorder()
    for msg in classic_turn(0, "hi my name is sonny", "Hi, my name is Sonny."):
        r.asm.feed(msg)
    assert [f.text for f in r.finals] == ["Hi, my name is Sonny."]
    assert [w.text for w in r.finals[0].words][-1] == "Sonny."
    assert r.partials[0][0].final is False  # the provisional word was shown provisionally


def test_in_model_formatting_single_final():
    r = Recorder()
    r.asm.feed(Turn(0, False, True, "", words(("Hi,", 0, 80), final=False)))
    r.asm.feed(Turn(0, True, True, "Hi, there.", words(("Hi,", 0, 80), ("there.", 100, 300))))
    assert [f.text for f in r.finals] == ["Hi, there."]


def test_without_format_turns_the_unformatted_final_is_final():
    r = Recorder(format_turns=False)
    r.asm.feed(Turn(0, True, False, "hello world", words(("hello", 0, 10), ("world", 20, 30))))
    assert [f.text for f in r.finals] == ["hello world"]


def test_held_final_released_by_next_turn_or_flush_or_grace(monkeypatch):
    r = Recorder()
    r.asm.feed(Turn(0, True, False, "one", words(("one", 0, 10))))
    assert r.finals == []
    r.asm.feed(Turn(1, False, False, "", words(("two", 500, 510), final=False)))
    assert [f.text for f in r.finals] == ["one"]
    r.asm.feed(Turn(1, True, False, "two", words(("two", 500, 510))))
    r.asm.flush()
    assert [f.text for f in r.finals] == ["one", "two"]
    r.asm.feed(Turn(2, True, False, "three", words(("three", 900, 910))))
    now = turns_mod.time.monotonic()
    monkeypatch.setattr(turns_mod.time, "monotonic", lambda: now + turns_mod.FORMAT_GRACE_S + 1)
    r.asm.tick()
    assert [f.text for f in r.finals][-1] == "three"


def test_each_turn_once_and_empty_finals_hidden():
    r = Recorder()
    for msg in classic_turn(0, "a b", "A b."):
        r.asm.feed(msg)
    r.asm.feed(Turn(0, True, True, "A b.", words(("A", 0, 1))))  # late duplicate
    r.asm.feed(Turn(1, True, False, "", []))  # empty final before Termination
    r.asm.flush()
    assert [f.text for f in r.finals] == ["A b."]
    assert [f.index for f in r.finals] == [0]


def test_times_are_mapped_onto_the_continuous_timeline():
    clock = SessionClock()
    clock.add(10_000, 1000)  # this session's audio starts at 10 s on the timeline
    clock.add(11_000, 1000)
    clock.add(20_000, 1000)  # a pause: the next audio is 9 s later on the timeline
    r = Recorder(format_turns=False, clock=clock)
    r.asm.feed(Turn(0, True, False, "x y", words(("x", 100, 200), ("y", 2100, 2300))))
    f = r.finals[0]
    assert (f.start_ms, f.end_ms) == (10_100, 20_300)
    assert r.asm.last_final_end_ms == 20_300


def test_open_turn_tracks_partials():
    r = Recorder()
    r.asm.feed(Turn(0, False, False, "", words(("x", 0, 10), final=False)))
    assert r.asm.open_turn
    r.asm.feed(Turn(0, True, True, "X.", words(("X.", 0, 10))))
    assert not r.asm.open_turn and r.partials[-1] == []
