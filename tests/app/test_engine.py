"""The embedded offline engine (Moonshine tiny-en via sherpa-onnx + Silero VAD) on real speech."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pytest
import soundfile as sf
import soxr

from tui.server.endpointing import TurnDetector
from tui.server.moonshine import MoonshineEngine, MoonshineRecognizer
from tui.server.wer import wer
from tui.server.recognizer import HeardWord, Hypothesis
from tui.server.sherpa_models import ModelError, builtin_model_dir
import paths

DATA = paths.DATA
FIXTURES = sorted(p.stem for p in DATA.glob("*.wav"))
CHUNK_MS = 50
TURN_SILENCE_MS = 1280  # the simple end-of-turn rule of these tests: max_turn_silence, the default
@dataclass
class Run:
    """What a recognizer said while a fixture was fed: (audio ms, Hypothesis or final words)."""

    events: list[tuple[int, object]] = field(default_factory=list)

    @property
    def finals(self) -> list[list[HeardWord]]:
        return [e for _, e in self.events if isinstance(e, list) and e]

    @property
    def text(self) -> str:
        return " ".join(w.text for turn in self.finals for w in turn)


def load_pcm(name: str, rate: int = 16000) -> bytes:
    audio, sr = sf.read(DATA / f"{name}.wav", dtype="float32")
    if rate != sr:
        audio = soxr.resample(audio, sr, rate)
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def feed(
    rec, pcm: bytes, rate: int = 16000, tail_ms: int = 1600,
    turn_silence: int | None = TURN_SILENCE_MS,
) -> Run:
    """Feed in 50 ms chunks (plus trailing silence); finalize after `turn_silence` of silence.

    The tail outlasts TURN_SILENCE_MS, so the last turn too ends by silence, not by the end of
    the input (jfk ends in a crowd noise that the VAD hears as 96 ms of speech at 10.9 s)."""
    pcm += bytes(2 * rate * tail_ms // 1000)
    step, run, last = 2 * rate * CHUNK_MS // 1000, Run(), None
    for i in range(0, len(pcm), step):
        now = (i + step) * 1000 // (2 * rate)
        hyp = rec.accept(pcm[i : i + step])
        if hyp is not None:
            run.events.append((now, hyp))
            last = hyp
        if (turn_silence and last and last.words and last.speech_end_ms is not None
                and now - last.speech_end_ms >= turn_silence):
            run.events.append((now, rec.finalize()))
            last = None
    run.events.append((len(pcm) * 1000 // (2 * rate), rec.finalize()))
    return run


def feed_as_server(rec, pcm: bytes, tail_ms: int = 1500) -> list[tuple[int, list[HeardWord]]]:
    """Feed 50 ms chunks through the server's own turn detector with the default parameters,
    as a session does (connection.Session._step); return (audio ms, words) of each final."""
    pcm += bytes(32 * tail_ms)
    detector, finals = TurnDetector(), []
    for i in range(0, len(pcm), 1600):
        detector.observe(rec.accept(pcm[i : i + 1600]))
        if detector.due((i + 1600) // 32):
            finals.append(((i + 1600) // 32, words := rec.finalize()))
            detector.finish(words)
    return finals


def text_of(words: list[HeardWord]) -> str:
    return " ".join(w.text for w in words)


@pytest.fixture(scope="module")
def engine() -> MoonshineEngine:
    return MoonshineEngine(threads=1)


@pytest.fixture(scope="module")
def runs(engine) -> dict[str, Run]:
    return {name: feed(engine.new_recognizer(16000), load_pcm(name)) for name in FIXTURES}


def test_engine_identity(engine):
    assert (engine.name, engine.model) == ("moonshine", "moonshine-tiny-en")


def test_unknown_option_is_refused():
    with pytest.raises(TypeError, match="partial_sec"):
        MoonshineEngine(partial_sec=1)


@pytest.mark.parametrize("name", FIXTURES)
def test_word_error_rate(runs, name):
    ref = (DATA / f"{name}.txt").read_text()
    assert wer(ref, runs[name].text) <= 0.15, runs[name].text


@pytest.mark.parametrize("name", FIXTURES)
def test_finals_are_formatted(runs, name):
    for turn in runs[name].finals:
        assert turn[0].text[0].isupper(), turn
    assert re.search(r"[.,?!]$", runs[name].text), runs[name].text


@pytest.mark.parametrize("name", FIXTURES)
def test_word_times_monotonic_and_inside_audio(runs, name):
    duration = sf.info(DATA / f"{name}.wav").duration * 1000
    words = [w for turn in runs[name].finals for w in turn]
    for a, b in zip(words, words[1:]):
        assert a.start <= a.end <= b.start <= b.end, (a, b)
    assert 0 <= words[0].start and words[-1].end <= duration


def test_partials_arrive_before_the_final(runs):
    first_final = next(i for i, (_, e) in enumerate(runs["jfk"].events) if isinstance(e, list))
    partials = [e for _, e in runs["jfk"].events[:first_final] if isinstance(e, Hypothesis) and e.words]
    assert len(partials) >= 2
    # Partials come while speech goes on, not only when it has ended.
    assert any(p.speech_end_ms is None for p in partials)


@pytest.mark.parametrize("name", FIXTURES)
def test_speech_end_reported_after_speech(runs, name):
    """Every turn ended by silence, measured from a speech end at its last word's end."""
    events = runs[name].events
    for k, (now, e) in enumerate(events):
        if isinstance(e, list) and e:
            hyp = next(h for _, h in reversed(events[:k]) if isinstance(h, Hypothesis))
            assert hyp.speech_end_ms is not None
            assert e[-1].start < hyp.speech_end_ms <= now - TURN_SILENCE_MS
            assert abs(hyp.speech_end_ms - e[-1].end) <= 300


