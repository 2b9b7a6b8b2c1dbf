"""Property tests: the v3 message parser never raises, and turn assembly keeps its invariants.

parse_server_message gets arbitrary text, JSON values, binary frames, huge and deeply nested
frames, and valid messages mutated field by field; it must always return a message object.
Whatever it returns as a Turn must then be safe for the client's TurnAssembler.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.stream import protocol as p
from tui.core.stream import assembly as turns_module
from tui.core.stream.protocol import Malformed, Turn, Word, parse_server_message
from tui.core.stream.timeline import SessionClock
from tui.core.stream.assembly import FORMAT_GRACE_S, TurnAssembler

MESSAGE_TYPES = (p.Begin, p.Turn, p.Termination, p.ServerError, p.SpeechStarted, p.Warning,
                 p.SpeakerRevision, p.Heartbeat, p.Other, p.Malformed)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Raw:
    """JSON text spliced in as is: things json.dumps will not write (5000-digit ints, deep nests)."""

    text: str


def dump(value) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dump(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return json.dumps(value)  # NaN and Infinity come out as the non-standard tokens json reads


def nest(depth: int, leaf: str = "0") -> Raw:
    return Raw("[" * depth + leaf + "]" * depth)


RAW_JUNK = st.sampled_from([
    Raw("9" * 5000),  # beyond Python's int-from-string limit
    Raw("-" + "9" * 4000),
    Raw("1e999"), Raw("-1e999"), Raw("NaN"), Raw("Infinity"), Raw("-Infinity"),
    Raw('"\\ud800"'),  # a lone surrogate
    Raw('{"a":' * 300 + "1" + "}" * 300),
    nest(50), nest(900), nest(5000), nest(200_000),
])
SCALARS = (st.none() | st.booleans()
           | st.integers(min_value=-(2**64), max_value=2**64)
           | st.integers(min_value=-(10**300), max_value=10**300)
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=30))
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
JUNK = JSON_VALUES | RAW_JUNK


def check_message(msg) -> None:
    """The parser's result is a message whose fields have the types the client relies on."""
    assert isinstance(msg, MESSAGE_TYPES), repr(msg)[:200]
    if isinstance(msg, Malformed):
        assert isinstance(msg.reason, str) and msg.reason
    elif isinstance(msg, Turn):
        assert type(msg.turn_order) is int and abs(msg.turn_order) <= p.MAX_WIRE_INT
        assert type(msg.end_of_turn) is bool and type(msg.turn_is_formatted) is bool
        assert isinstance(msg.transcript, str) and isinstance(msg.utterance, str)
        assert isinstance(msg.end_of_turn_confidence, float)
        for w in msg.words:
            assert isinstance(w, Word) and isinstance(w.text, str) and type(w.word_is_final) is bool
            assert type(w.start) is int and type(w.end) is int
            assert abs(w.start) <= p.MAX_WIRE_INT and abs(w.end) <= p.MAX_WIRE_INT
            assert isinstance(w.confidence, float)
    elif isinstance(msg, p.Begin):
        assert isinstance(msg.id, str) and type(msg.expires_at) is int
        assert isinstance(msg.configuration, dict)
    elif isinstance(msg, p.Termination):
        assert type(msg.audio_duration_seconds) is int and type(msg.session_duration_seconds) is int
    elif isinstance(msg, p.ServerError):
        assert isinstance(msg.error, str)
        assert msg.error_code is None or type(msg.error_code) is int


def assemble(msg) -> None:
    """Feed a parsed Turn to a TurnAssembler whose clock has segments, as the client does."""
    if not isinstance(msg, Turn):
        return
    clock = SessionClock()
    clock.add(0.0, 500.0)
    clock.add(10_000.0, 500.0)  # a jump: two segments
    finals = []
    for fmt in (False, True):
        asm = TurnAssembler(clock, fmt, lambda: len(finals), lambda words: None, finals.append)
        asm.feed(msg)
        asm.flush()
    for turn in finals:
        json.dumps([turn.start_ms, turn.end_ms, turn.text, [w.start_ms for w in turn.words]])


def parse_checked(frame):
    msg = parse_server_message(frame)
    check_message(msg)
    assemble(msg)
    return msg


# ------------------------------------------------------------- arbitrary input


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text):
    parse_checked(text)


@FUZZ
@given(JSON_VALUES)
def test_arbitrary_json_values_never_raise(value):
    msg = parse_checked(dump(value))
    if not isinstance(value, dict):
        assert isinstance(msg, Malformed)


@FUZZ
@given(st.binary(max_size=300))
def test_binary_frames_are_malformed(data):
    assert isinstance(parse_checked(data), Malformed)
    assert isinstance(parse_checked(bytearray(data)), Malformed)
    assert isinstance(parse_checked(memoryview(data)), Malformed)


