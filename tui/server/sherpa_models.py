"""Finding, checking and safely loading the sherpa-onnx models behind the offline engine.

The built-in model is Moonshine tiny-en as the moonshine-voice wheel ships it; sherpa-onnx
reads those files directly once the wheel's tokenizer.bin is rewritten as a tokens file.
A user-supplied model directory is checked, then loaded once in a throwaway subprocess,
because sherpa-onnx calls exit() on some malformed files and would take the server with it.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROBE_TIMEOUT_S = 120


class ModelError(RuntimeError):
    """A model directory that cannot be used, with the reason."""


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """A model directory understood: `kind` is "moonshine" (offline) or "transducer" (streaming)."""

    kind: str
    directory: Path
    files: dict[str, Path]


def builtin_model_dir() -> Path:
    """The Moonshine tiny-en files inside the installed moonshine_voice package."""
    from moonshine_voice import get_model_path

    return Path(get_model_path("tiny-en"))


def read_moonshine_tokenizer(path: Path) -> list[bytes]:
    """Token byte strings from Moonshine's tokenizer.bin (length-prefixed, 1-2 byte lengths)."""
    data, i, tokens = path.read_bytes(), 0, []
    while i < len(data):
        n = data[i]
        i += 1
        if n >= 128:  # two-byte length: low 7 bits first
            n = (n - 128) + data[i] * 128
            i += 1
        tokens.append(data[i : i + n])
        i += n
    return tokens


def write_tokens_file(tokens: list[bytes], out: Path) -> None:
    """Write sherpa-onnx's Moonshine tokens format: base64 of each token's bytes, then its id."""
    with out.open("w", encoding="ascii") as f:
        for idx, tok in enumerate(tokens):
            # An empty token must still occupy its id; "=" decodes to no bytes.
            f.write(f"{base64.b64encode(tok).decode() or '='} {idx}\n")


def _first(directory: Path, *patterns: str) -> Path | None:
    for pattern in patterns:
        found = sorted(directory.glob(pattern))
        if found:
            return found[0]
    return None


def _looks_like_model(path: Path) -> bool:
    """ONNX (protobuf, field 1 = ir_version) or ORT (flatbuffer with "ORTM" identifier)."""
    with path.open("rb") as f:
        head = f.read(8)
    return head[:1] == b"\x08" or head[4:8] == b"ORTM"


def _check_tokens(path: Path) -> None:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    bad = next((n for n, ln in enumerate(lines, 1) if len(ln.rsplit(" ", 1)) != 2
                or not ln.rsplit(" ", 1)[1].isdigit()), None)
    if not lines or bad:
        raise ModelError(f"{path}: not a tokens file (line {bad or 1})")


def inspect_model_dir(directory: str | Path) -> ModelFiles:
    """Recognize a model directory and check its files, or raise ModelError naming the problem."""
    d = Path(directory).expanduser()
    if not d.is_dir():
        raise ModelError(f"model directory not found: {d}")
    tokens = _first(d, "tokens.txt")
    parts = ("encoder", "decoder", "joiner")
    transducer = {n: _first(d, f"{n}*.int8.onnx", f"{n}*.onnx") for n in parts}
    if all(transducer.values()) and tokens:
        files, kind = {**transducer, "tokens": tokens}, "transducer"
    else:
        enc = _first(d, "encoder_model.ort", "encoder_model.onnx")
        dec = _first(d, "decoder_model_merged.ort", "decoder_model_merged.onnx")
        vocab = tokens or _first(d, "tokenizer.bin")
        if not (enc and dec and vocab):
            raise ModelError(
                f"{d}: expected a sherpa-onnx streaming transducer (encoder/decoder/joiner*.onnx"
                " + tokens.txt) or Moonshine files (encoder_model, decoder_model_merged,"
                " tokenizer.bin or tokens.txt)"
            )
        files, kind = {"encoder": enc, "decoder": dec, "tokens": vocab}, "moonshine"
    for name, path in files.items():
        if name != "tokens" and not _looks_like_model(path):
            raise ModelError(f"{path}: not an ONNX/ORT model file")
    if files["tokens"].name == "tokens.txt":
        _check_tokens(files["tokens"])
    return ModelFiles(kind, d, files)


def load(model: ModelFiles, threads: int = 1):
    """Build the sherpa-onnx recognizer for `model` in this process (may exit() on bad files)."""
    import sherpa_onnx

    f = model.files
    if model.kind == "transducer":
        return sherpa_onnx.OnlineRecognizer.from_transducer(
            tokens=str(f["tokens"]), encoder=str(f["encoder"]), decoder=str(f["decoder"]),
            joiner=str(f["joiner"]), num_threads=threads, sample_rate=16000,
        )
    with tempfile.TemporaryDirectory(prefix="captioner-tokens-") as tmp:
        tokens = f["tokens"]
        if tokens.suffix == ".bin":  # sherpa-onnx reads tokens only while loading
            tokens = Path(tmp) / "tokens.txt"
            write_tokens_file(read_moonshine_tokenizer(f["tokens"]), tokens)
        return sherpa_onnx.OfflineRecognizer.from_moonshine_v2(
            encoder=str(f["encoder"]), decoder=str(f["decoder"]), tokens=str(tokens),
            num_threads=threads,
        )


def probe_in_subprocess(directory: str | Path) -> None:
    """Load the model once in a child process; raise ModelError if that child dies or fails."""
    cmd = [sys.executable, "-m", "tui.server.sherpa_models", str(directory)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ModelError(f"{directory}: loading took over {PROBE_TIMEOUT_S} s") from exc
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout or f"exit status {proc.returncode}").strip().splitlines()
        raise ModelError(f"{directory}: sherpa-onnx could not load it: {lines[-1]}")


def load_user_model(directory: str | Path, threads: int = 1):
    """Check, probe in a subprocess, then load a user's model directory: (ModelFiles, recognizer)."""
    model = inspect_model_dir(directory)
    probe_in_subprocess(model.directory)
    return model, load(model, threads)


if __name__ == "__main__":  # the probe child: exit status 0 means the model loads
    load(inspect_model_dir(sys.argv[1]))