def test_speech_resuming_clears_speech_end(runs):
    """jfk has pauses: after a reported speech end, new speech sends speech_end_ms=None again."""
    hyps = [e for _, e in runs["jfk"].events if isinstance(e, Hypothesis)]
    ended = [i for i, h in enumerate(hyps) if h.speech_end_ms is not None]
    assert ended and any(h.speech_end_ms is None for h in hyps[ended[0] + 1 :])


def pause_until_sure(run: Run) -> list[int]:
    """Per turn: ms of its closing pause until a hypothesis says it is over (eot_confidence
    above the default threshold, 0.4): when the default rules could end it."""
    out, sure = [], None
    for now, e in run.events:
        if isinstance(e, Hypothesis) and e.speech_end_ms is not None and e.eot_confidence > 0.4:
            sure = sure if sure is not None else now - e.speech_end_ms
        elif isinstance(e, Hypothesis):
            sure = None  # speech went on, or the words changed back to unfinished
        elif e:
            out.append(sure)
            sure = None
    return out


@pytest.mark.parametrize("name", FIXTURES)
def test_every_turn_sounds_over_well_within_a_second_of_its_pause(runs, name):
    """ls_0890 ends "ill-disposed," when speech ends; once the pause has been heard it must
    not wait for max_turn_silence (1280 ms), so the final comes under 1 s after speech."""
    waits = pause_until_sure(runs[name])
    assert waits and all(w is not None and w <= 700 for w in waits), waits


def test_a_turn_longer_than_soft_max_still_hears_its_closing_pause(engine):
    rec = MoonshineRecognizer(engine, 16000, soft_max_ms=1500)  # ls_0890 is 5 s of speech
    waits = pause_until_sure(feed(rec, load_pcm("ls_0890")))
    assert waits and all(w is not None and w <= 700 for w in waits), waits


