"""The embedded offline engine: Moonshine tiny-en through sherpa-onnx, segmented by Silero VAD.

Why this shape: Moonshine is not a streaming model, but it decodes ~30-100x faster than real
time on one core. So each recognizer keeps the audio of the open speech segment and re-decodes
all of it every `partial_ms` while speech goes on (a partial; once the segment is longer than
4 x partial_ms, every quarter of its length, so re-decoding does not cost the square of it),
and once more when the VAD says speech ended (so the final is ready before the server's turn
detector asks for it). If that decode does not end in a sentence end, the segment is decoded
once more after `settle_ms` of the pause: Moonshine punctuates the end of a sentence only once
it has heard part of the pause (at the VAD's end it may write "young man," and, a few hundred
ms later, "young man."). At 400 ms that decode is ready about when the server's 400 ms turn
rule looks (at 600 ms such a turn waited ~650 ms and more). The hypothesis sent then also
counts the pause in its eot_confidence (heard.eot_confidence), so a turn that ends without a
period is not held until max_turn_silence.
A segment that grows past `soft_max_ms` is closed when speech resumes after a pause (its words
become stable); one past `hard_max_ms` is cut where it stands, which bounds the cost of each
re-decode.

Onsets and short phrases (issue 18): a segment starts `preroll_ms` before the VAD's onset, even
when the previous turn ended inside that stretch (only the previous turn's speech, up to
`TAIL_GUARD_MS` after its end, is kept out), so a soft first consonant just after a quick
turn end is not cut. A turn of under `short_turn_ms` of speech ("Ask not") is decoded without
context, and Moonshine ends any short stretch with a period: such a turn is not taken as
complete (heard.SHORT), so it ends only after max_turn_silence, and speech resuming before
that ("… what your country can do for you") joins it and is decoded with it.
"""

from __future__ import annotations

import inspect
import threading

import numpy as np

from tui.server import sherpa_models
from tui.server.heard import SENTENCE_END, eot_confidence, spread_words
from tui.server.pcm import MODEL_RATE, PcmInput
from tui.server.recognizer import Engine, HeardWord, Hypothesis, Recognizer
from tui.server.vad import SpeechDetector


# Audio this long after the VAD's end of speech may still hold the last word's decay: the next
# turn's pre-roll starts after it. 100 ms let "for you." ring into "Ask what …", decoded as
# "And what …" in the live pipeline's layout (bench/engine_turns.py); 150-250 ms all read it
# right and keep every first word of the splice test (bench/RESULTS.md).
TAIL_GUARD_MS = 200


def _ms(samples: int) -> int:
    return samples * 1000 // MODEL_RATE


class MoonshineEngine(Engine):
    """Loads the model once per process; recognizers share it (decodes take turns)."""

    name = "moonshine"
    model = "moonshine-tiny-en"

    def __init__(self, threads: int = 1, model_dir: str | None = None, **options) -> None:
        self.threads = max(1, int(threads))
        unknown = set(options) - _TUNING
        if unknown:
            raise TypeError(f"unknown moonshine option(s): {', '.join(sorted(unknown))}")
        self.options = options  # recognizer tuning: partial_ms, soft_max_ms, hard_max_ms, ...
        self._lock = threading.Lock()  # one decode at a time keeps CPU use within `threads`
        if model_dir:
            files, self._rec = sherpa_models.load_user_model(model_dir, self.threads)
            self.kind, self.model = files.kind, f"sherpa-onnx:{files.directory.name}"
        else:
            builtin = sherpa_models.inspect_model_dir(sherpa_models.builtin_model_dir())
            self._rec, self.kind = sherpa_models.load(builtin, self.threads), builtin.kind

    def new_recognizer(self, sample_rate: int = 16000) -> Recognizer:
        if self.kind == "transducer":
            from tui.server.transducer import TransducerRecognizer

            return TransducerRecognizer(self._rec, self._lock, sample_rate)
        return MoonshineRecognizer(self, sample_rate, **self.options)

    def transcribe(self, samples: np.ndarray) -> str:
        """Text of one stretch of 16 kHz float audio (formatted: cased and punctuated)."""
        with self._lock:
            stream = self._rec.create_stream()
            stream.accept_waveform(MODEL_RATE, samples)
            self._rec.decode_stream(stream)
            return stream.result.text.strip()


