
import paths
import pytest
import soundfile as sf

from tui.core.audio.recorder import WavRecorder

FIXTURE = str(paths.DATA / "jfk.wav")


def jfk_pcm(seconds: float) -> bytes:
    data, rate = sf.read(FIXTURE, dtype="int16")
    return data[: int(rate * seconds)].tobytes()


def test_written_file_reads_back_identically(tmp_path):
    pcm = jfk_pcm(2.0)
    path = tmp_path / "rec.wav"
    with WavRecorder(path, rate=16000) as rec:
        for i in range(0, len(pcm), 1600):
            rec.write(pcm[i : i + 1600])
        assert rec.seconds == pytest.approx(2.0)
    data, rate = sf.read(path, dtype="int16")
    assert rate == 16000 and data.ndim == 1
    assert data.tobytes() == pcm
    info = sf.info(path)
    assert (info.format, info.subtype, info.channels) == ("WAV", "PCM_16", 1)


def test_fresh_file_is_already_a_valid_empty_wav(tmp_path):
    path = tmp_path / "rec.wav"
    rec = WavRecorder(path, rate=8000)
    info = sf.info(path)  # readable before any write or close
    assert (info.frames, info.samplerate) == (0, 8000)
    rec.close()
    rec.close()  # idempotent


def test_odd_byte_count_is_refused(tmp_path):
    with WavRecorder(tmp_path / "rec.wav") as rec, pytest.raises(ValueError):
        rec.write(b"\x00\x01\x02")
