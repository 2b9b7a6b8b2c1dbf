import numpy as np
import pytest

from tui.core.audio.convert import (
    Chunker,
    Converter,
    chunk_bytes,
    float_to_s16,
    s16_to_float,
    to_mono,
)

OUT = 16000


def tone(rate: int, freq: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def convert(block: np.ndarray, rate: int, chunk_ms: int = 50, step_ms: int = 20) -> list[bytes]:
    """Feed in device-sized blocks (irregular, as callbacks deliver) and drain."""
    conv = Converter(rate, OUT, chunk_ms)
    out, i, step = [], 0, rate * step_ms // 1000
    sizes = [step, step // 3, step * 2 + 7, 1]
    while i < len(block):
        n = sizes[len(out) % len(sizes)]
        out.extend(conv.feed(block[i : i + n]))
        i += n
    return out + conv.finish()


def level_db(x: np.ndarray) -> float:
    return 20 * np.log10(max(1e-12, np.sqrt(np.mean(np.square(x, dtype=np.float64)))))


def dominant_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_tone_keeps_frequency_level_and_duration(rate):
    chunks = convert(tone(rate, 1000.0, 2.0), rate)
    y = s16_to_float(b"".join(chunks))
    assert abs(len(y) - 2 * OUT) <= 2  # the drained stream is as long as the input
    middle = y[4000:-4000]  # away from the filter's start-up and end
    assert dominant_hz(middle, OUT) == pytest.approx(1000.0, abs=2.0)
    assert level_db(middle) == pytest.approx(level_db(tone(OUT, 1000.0, 1.0)), abs=0.1)


@pytest.mark.parametrize("rate,freq", [(48000, 11000.0), (44100, 9000.0), (48000, 8500.0)])
def test_tone_above_new_nyquist_is_filtered_not_aliased(rate, freq):
    y = s16_to_float(b"".join(convert(tone(rate, freq, 1.0), rate)))[2000:-2000]
    # a naive decimator would fold it to 16000 - freq at nearly full level (-9 dBFS)
    assert level_db(y) < -70


def test_stereo_is_averaged_to_mono():
    left = tone(OUT, 440.0, 0.5)
    both = to_mono(np.stack([left, left], axis=1))
    np.testing.assert_allclose(both, left, atol=1e-7)
    opposite = to_mono(np.stack([left, -left], axis=1))
    assert np.max(np.abs(opposite)) == 0
    ints = to_mono(np.stack([np.full(4, 16384, np.int16), np.zeros(4, np.int16)], axis=1))
    np.testing.assert_allclose(ints, 0.25)


def test_stereo_48k_int16_block_through_converter():
    x = (tone(48000, 1000.0, 1.0) * 32767).astype(np.int16)
    pcm = b"".join(convert(np.stack([x, x], axis=1), 48000))
    y = s16_to_float(pcm)[2000:-2000]
    assert dominant_hz(y, OUT) == pytest.approx(1000.0, abs=2.0)
    assert level_db(y) == pytest.approx(-9.03, abs=0.1)  # amplitude 0.5 sine


def test_chunks_are_exactly_chunk_ms_and_the_tail_is_shorter():
    x = tone(OUT, 300.0, 2.0)[:16208]  # 20 chunks of 800 samples and a 208-sample tail
    chunks = convert(x, OUT)
    assert [len(c) for c in chunks] == [1600] * 20 + [416]
    # at equal rates nothing is resampled: the samples come through unchanged
    assert b"".join(chunks) == float_to_s16(x)


def test_chunker_keeps_the_remainder_for_the_next_push():
    c = Chunker(1600)
    assert c.push(b"a" * 1000) == []
    assert c.push(b"b" * 2500) == [b"a" * 1000 + b"b" * 600, b"b" * 1600]
    assert c.pending == 300
    assert c.flush() == b"b" * 300 and c.pending == 0


def test_chunk_bytes():
    assert chunk_bytes(16000, 50) == 1600
    assert chunk_bytes(16000, 100) == 3200
    with pytest.raises(ValueError, match="whole number"):
        chunk_bytes(44100, 15)  # 661.5 samples


def test_int16_survives_the_float_stage_exactly():
    x = np.arange(-32768, 32768, dtype=np.int16)
    assert float_to_s16(to_mono(x)) == x.astype("<i2").tobytes()


def test_s16_conversion_clips_instead_of_wrapping():
    pcm = float_to_s16(np.array([1.5, -1.5, 1.0, -1.0, 0.0], np.float32))
    assert np.frombuffer(pcm, "<i2").tolist() == [32767, -32768, 32767, -32768, 0]


@pytest.mark.parametrize("sizes", [[800] * 5, [800, 333, 467, 1600, 1], [2400, 799]])
def test_s16_mono_at_the_service_rate_goes_out_as_captured(sizes):
    """The microphone's usual case: whole frames or not, every sample comes out unchanged."""
    x = np.random.default_rng(1).integers(-32768, 32768, sum(sizes), dtype=np.int16)
    conv, out, at = Converter(16000, 16000, 50), [], 0
    for n in sizes:
        block = x[at:at + n].reshape(-1, 1)
        at += n
        out += conv.feed(block)
    out += conv.finish()
    assert all(len(c) == 1600 for c in out[:-1])
    assert b"".join(out) == x.astype("<i2").tobytes()