def test_huge_frames():
    word = {"start": 0, "end": 80, "text": "x" * 40, "confidence": 0.9, "word_is_final": True}
    turn = {"turn_order": 0, "turn_is_formatted": False, "end_of_turn": True, "transcript": "x",
            "end_of_turn_confidence": 0.5, "words": [], "utterance": "", "type": "Turn"}
    fits = dict(turn, words=[word] * 8000)  # about 0.95 MB: a long turn, still a message
    assert len(json.dumps(fits)) < p.MAX_MESSAGE_BYTES
    assert len(parse_checked(json.dumps(fits)).words) == 8000
    too_big = dict(turn, words=[word] * 12000)
    msg = parse_checked(json.dumps(too_big))
    assert isinstance(msg, Malformed) and "too large" in msg.reason
    assert isinstance(parse_checked("x" * (8 << 20)), Malformed)
    assert isinstance(parse_checked(b"\0" * (8 << 20)), Malformed)


@pytest.mark.parametrize("template", [
    "{}", '{"type":%s}', '{"error":%s}', '{"type":"Error","error":%s}', '{"type":"Turn","turn_order":%s}',
    '{"type":"Turn","turn_order":0,"words":%s}', '{"type":"Turn","turn_order":0,"words":[%s]}',
    '{"type":"Begin","id":%s,"expires_at":1}', '{"type":"Begin","id":"x","expires_at":1,"configuration":%s}',
    '{"type":"Heartbeat","data":%s}', '{"type":"Warning","warning":%s}',
])
def test_nesting_around_the_recursion_limit(template):
    # json.loads succeeds just below the limit; anything that walks the value again from a
    # deeper stack (json.dumps, repr) must not turn that into a crash.
    limit = sys.getrecursionlimit()
    for depth in (*range(limit - 120, limit + 5), 10 * limit):
        frame = nest(depth).text if template == "{}" else template % nest(depth).text
        parse_checked(frame)


# ------------------------------------------------------------- mutated valid messages


WORD = st.fixed_dictionaries({
    "start": st.integers(0, 10**7), "end": st.integers(0, 10**7), "text": st.text(max_size=10),
    "confidence": st.floats(0, 1), "word_is_final": st.booleans(),
})
VALID = st.one_of(
    st.fixed_dictionaries({"type": st.just("Begin"), "id": st.uuids().map(str),
                           "expires_at": st.integers(0, 2**40)},
                          optional={"configuration": st.dictionaries(
                              st.text(max_size=8), st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                              min_size=1, max_size=4)}),
    st.fixed_dictionaries({
        "turn_order": st.integers(0, 10**6), "turn_is_formatted": st.booleans(), "end_of_turn": st.booleans(),
        "transcript": st.text(max_size=40), "end_of_turn_confidence": st.floats(0, 1),
        "words": st.lists(WORD, max_size=6), "utterance": st.text(max_size=20), "type": st.just("Turn"),
    }, optional={"language_code": st.sampled_from(["en", "de"]), "language_confidence": st.floats(0, 1),
                 "speaker_label": st.sampled_from(["A", "B", "UNKNOWN"])}),
    st.fixed_dictionaries({"type": st.just("Termination"), "audio_duration_seconds": st.integers(0, 10**6),
                           "session_duration_seconds": st.integers(0, 10**6)}),
    st.fixed_dictionaries({"type": st.just("Error"), "error_code": st.sampled_from(sorted(p.CLOSE_ADVICE)),
                           "error": st.text(max_size=40)}),
    st.fixed_dictionaries({"error": st.text(max_size=40)}),
    st.fixed_dictionaries({"type": st.just("SpeechStarted"), "timestamp": st.integers(0, 10**7),
                           "confidence": st.floats(0, 1)}),
    st.fixed_dictionaries({"type": st.just("Warning"), "warning_code": st.integers(0, 9999),
                           "warning": st.text(max_size=20)}),
    st.fixed_dictionaries({"type": st.sampled_from(["Heartbeat", "Silence", "SpeakerRevision"]),
                           "start_ms": st.integers(0, 10**6)}),
)
KIND = {"Begin": p.Begin, "Turn": p.Turn, "Termination": p.Termination, "Error": p.ServerError,
        None: p.ServerError, "SpeechStarted": p.SpeechStarted, "Warning": p.Warning,
        "Heartbeat": p.Heartbeat, "SpeakerRevision": p.SpeakerRevision}


def test_valid_messages_parse_to_their_type():
    @FUZZ
    @given(VALID)
    def check(d):
        msg = parse_checked(json.dumps(d))
        assert isinstance(msg, KIND.get(d.get("type"), p.Other)), (d, msg)
        if isinstance(msg, (p.Begin, p.Turn, p.Termination)):
            assert msg.to_dict() == d  # nothing lost or changed on the way in
        if isinstance(msg, p.Turn):  # wire key order, type last
            keys = list(msg.to_dict())
            assert keys[:7] == ["turn_order", "turn_is_formatted", "end_of_turn", "transcript",
                                "end_of_turn_confidence", "words", "utterance"] and keys[-1] == "type"

    check()


