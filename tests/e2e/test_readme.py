"""README's promises: its test command is exactly what CI runs; its commands exist."""

import re
import subprocess
import sys
import paths

ROOT = paths.ROOT


def readme_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_ci_runs_exactly_the_readme_test_command():
    test_cmd = next(b.strip() for b in readme_blocks() if "pytest" in b)
    assert test_cmd in (ROOT / ".ci" / "run").read_text().splitlines()


def test_first_command_runs_the_demo():
    first = readme_blocks()[0].strip()
    assert first.endswith("captioner --demo")


def test_documented_subcommands_have_help():
    for cmd in ("serve", "devices", "sessions", "export", "watch"):
        out = subprocess.run([sys.executable, "-m", "tui", cmd, "--help"], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0 and f"captioner {cmd}" in out.stdout
