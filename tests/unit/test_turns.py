"""The turn detector: end-of-turn rules and the Turn messages it builds (reference 3.3)."""

from __future__ import annotations

import pytest

from tui.server.heard import eot_confidence
from tui.server.recognizer import HeardWord, Hypothesis
from tui.server.endpointing import CONFIDENT, UNSURE, TurnDetector, TurnSettings, estimate_confidence

HELLO = [HeardWord("Hello,", 100, 300, 0.91234567), HeardWord("world.", 350, 550, 0.8)]
OPEN = [HeardWord("Hello,", 100, 300), HeardWord("there", 350, 550)]


def hyp(words, stable=0, end=None, conf=None) -> Hypothesis:
    return Hypothesis(list(words), stable, end, conf)


def test_partial_is_normalized_and_only_final_words_in_transcript():
    det = TurnDetector()
    [turn] = det.observe(hyp(HELLO, stable=0))
    assert turn.turn_order == 0 and not turn.end_of_turn and not turn.turn_is_formatted
    assert [w.text for w in turn.words] == ["hello", "world"]
    assert [w.word_is_final for w in turn.words] == [True, False]  # all but the last
    assert turn.transcript == "hello"
    assert turn.utterance == ""
    assert turn.words[0].confidence == 0.912346
    assert (turn.words[0].start, turn.words[0].end) == (100, 300)


def test_stable_count_makes_the_last_word_final():
    [turn] = TurnDetector().observe(hyp(HELLO, stable=2))
    assert all(w.word_is_final for w in turn.words)
    assert turn.transcript == "hello world"


def test_words_that_normalize_to_nothing_are_dropped():
    words = [HeardWord("Well", 0, 200), HeardWord("—", 200, 250), HeardWord("OK!", 300, 500)]
    [turn] = TurnDetector().observe(hyp(words, stable=3))
    assert [w.text for w in turn.words] == ["well", "ok"]


def test_nothing_is_sent_for_silence_or_an_unchanged_hypothesis():
    det = TurnDetector()
    assert det.observe(None) == []
    assert det.observe(hyp([])) == []
    assert det.observe(hyp([HeardWord("...", 0, 100)])) == []
    assert len(det.observe(hyp(HELLO, 1))) == 1
    assert det.observe(hyp(HELLO, 1)) == []
    assert len(det.observe(hyp(HELLO, 2))) == 1


def test_estimated_confidence_follows_terminal_punctuation():
    assert estimate_confidence(HELLO) == CONFIDENT
    assert estimate_confidence(OPEN) == UNSURE
    assert estimate_confidence([HeardWord('"Really?"', 0, 100)]) == CONFIDENT
    assert estimate_confidence([]) == UNSURE
    [turn] = TurnDetector().observe(hyp(HELLO, conf=0.1234567))
    assert turn.end_of_turn_confidence == 0.123457  # the recognizer's own value wins


def test_confident_turn_ends_after_min_silence():
    det = TurnDetector(TurnSettings(min_turn_silence=400, max_turn_silence=1280))
    det.observe(hyp(HELLO, 2, end=550))
    assert not det.due(949)
    assert det.due(950)


def test_unsure_turn_waits_for_max_silence():
    det = TurnDetector(TurnSettings(min_turn_silence=400, max_turn_silence=1280))
    det.observe(hyp(OPEN, 2, end=550))
    assert not det.due(1000)
    assert not det.due(1829)
    assert det.due(1830)


def test_threshold_must_be_exceeded_not_met():
    det = TurnDetector(TurnSettings(end_of_turn_confidence_threshold=0.5, max_turn_silence=5000))
    det.observe(hyp(HELLO, 2, end=550, conf=0.5))
    assert not det.due(2000)
    det.observe(hyp(HELLO, 2, end=550, conf=0.51))
    assert det.due(2000)


def test_threshold_one_means_silence_only():
    det = TurnDetector(TurnSettings(end_of_turn_confidence_threshold=1.0, max_turn_silence=700))
    det.observe(hyp(HELLO, 2, end=550, conf=0.99))
    assert not det.due(1249)
    assert det.due(1250)


def test_no_end_while_speech_goes_on_or_too_little_speech():
    det = TurnDetector(TurnSettings(max_turn_silence=0))
    det.observe(hyp(HELLO, 2, end=None))
    assert not det.due(10_000)
    det.observe(hyp([HeardWord("Hi.", 100, 150)], 1, end=150))
    assert not det.due(10_000)  # 50 ms of speech is below the 80 ms minimum
    assert not TurnDetector().due(10_000)  # no words at all