@st.composite
def mutated(draw):
    """A valid message with a few fields deleted, retyped or replaced by junk (also in words)."""
    d = draw(VALID)
    for _ in range(draw(st.integers(1, 4))):
        target = d
        if isinstance(d.get("words"), list) and d["words"] and draw(st.booleans()):
            target = d["words"][draw(st.integers(0, len(d["words"]) - 1))]
            if not isinstance(target, dict):
                continue
        keys = sorted(target) + ["type", "extra"]
        key = draw(st.sampled_from(keys))
        action = draw(st.sampled_from(["delete", "junk", "retype", "nan", "huge", "deep"]))
        if action == "delete":
            target.pop(key, None)
        elif action == "junk":
            target[key] = draw(JUNK)
        elif action == "retype":
            old = target.get(key)
            target[key] = [old] if draw(st.booleans()) else {"v": old} if draw(st.booleans()) else str(old)
        elif action == "nan":
            target[key] = draw(st.sampled_from([math.nan, math.inf, -math.inf, Raw("NaN"), Raw("1e999")]))
        elif action == "huge":
            target[key] = draw(st.sampled_from([2**53 + 1, -(2**63), 10**300, Raw("9" * 5000), 1e308]))
        else:
            target[key] = nest(draw(st.sampled_from([10, 500, 990, 5000])))
    return d


@FUZZ
@given(mutated())
def test_mutated_messages_never_raise(d):
    parse_checked(dump(d))


@FUZZ
@given(mutated(), st.integers(0, 200), st.sampled_from(["", " ", "\n", "x", "}", "\0"]))
def test_truncated_and_padded_messages_never_raise(d, cut, pad):
    text = dump(d)
    parse_checked(text[: max(0, len(text) - cut)])
    parse_checked(text + pad)
    parse_checked(pad + text)


def test_out_of_range_numbers_are_malformed_not_crashes():
    base = {"turn_order": 0, "turn_is_formatted": False, "end_of_turn": True, "transcript": "hi",
            "end_of_turn_confidence": 0.5, "utterance": "", "type": "Turn"}
    for bad in ("1e999", "NaN", "Infinity", "9" * 5000, str(10**300), str(2**53 + 1)):
        word = '{"start":%s,"end":80,"text":"hi","confidence":0.9,"word_is_final":true}' % bad
        frame = json.dumps(base)[:-1] + ',"words":[' + word + "]}"
        assert isinstance(parse_checked(frame), Malformed), bad
        frame = json.dumps(dict(base, words=[]))[:-1] + ',"turn_order":' + bad + "}"
        assert isinstance(parse_checked(frame), Malformed), bad
    msg = parse_checked('{"type":"Error","error_code":3005,"error":' + nest(sys.getrecursionlimit() - 5).text + "}")
    assert isinstance(msg, (p.ServerError, Malformed))


# --------------------------------------------------------------- turn assembly


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_700_000_000.0 + self.now


def turn_msg(order: int, eot: bool, formatted: bool, n_words: int, with_transcript: bool, final_words: bool):
    words = [Word(start=100 * i + order * 10_000, end=100 * i + 80 + order * 10_000, text=f"T{order}w{i}",
                  confidence=0.9, word_is_final=final_words or i < n_words - 1) for i in range(n_words)]
    transcript = f"T{order} " + " ".join(w.text for w in words) if with_transcript else ""
    return Turn(order, eot, formatted, transcript, words)


ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("turn"), st.integers(0, 6), st.booleans(), st.booleans(), st.integers(0, 4),
                  st.booleans(), st.booleans()),
        st.tuples(st.just("tick"), st.floats(0, 2 * FORMAT_GRACE_S)),
    ),
    max_size=40,
)


@FUZZ
@given(ACTIONS, st.booleans())
def test_turn_assembler_invariants(actions, format_turns):
    fake = FakeTime()
    original = turns_module.time
    turns_module.time = fake
    try:
        clock = SessionClock()
        clock.add(0.0, 1e6)
        counter = iter(range(10**6))
        finals, partials = [], []
        asm = TurnAssembler(clock, format_turns, lambda: next(counter), partials.append, finals.append)
        ended: dict[int, bool] = {}  # turn_order -> every end_of_turn message had text
        for action in actions:
            if action[0] == "tick":
                fake.now += action[1]
                asm.tick()
                continue
            _, order, eot, formatted, n_words, with_transcript, final_words = action
            msg = turn_msg(order, eot, formatted, n_words, with_transcript, final_words)
            if eot:
                has_text = bool(msg.transcript.strip() or msg.words)
                ended[order] = ended.get(order, True) and has_text
            asm.feed(msg)
        asm.flush()
    finally:
        turns_module.time = original
    orders = [int(f.text.split()[0][1:].split("w")[0]) for f in finals]
    assert len(orders) == len(set(orders)), f"a turn_order finalized twice: {orders}"
    assert [f.index for f in finals] == list(range(len(finals)))
    assert set(orders) <= set(ended), "a final for a turn that never ended"
    for order, all_had_text in ended.items():
        if all_had_text:
            assert order in orders, f"turn {order} ended with text but was never finalized"
    for f in finals:
        assert f.text.strip()
        assert all(w.start_ms <= w.end_ms for w in f.words)
        if f.words:
            assert (f.start_ms, f.end_ms) == (f.words[0].start_ms, f.words[-1].end_ms)
    assert asm.open_turn is False or any(not a[2] and a[4] for a in actions if a[0] == "turn")
