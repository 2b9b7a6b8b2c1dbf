"""Config files for tests, written as a user would keep them (private: mode 600)."""

from pathlib import Path


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path
