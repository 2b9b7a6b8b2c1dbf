"""End to end from a pipe: raw s16le PCM written into `captioner --plain --input -` is
captioned by the real offline engine (no key, engine auto), and EOF ends the run with exit 0.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

import numpy as np
import soundfile as sf
import soxr
from e2e import DATA, Captioner, captioner_env, only_journal, turn_texts
from tui.server.wer import wer


def _check_run(cap: Captioner, env, name: str, max_wer: float) -> None:
    code = cap.finish(60)
    assert code == 0, cap.stderr
    assert "Traceback" not in cap.stderr
    said = " ".join(cap.lines)
    assert cap.lines and wer((DATA / f"{name}.txt").read_text(), said) <= max_wer, (said, cap.stderr)
    journal = only_journal(env)
    assert turn_texts(journal) == cap.lines
    assert journal.footer is not None and journal.info.input  # closed cleanly at EOF


def test_sox_pipe_at_16k_until_eof(tmp_path):
    env = captioner_env(tmp_path)
    sox = subprocess.Popen(["sox", str(DATA / "goforward.wav"), "-t", "raw", "-e", "signed", "-b", "16",
                            "-c", "1", "-r", "16000", "-"], stdout=subprocess.PIPE)
    try:
        with Captioner(["--plain", "--input", "-"], env, stdin=sox.stdout) as cap:
            sox.stdout.close()  # captioner holds the only read end: sox's exit is its EOF
            _check_run(cap, env, "goforward", 0.15)
    finally:
        assert sox.wait(10) == 0


def test_live_paced_pipe_at_8k(tmp_path):
    """Like `arecord -r 8000 | captioner --input - --sample-rate 8000`: pieces in real time."""
    env = captioner_env(tmp_path)
    audio, rate = sf.read(DATA / "ls_0880.wav", dtype="float32")
    pcm8k = (np.clip(soxr.resample(audio, rate, 8000), -1, 1) * 32767).astype("<i2").tobytes()
    pcm8k += bytes(8000)  # half a second of silence after the speech, as a mic would send
    piece = 2 * 8000 // 10  # 100 ms

    read_end, write_end = os.pipe()
    with Captioner(["--plain", "--input", "-", "--sample-rate", "8000"], env, stdin=read_end) as cap:
        os.close(read_end)

        def write() -> None:
            start = time.monotonic()
            for n, i in enumerate(range(0, len(pcm8k), piece)):
                time.sleep(max(0.0, start + n * 0.1 - time.monotonic()))
                os.write(write_end, pcm8k[i : i + piece])
            os.close(write_end)  # EOF

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(30)
        _check_run(cap, env, "ls_0880", 0.25)
