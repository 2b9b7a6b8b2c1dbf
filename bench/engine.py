"""Benchmark of the embedded offline engine on the speech fixtures, as if fed in real time.

Prints `name: value unit` lines:
  wer_<fixture>        word error rate of the finals vs tests/data/<fixture>.txt
                       (normalize_text, hyphens split, "mr" = "mister")
  rtf_one_core         CPU seconds of accept()+finalize() per audio second, threads=1
  wall_rtf_one_core    the same in wall-clock seconds
  first_partial_delay  mean over turns: when the first partial with words is ready minus
                       the start of its first word (the VAD's speech start)
  speech_end_reported  mean over turns: when the hypothesis carrying speech_end_ms is ready
                       minus speech_end_ms (VAD hangover + decode)
  final_after_speech_end  mean over turns: when the final is ready minus the reported
                       speech_end_ms, with the server's rules: end the turn after 400 ms of
                       silence if eot_confidence > 0.4 (as the server does), else after 1280 ms
  turn_end_rule_silence   mean over turns: the silence (audio ms) at which those rules ended
                       the turn; on the audio clock only, so it does not depend on CPU load
  turns                turns over all fixtures; `# <fixture>: <finals>` lines show them

Times are on a simulated clock: block k (50 ms) arrives at (k+1)*50 ms of audio; the
recognizer starts on it when it has arrived and the previous call is done, and takes the
measured wall time; so results ready late (slower than real time) show up as delay.
Usage: python bench/engine.py [--quick]   (--quick: two fixtures)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from tui.server.wer import wer
from tui.server.moonshine import MoonshineEngine

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CHUNK = 1600  # bytes: 50 ms of 16 kHz s16le
MIN_SILENCE, MAX_SILENCE, THRESHOLD = 400, 1280, 0.4
def simulate(engine: MoonshineEngine, pcm: bytes) -> dict:
    """Feed in real time (simulated clock) with the server's turn rules; collect timings."""
    rec = engine.new_recognizer(16000)
    pcm += bytes(2 * 16000 * 3 // 2)  # trailing silence so the last turn ends by rule
    done = 0.0  # simulated ms when the recognizer finished its previous call
    cpu = wall = 0.0
    hyp, first_partial, finals, partial_delays, final_delays = None, None, [], [], []
    end_reports, rule_silences = [], []

    def timed(fn, *args):
        nonlocal cpu, wall
        c, w = time.process_time(), time.perf_counter()
        out = fn(*args)
        cpu += time.process_time() - c
        wall += time.perf_counter() - w
        return out, (time.perf_counter() - w) * 1000

    for i in range(0, len(pcm), CHUNK):
        arrived = (i + CHUNK) / 32
        new, took = timed(rec.accept, pcm[i : i + CHUNK])
        done = max(arrived, done) + took
        if new is not None:
            if new.speech_end_ms is not None and (hyp is None or hyp.speech_end_ms != new.speech_end_ms):
                end_reports.append(done - new.speech_end_ms)
            hyp = new
            if new.words and first_partial is None:
                first_partial = done - new.words[0].start
        if hyp and hyp.words and hyp.speech_end_ms is not None:
            silence = arrived - hyp.speech_end_ms
            conf = hyp.eot_confidence or 0.0
            if silence >= MAX_SILENCE or (silence >= MIN_SILENCE and conf > THRESHOLD):
                words, took = timed(rec.finalize)
                done = max(arrived, done) + took
                finals.append(words)
                final_delays.append(done - hyp.speech_end_ms)
                rule_silences.append(silence)
                partial_delays.append(first_partial)
                hyp, first_partial = None, None
    audio_s = len(pcm) / 32000
    return {
        "text": " ".join(w.text for turn in finals for w in turn),
        "turns": [" ".join(w.text for w in turn) for turn in finals if turn],
        "rule_silences": rule_silences,
        "cpu": cpu, "wall": wall, "audio_s": audio_s,
        "partial_delays": [d for d in partial_delays if d is not None],
        "final_delays": final_delays,
        "end_reports": end_reports,
    }


def load(name: str) -> bytes:
    audio, _ = sf.read(DATA / f"{name}.wav", dtype="int16")
    return audio.tobytes()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two fixtures only (CI)")
    args = ap.parse_args()
    names = ["goforward", "jfk"] if args.quick else sorted(p.stem for p in DATA.glob("*.wav"))
    t = time.perf_counter()
    engine = MoonshineEngine(threads=1)
    print(f"engine_load: {time.perf_counter() - t:.2f} s")
    runs = {}
    for name in names:
        runs[name] = r = simulate(engine, load(name))
        print(f"wer_{name}: {100 * wer((DATA / f'{name}.txt').read_text(), r['text']):.1f} %")
        print(f"# {name}: " + " | ".join(r["turns"]))
    if not args.quick:  # one long turn of read speech: re-decoding cost grows with segment length
        gap = bytes(2 * 16000 // 5)
        runs["concat"] = simulate(engine, gap.join(load(n) for n in names))
    audio = sum(r["audio_s"] for r in runs.values())
    print(f"rtf_one_core: {sum(r['cpu'] for r in runs.values()) / audio:.3f}")
    print(f"wall_rtf_one_core: {sum(r['wall'] for r in runs.values()) / audio:.3f}")
    partial = [d for r in runs.values() for d in r["partial_delays"]]
    final = [d for r in runs.values() for d in r["final_delays"]]
    print(f"first_partial_delay: {np.mean(partial):.0f} ms")
    print(f"first_partial_delay_max: {np.max(partial):.0f} ms")
    reports = [d for r in runs.values() for d in r["end_reports"]]
    print(f"speech_end_reported: {np.mean(reports):.0f} ms")
    print(f"final_after_speech_end: {np.mean(final):.0f} ms")
    print(f"final_after_speech_end_max: {np.max(final):.0f} ms")
    fixtures = [r for name, r in runs.items() if name != "concat"]
    rules = [d for r in fixtures for d in r["rule_silences"]]
    print(f"turns: {sum(len(r['turns']) for r in fixtures)}")
    print(f"turn_end_rule_silence: {np.mean(rules):.0f} ms")
    print(f"turn_end_rule_silence_max: {np.max(rules):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
