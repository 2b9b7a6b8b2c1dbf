"""End to end through a microphone: speech played into a private PulseAudio virtual mic is
captured by the real `captioner` process through PortAudio, recognized by the real offline
engine, and printed; a signal ends the run cleanly. What reached the service is recorded
(--record) and compared with what was played.
"""

from __future__ import annotations

import signal
import time

import numpy as np
import soundfile as sf
from e2e import DATA, Captioner, Server, captioner_env, only_journal, turn_texts, wait_for
from tui.server.wer import wer
from vmic import best_correlation

WAV_HEADER = 44
TAIL_S = 0.5  # after paplay returns, the last samples still pass through the sound server


def _speak_and_stop(mic, cap: Captioner, rec, wav, sig: int) -> int:
    # Capture has started once the recorder holds audio: then the mic is live.
    wait_for(lambda: rec.exists() and rec.stat().st_size > WAV_HEADER, 60, "capture to start")
    assert cap.proc.poll() is None, cap.stderr
    mic.play(wav)
    time.sleep(TAIL_S)
    cap.signal(sig)
    return cap.finish(30)


def _check(code: int, cap: Captioner, env, rec, wav, max_wer: float = 0.25) -> None:
    assert code == 0, cap.stderr
    assert "Traceback" not in cap.stderr
    ref = (DATA / wav.with_suffix(".txt").name).read_text()
    said = " ".join(cap.lines)
    assert cap.lines and wer(ref, said) <= max_wer, (said, cap.stderr)
    # every printed line is in the journal, which was closed cleanly
    journal = only_journal(env)
    assert turn_texts(journal) == cap.lines
    assert journal.footer and journal.footer["turns"] == len(cap.lines)
    # the audio that reached the service is the audio that was played
    played, rate = sf.read(wav, dtype="int16")
    got, got_rate = sf.read(rec, dtype="int16")
    assert got_rate == rate == 16000
    assert len(got) > len(played)  # silence before and after the speech was sent too
    assert best_correlation(played, got) > 0.9
    assert np.abs(got).max() > 1000  # not silence that happens to correlate


def test_default_mic_to_embedded_engine_stopped_by_sigint(vmic, tmp_path):  # noqa: F811
    wav = DATA / "ls_0890.wav"
    env = captioner_env(tmp_path, vmic.env)
    rec = tmp_path / "rec.wav"
    # no key, engine auto: the offline engine runs as a child; --input names the default device
    with Captioner(["--plain", "--input", "default", "--record", str(rec)], env) as cap:
        code = _speak_and_stop(vmic, cap, rec, wav, signal.SIGINT)
    _check(code, cap, env, rec, wav)


def test_named_mic_to_a_separate_engine_server_stopped_by_sigterm(vmic, tmp_path):  # noqa: F811
    wav = DATA / "ls_0880.wav"
    env = captioner_env(tmp_path, vmic.env)
    rec = tmp_path / "rec.wav"
    with Server("--engine", "moonshine") as server:
        with Captioner(["--plain", "--url", server.url, "--input", "pulse", "--record", str(rec)],
                       env) as cap:
            code = _speak_and_stop(vmic, cap, rec, wav, signal.SIGTERM)
    _check(code, cap, env, rec, wav)