def test_end_of_turn_then_formatted_copy_with_the_same_order():
    det = TurnDetector(TurnSettings(format_turns=True))
    det.observe(hyp(HELLO, 1))
    plain, formatted = det.finish(HELLO)
    assert plain.turn_order == formatted.turn_order == 0
    assert plain.end_of_turn and formatted.end_of_turn
    assert not plain.turn_is_formatted and formatted.turn_is_formatted
    assert plain.transcript == "hello world"
    assert plain.utterance == "Hello world"
    assert formatted.transcript == "Hello, world."
    assert formatted.utterance == ""
    assert [w.text for w in formatted.words] == ["Hello,", "world."]
    assert all(w.word_is_final for w in plain.words + formatted.words)
    assert [(w.start, w.end) for w in plain.words] == [(w.start, w.end) for w in formatted.words]
    assert plain.end_of_turn_confidence == formatted.end_of_turn_confidence == CONFIDENT
    [nxt] = det.observe(hyp(OPEN))
    assert nxt.turn_order == 1


def test_without_format_turns_there_is_one_final():
    det = TurnDetector()
    [final] = det.finish(OPEN)
    assert not final.turn_is_formatted and final.transcript == "hello there"
    assert final.end_of_turn_confidence == UNSURE
    assert det.turn_order == 1


def test_in_model_formatting_formats_every_turn_and_sends_one_final():
    det = TurnDetector(TurnSettings(format_turns=True, in_model_formatting=True))
    [partial] = det.observe(hyp(HELLO, 1))
    assert partial.turn_is_formatted and partial.transcript == "Hello,"
    assert [w.text for w in partial.words] == ["Hello,", "world."]
    [final] = det.finish(HELLO)
    assert final.turn_is_formatted and final.end_of_turn
    assert final.transcript == final.utterance == "Hello, world."


def test_an_empty_turn_sends_nothing_and_keeps_the_order():
    det = TurnDetector(TurnSettings(format_turns=True))
    assert det.finish([]) == []
    assert det.finish([HeardWord("—", 0, 100)]) == []
    assert det.turn_order == 0


def test_finish_resets_the_open_turn():
    det = TurnDetector()
    det.observe(hyp(HELLO, 2, end=550))
    det.finish(HELLO)
    assert not det.due(5000)
    # The same hypothesis again belongs to a new turn, so it is sent again.
    [again] = det.observe(hyp(HELLO, 2, end=550))
    assert again.turn_order == 1


@pytest.mark.parametrize("silence,expected", [(159, False), (160, True)])
def test_aggressive_preset(silence, expected):
    det = TurnDetector(TurnSettings(0.4, 160, 400))
    det.observe(hyp(HELLO, 2, end=550))
    assert det.due(550 + silence) is expected


# "He was not an ill-disposed young man," as Moonshine wrote it when speech ended.
COMMA = [HeardWord("He", 100, 250), HeardWord("was", 250, 400), HeardWord("man,", 400, 550)]


def test_a_long_pause_after_a_word_that_can_end_a_sentence_raises_the_confidence():
    assert eot_confidence(COMMA) < 0.4 < eot_confidence(COMMA, paused=True) < 0.7
    bare = COMMA[:-1] + [HeardWord("man", 400, 550)]
    assert eot_confidence(bare) < 0.4 < eot_confidence(bare, paused=True)
    assert eot_confidence(HELLO, paused=True) == eot_confidence(HELLO) > 0.7


@pytest.mark.parametrize("last", ["and", "the", "of", "to", "And,", "a", "well-"])
def test_a_word_that_needs_a_continuation_stays_unsure_after_any_pause(last):
    words = COMMA[:-1] + [HeardWord(last, 400, 550)]
    assert eot_confidence(words, paused=True) < 0.4


def test_a_short_phrase_waits_for_max_turn_silence_whatever_its_punctuation():
    """Moonshine writes "As not." for "Ask not" decoded alone; the pause before "what your
    country ..." (about 1 s) must not end the turn under the default rules."""
    ask_not = [HeardWord("As", 3296, 3520), HeardWord("not.", 3632, 4272)]
    for paused in (False, True):
        conf = eot_confidence(ask_not, paused=paused, short=True)
        assert conf < 0.4
        det = TurnDetector()
        det.observe(hyp(ask_not, 0, end=4384, conf=conf))
        assert not det.due(4384 + 1279) and det.due(4384 + 1280)
    assert eot_confidence(ask_not[:1] + [HeardWord("the", 3632, 4272)], short=True) < 0.3


@pytest.mark.parametrize("settings,ends_after", [
    (TurnSettings(), 400),  # Balanced, the default: confident enough
    (TurnSettings(0.4, 160, 400), 160),  # Aggressive
    (TurnSettings(0.7, 800, 3600), 3600),  # Conservative: not confident enough, silence only
    (TurnSettings(1.0, 400, 1280), 1280),  # silence only
])
def test_a_paused_open_sentence_under_the_presets(settings, ends_after):
    det = TurnDetector(settings)
    det.observe(hyp(COMMA, 2, end=550, conf=eot_confidence(COMMA, paused=True)))
    assert not det.due(550 + ends_after - 1)
    assert det.due(550 + ends_after)
