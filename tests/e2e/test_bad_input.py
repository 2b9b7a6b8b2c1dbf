"""Bad input files and bad settings through the real CLI: one clear line, exit status 2.

`python -m tui --plain --input X --url ws://127.0.0.1:<scripted server>`: stdout stays empty,
stderr is exactly one line starting with `captioner:`, and nothing is journaled.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

from configs import write_config
import pytest
from streaming import write_wav

TIMEOUT = 60


@pytest.fixture(scope="module")
def server_url():
    proc = subprocess.Popen([sys.executable, "-m", "tui", "serve", "--engine", "scripted", "--port", "0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on ws://127.0.0.1:"), line
        yield line.removeprefix("listening on ")
    finally:
        proc.terminate()
        proc.wait(10)


def wav_header(fmt_tag: int, channels: int = 1, rate: int = 16000, bits: int = 16, data: bytes = b"") -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def make_input(tmp_path: Path, kind: str) -> str:
    path = tmp_path / {"garbage_raw": "noise.raw", "garbage_wav": "noise.wav"}.get(kind, f"{kind}.wav")
    if kind == "corrupt_wav":
        good = write_wav(tmp_path / "good.wav", 500).read_bytes()
        path.write_bytes(good[:12] + b"\xde\xad\xbe\xef" * 8)  # RIFF/WAVE, then no valid chunks
    elif kind in ("garbage_raw", "garbage_wav"):
        path.write_bytes(bytes((i * 7919 + 13) % 251 for i in range(20000)))
    elif kind == "unknown_codec":
        path.write_bytes(wav_header(0x7A7A, data=b"\x01\x02" * 4000))  # a format tag nobody knows
    elif kind == "zero_channels":
        path.write_bytes(wav_header(1, channels=0, data=b"\0" * 3200))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "header_only":
        path.write_bytes(wav_header(1))  # a valid WAV with no samples
    elif kind == "folder":
        path = tmp_path / "a_folder"
        path.mkdir()
    elif kind == "missing":
        path = tmp_path / "missing.wav"
    return str(path)


def run(tmp_path: Path, args: list[str], config: str | bytes | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSEMBLYAI_", "CAPTIONER_", "XDG_"))}
    env.update(HOME=str(tmp_path / "home"), CAPTIONER_DATA_DIR=str(tmp_path / "data"))
    if config is not None:
        cfg = tmp_path / "config.toml"
        cfg.write_bytes(config if isinstance(config, bytes) else config.encode())
        args = ["--config", str(cfg), *args]
    return subprocess.run([sys.executable, "-m", "tui", *args], env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def one_line_error(tmp_path: Path, res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("captioner: "), res.stderr
    assert "Traceback" not in res.stderr
    data = tmp_path / "data"
    assert not data.exists() or not [f for f in data.rglob("*") if f.is_file()], "something was journaled"
    return lines[0]


@pytest.mark.parametrize("kind,expected", [
    ("corrupt_wav", "corrupt_wav.wav' is not an audio file that can be decoded"),
    ("garbage_raw", "noise.raw' is not an audio file that can be decoded"),
    ("garbage_wav", "noise.wav' is not an audio file that can be decoded"),
    ("unknown_codec", "could not decode '"),
    ("zero_channels", "zero_channels.wav' is not an audio file that can be decoded"),
    ("empty", "empty.wav' is empty (0 bytes)"),
    ("header_only", "header_only.wav' contains no audio samples"),
    ("folder", "a_folder' is a folder, not an audio file"),
    ("missing", "file not found: '"),
])
def test_bad_audio_files(tmp_path, server_url, kind, expected):
    spec = make_input(tmp_path, kind)
    line = one_line_error(tmp_path, run(tmp_path, ["--plain", "--input", spec, "--url", server_url]))
    assert expected in line


@pytest.mark.parametrize("device", ["NoSuchMicrophone-xyz", "98"])
def test_unknown_device_says_how_to_pick_one(tmp_path, server_url, device):
    line = one_line_error(tmp_path, run(tmp_path, ["--plain", "--input", device, "--url", server_url]))
    assert f"'{device}'" in line or f"#{device}" in line
    for hint in ("`captioner devices`", "--input FILE", "--input -"):
        assert hint in line


@pytest.mark.parametrize("config,expected", [
    ("[service]\nbogus = 1\n", "unknown key service.bogus; [service] keys are engine, url,"),
    ("[audio]\nchunk_ms = \"fifty\"\n", "audio.chunk_ms must be a number from 50 to 1000 (got 'fifty')"),
    ("[audio]\nchunk_ms = 20\n", "audio.chunk_ms must be a number from 50 to 1000 (got 20)"),
    ("[audio]\nsample_rate = 12345\n", "audio.sample_rate must be one of 8000, 16000"),
    ("[service]\nformat_turns = \"yes\"\n", "service.format_turns must be true or false (got 'yes')"),
    ("[service]\nregion = \"mars\"\n", "service.region must be one of auto, us, eu (got 'mars')"),
    ("[service]\nkeyterms = [\"" + "x" * 60 + "\"]\n", "service.keyterms must be a list of strings"),
    ("[service]\napi_key = 42\n", "service.api_key must be a string (got a secret value)"),
    ("[nope]\na = 1\n", "unknown section [nope]"),
    ("service = 3\n", "unknown section [service]"),
    ("[service\nengine = \n", "not valid TOML: "),
    ("[service]\nengine = \"local\"\nengine = \"auto\"\n", "not valid TOML: "),
    (b"\xff\xfe[\x00s\x00]\x00", "not valid TOML: not UTF-8 text"),
])
def test_bad_config(tmp_path, server_url, config, expected):
    wav = write_wav(tmp_path / "ok.wav", 500)
    line = one_line_error(tmp_path, run(tmp_path, ["--plain", "--input", str(wav), "--url", server_url],
                                        config=config))
    assert str(tmp_path / "config.toml") in line  # names the file
    assert expected in line


@pytest.mark.parametrize("args,env_key,expected", [
    (["--demo", "--input", "{wav}"], False, "captioner: --demo and --input both name an input; use one"),
    (["--input", "{wav}", "--engine", "assemblyai"], False,
     "captioner: service.engine is assemblyai but no API key is set"),
    (["--input", "{wav}", "--url", "http://127.0.0.1:9/v3/ws"], False,
     "captioner: service URL must start with ws:// or wss:// (got http://)"),
    (["--input", "{wav}", "--config", "{tmp}/nonexistent.toml"], False, "nonexistent.toml: cannot read config"),
    (["--input", "{wav}", "--sample-rate", "16000", "--region", "mars"], False, "invalid choice: 'mars'"),
    (["--input", "{wav}", "--output", "{tmp}/no/such/folder/talk.srt"], False,
     "captioner: --output {tmp}/no/such/folder/talk.srt: the folder {tmp}/no/such/folder does not exist"),
    (["--input", "{wav}", "--output", "{tmp}/talk.docx"], False, "captioner: --output {tmp}/talk.docx: "),
])
def test_bad_settings(tmp_path, server_url, args, env_key, expected):
    wav = write_wav(tmp_path / "ok.wav", 500)
    args = [a.format(wav=wav, tmp=tmp_path) for a in args]
    if "--url" not in args and "--engine" not in args:
        args += ["--url", server_url]
    res = run(tmp_path, ["--plain", *args])
    if "invalid choice" in expected:  # argparse's own usage error: exit 2, usage + one error line
        assert res.returncode == 2 and res.stdout == "" and expected in res.stderr
        return
    assert expected.format(tmp=tmp_path) in one_line_error(tmp_path, res)


def test_a_good_run_still_works(tmp_path, server_url):
    """The same command with a good file captions and journals: the failures above are real."""
    wav = write_wav(tmp_path / "ok.wav", 3000)
    res = run(tmp_path, ["--plain", "--input", str(wav), "--url", server_url, "--speed", "10"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip()
    assert len(list((tmp_path / "data").rglob("*.jsonl"))) == 1




def test_bad_config_exits_2_with_one_line_and_starts_nothing(tmp_path):
    path = write_config(tmp_path, '[audio]\nsample_rate = 12345\n')
    proc = subprocess.run([sys.executable, "-m", "tui", "--config", str(path), "--plain",
                           "--input", "nothing.wav"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "CAPTIONER_DATA_DIR": str(tmp_path / "data")})
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "audio.sample_rate must be one of 8000, 16000" in lines[0]
    assert not (tmp_path / "data").exists()