def test_long_segment_closes_at_a_pause_and_its_words_stay_stable(engine):
    rec = MoonshineRecognizer(engine, 16000, soft_max_ms=1500)  # close at the first pause after 1.5 s
    pcm = load_pcm("goforward") + bytes(2 * 16000 * 3 // 10) + load_pcm("ls_0880")
    run = feed(rec, pcm, turn_silence=None)
    hyps = [e for _, e in run.events if isinstance(e, Hypothesis)]
    stable = [h for h in hyps if h.stable]
    assert stable, "no segment was closed"
    first = [w.text for w in stable[0].words[: stable[0].stable]]
    assert all([w.text for w in h.words[: len(first)]] == first for h in stable)
    assert [w.text for w in run.finals[0][: len(first)]] == first
    ref = "go forward ten meters " + (DATA / "ls_0880.txt").read_text()
    assert wer(ref, run.text) <= 0.15, run.text


def test_other_sample_rates_are_resampled(engine):
    run = feed(engine.new_recognizer(48000), load_pcm("goforward", 48000), rate=48000)
    assert wer((DATA / "goforward.txt").read_text(), run.text) <= 0.15, run.text
    assert run.finals[-1][-1].end <= 2787


def test_user_model_dir_loads_after_a_probe(tmp_path):
    for f in builtin_model_dir().iterdir():
        (tmp_path / f.name).symlink_to(f)
    engine = MoonshineEngine(model_dir=str(tmp_path))
    assert engine.model == f"sherpa-onnx:{tmp_path.name}"
    run = feed(engine.new_recognizer(16000), load_pcm("goforward"))
    assert wer((DATA / "goforward.txt").read_text(), run.text) <= 0.15, run.text


def test_malformed_model_dir_raises_and_spares_the_process(tmp_path):
    for name in ("encoder_model.ort", "decoder_model_merged.ort"):
        (tmp_path / name).write_bytes(b"\0\0\0\0ORTM" + b"garbage" * 10)
    (tmp_path / "tokenizer.bin").write_bytes((builtin_model_dir() / "tokenizer.bin").read_bytes())
    with pytest.raises(ModelError, match="could not load"):
        MoonshineEngine(model_dir=str(tmp_path))
    with pytest.raises(ModelError, match="expected a sherpa-onnx"):
        (tmp_path / "empty").mkdir()
        MoonshineEngine(model_dir=str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="not found"):
        MoonshineEngine(model_dir=str(tmp_path / "missing"))


def test_sessions_share_the_engine_from_threads(engine, runs):
    """Two sessions decoding at once on one engine hear what they hear alone."""
    from concurrent.futures import ThreadPoolExecutor

    names = ["jfk", "ls_0890"]
    with ThreadPoolExecutor(2) as pool:
        texts = list(pool.map(lambda n: feed(engine.new_recognizer(16000), load_pcm(n)).text, names))
    assert texts == [runs[n].text for n in names]


def test_a_short_phrase_and_the_speech_after_its_pause_are_one_turn(engine):
    """Kennedy pauses ~1 s after "Ask not": decoded alone it was the turn "As not."; now it
    waits for max_turn_silence, the speech after the pause joins it, and both decode together."""
    texts = [text_of(words) for _, words in feed_as_server(engine.new_recognizer(16000), load_pcm("jfk"))]
    assert texts[0] == "And so my fellow Americans."
    assert any(t.startswith("Ask not what your country can do for you") for t in texts), texts
    assert wer((DATA / "jfk.txt").read_text(), " ".join(texts)) == 0, texts


def test_a_turn_starting_just_after_the_last_one_ended_keeps_its_first_word(engine):
    """ls_0870 starts ~480 ms after "Go forward ten meters." ended: that turn ends (400 ms of
    silence after a period) just before the VAD hears "And", about 100 ms into the word (its
    onset is late). The pre-roll reaches back before that turn end, so "And" is kept."""
    audio = {n: sf.read(DATA / f"{n}.wav", dtype="int16")[0] for n in ("goforward", "ls_0870")}
    speech_end, onset = 2272, 352  # where the VAD puts them in each file
    gap = np.zeros(16 * (480 - 100 - onset), dtype=np.int16)  # onset 480 ms after speech_end
    pcm = np.concatenate([audio["goforward"][: 16 * (speech_end + 100)], gap, audio["ls_0870"]])
    finals = feed_as_server(engine.new_recognizer(16000), pcm.tobytes())
    (ended, first), (_, second) = finals
    assert text_of(first) == "Go forward ten meters."
    assert ended > second[0].start - 200  # the turn ended inside the next one's pre-roll
    assert second[0].text == "And", text_of(second)
    assert wer((DATA / "ls_0870.txt").read_text(), text_of(second)) <= 0.05, text_of(second)