class _Segment:
    """Audio of the open speech segment and the VAD speech runs inside it."""

    def __init__(self, start_ms: int, audio: np.ndarray) -> None:
        self.start_ms = start_ms
        self.chunks = [audio]
        self.runs: list[list[int | None]] = []
        self.words: list[HeardWord] = []
        self.dirty = True  # speech arrived since the last decode

    def audio(self) -> np.ndarray:
        if len(self.chunks) > 1:
            self.chunks = [np.concatenate(self.chunks)]
        return self.chunks[0]

    def span_ms(self, now_ms: int) -> int:
        return now_ms - self.start_ms


class MoonshineRecognizer(Recognizer):
    """One session's recognizer: VAD segmentation plus periodic re-decoding of the open segment."""

    def __init__(
        self,
        engine: MoonshineEngine,
        sample_rate: int = 16000,
        partial_ms: int = 500,
        first_partial_ms: int = 300,
        preroll_ms: int = 500,
        min_speech_ms: int = 100,
        settle_ms: int = 400,
        short_turn_ms: int = 1500,
        soft_max_ms: int = 8000,
        hard_max_ms: int = 20000,
        partial_fraction: int = 4,
    ) -> None:
        self.sample_rate = sample_rate
        self._engine = engine
        self._pcm = PcmInput(sample_rate)
        self._vad = SpeechDetector()
        self._partial_ms, self._preroll_ms = partial_ms, preroll_ms
        self._first_partial_ms = first_partial_ms
        self._min_speech_ms = min_speech_ms
        self._settle_ms, self._short_turn_ms = settle_ms, short_turn_ms
        self._soft_max_ms, self._hard_max_ms = soft_max_ms, hard_max_ms
        self._partial_fraction = max(1, partial_fraction)
        self._samples = 0  # session audio received (16 kHz samples)
        self._recent = np.zeros(0, dtype=np.float32)  # the latest audio, for the next pre-roll
        self._preroll_floor = 0  # session ms a pre-roll may not reach before (the last turn's speech)
        self._frozen: list[HeardWord] = []  # words of closed segments in this turn
        self._seg: _Segment | None = None
        self._decoded_at = 0  # session ms of the last decode
        self._speech_end: int | None = None
        self._settled = True  # the pause after the latest speech end has had its decode

    @property
    def now_ms(self) -> int:
        return _ms(self._samples)

    # ------------------------------------------------------------------ interface

    def accept(self, pcm: bytes) -> Hypothesis | None:
        x = self._pcm(pcm)
        if not x.size:
            return None
        self._append(x)
        changed = False
        for event in self._vad.feed(x):
            changed = True
            if event.kind == "start":
                self._speech_started(event.ms)
            else:
                self._speech_ended(event.ms)
        if self._seg and self._vad.in_speech:
            self._seg.dirty = True
            if self._seg.span_ms(self.now_ms) >= self._hard_max_ms:
                self._cut_segment()
                changed = True
            elif self.now_ms - self._decoded_at >= self._partial_interval():
                changed = self._decode() or changed
        elif self._pause_settled():
            self._decode()
            changed = True  # its eot_confidence now counts the pause, even if the words stayed
        return self._hypothesis() if changed else None

    def finalize(self) -> list[HeardWord]:
        if self._seg and self._seg.dirty:
            self._decode()
        words = self._frozen + (self._seg.words if self._seg else [])
        self._frozen, self._seg = [], None
        if self._vad.in_speech:  # speech going on opens the next turn here
            self._preroll_floor = self.now_ms
            self._open_segment(self.now_ms)
        elif self._speech_end is not None:
            # The pause after the closed turn's speech may be the next turn's pre-roll.
            self._preroll_floor = max(self._preroll_floor, self._speech_end + TAIL_GUARD_MS)
        return words

    # ------------------------------------------------------------------ segments

    def _append(self, x: np.ndarray) -> None:
        self._samples += x.size
        if self._seg:
            self._seg.chunks.append(x)
        # Room for the pre-roll before a "start" that the VAD reports a few windows late.
        keep = (self._preroll_ms + 250) * MODEL_RATE // 1000 + x.size
        self._recent = np.concatenate((self._recent, x))[-keep:]

    def _open_segment(self, speech_ms: int) -> None:
        recent_start = self.now_ms - _ms(self._recent.size)
        start = max(recent_start, self._preroll_floor, speech_ms - self._preroll_ms)
        audio = self._recent[max(0, start - recent_start) * MODEL_RATE // 1000 :]
        self._seg = _Segment(self.now_ms - _ms(audio.size), audio)
        # The VAD dates a start back to its first voiced window, possibly before this turn began.
        self._seg.runs.append([max(speech_ms, self._seg.start_ms), None])
        # The first partial comes after `first_partial_ms` of speech, later ones every `partial_ms`.
        self._decoded_at = speech_ms + self._first_partial_ms - self._partial_ms

    def _speech_started(self, ms: int) -> None:
        self._speech_end = None
        if self._seg and self._seg.span_ms(self.now_ms) >= self._soft_max_ms:
            self._close_segment()
        if self._seg is None:
            self._open_segment(ms)
        else:
            self._seg.runs.append([ms, None])
            self._seg.dirty = True
            self._decoded_at = max(self._decoded_at, ms + self._first_partial_ms - self._partial_ms)

    def _speech_ended(self, ms: int) -> None:
        self._speech_end = ms
        if self._seg is None:  # defensive: every "start" or finalize-in-speech opens one
            return
        self._seg.runs[-1][1] = ms
        self._decode()
        self._settled = False

    def _partial_interval(self) -> int:
        """`partial_ms`, or a fraction of the segment once it is long: each partial re-decodes
        the whole segment, so at a fixed rate the cost grows with its square."""
        return max(self._partial_ms, self._seg.span_ms(self.now_ms) // self._partial_fraction)

    def _pause_settled(self) -> bool:
        """True once per pause, `settle_ms` into it, if the words so far do not end a sentence."""
        if self._settled or self._seg is None or self._speech_end is None:
            return False
        if self.now_ms - self._speech_end < self._settle_ms:
            return False
        self._settled = True
        words = self._frozen + self._seg.words
        return bool(words) and eot_confidence(words) < SENTENCE_END

    def _close_segment(self) -> None:
        """Freeze the segment's words (now stable); the next one starts with its tail as pre-roll.

        Called when speech resumes, not when it ends, so that the settle decode of a pause
        that ends the turn still has the segment's audio.
        """
        self._frozen += self._seg.words
        self._seg = None

    def _cut_segment(self) -> None:
        """Speech too long without a pause: close the segment here and go on in a new one."""
        self._seg.runs[-1][1] = self.now_ms
        self._decode()
        self._frozen += self._seg.words
        self._seg = _Segment(self.now_ms, np.zeros(0, dtype=np.float32))
        self._seg.runs.append([self.now_ms, None])

    # ------------------------------------------------------------------ decoding

    def _decode(self) -> bool:
        """Re-decode the open segment; True if its words changed."""
        seg = self._seg
        self._decoded_at, seg.dirty = self.now_ms, False
        runs = [(s, e if e is not None else self.now_ms) for s, e in seg.runs]
        if sum(e - s for s, e in runs) < self._min_speech_ms:
            words = []  # a click or breath: Moonshine would invent words for it
        else:
            words = spread_words(self._engine.transcribe(seg.audio()).split(), runs)
        changed = [w.text for w in words] != [w.text for w in seg.words]
        seg.words = words
        return changed

    def _hypothesis(self) -> Hypothesis:
        words = self._frozen + (self._seg.words if self._seg else [])
        paused = self._settled and self._speech_end is not None
        return Hypothesis(
            words=list(words),
            stable=len(self._frozen),
            speech_end_ms=None if self._vad.in_speech else self._speech_end,
            eot_confidence=eot_confidence(words, paused=paused, short=self._short_turn()),
        )

    def _short_turn(self) -> bool:
        """Whether the open turn's speech, first onset to last end, is under `short_turn_ms`."""
        if self._frozen or self._seg is None:
            return False
        end = self._seg.runs[-1][1]
        return (self.now_ms if end is None else end) - self._seg.runs[0][0] < self._short_turn_ms


# Keyword options of MoonshineRecognizer that MoonshineEngine(**options) passes on.
_TUNING = frozenset(inspect.signature(MoonshineRecognizer).parameters) - {"engine", "sample_rate"}
