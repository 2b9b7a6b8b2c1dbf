"""`--plain` when the service cannot be reached: one line per retry, the reason in plain words."""

from __future__ import annotations

import re

import pytest
from e2e import DATA, Captioner, Server, captioner_env

JFK = str(DATA / "jfk.wav")


def failing_run(tmp_path, url: str, extra: dict | None = None) -> tuple[int, list[str]]:
    with Captioner(["--plain", "--url", url, "--input", JFK], captioner_env(tmp_path, extra)) as run:
        code = run.finish(60)
        return code, [line for line in run.stderr.splitlines() if line.strip()]


def check_lines(lines: list[str], reason: str) -> None:
    retries = [line for line in lines if line.startswith("captioner: reconnecting")]
    assert [int(re.search(r"attempt (\d+)", line).group(1)) for line in retries] == list(range(1, len(retries) + 1))
    for line in lines:
        assert not re.search(r"None|Errno|Connect call failed|\(\)|: $", line), line
    assert all(line.endswith(reason) or reason in line for line in retries), lines
    assert any(line.startswith("captioner: cannot connect") and reason in line for line in lines), lines


@pytest.mark.parametrize("url, reason", [
    ("ws://127.0.0.1:1/v3/ws", "connection refused by 127.0.0.1:1"),
    ("ws://no-such-host.invalid/v3/ws", "DNS failure: cannot find no-such-host.invalid"),
])
def test_unreachable_service(tmp_path, url, reason):
    code, lines = failing_run(tmp_path, url)
    assert code == 1
    check_lines(lines, reason)


def test_tls_to_a_plain_server_and_http_on_a_wrong_path(tmp_path):
    with Server("--engine", "scripted") as server:
        port = server.url.rsplit(":", 1)[1].split("/")[0]
        code, lines = failing_run(tmp_path / "tls", f"wss://127.0.0.1:{port}/v3/ws")
        assert code == 1
        check_lines(lines, f"TLS error with 127.0.0.1:{port}")
        code, lines = failing_run(tmp_path / "http", f"ws://127.0.0.1:{port}/elsewhere")
        assert code == 1
        check_lines(lines, f"127.0.0.1:{port} answered HTTP 404")
