"""The API key stays secret: a unique canary key is run through everything and looked for.

Real `captioner serve` and `captioner` processes, real files in tmp dirs (HOME, data dir).
The canary must not show up on stdout or stderr, in any file written (journal, exports,
recording, logs), in any process's command line, or in the embedded server child's
environment. The key only goes to the configured host, never over plain ws:// to another
machine unless --insecure, and a server bound beyond loopback needs a key.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from streaming import TURNS, script_file, write_wav
from v3client import expect_error, open_session, recv
from tui.core.stream import protocol as p
from tui.server.scripted import script_duration_ms
from tui.server.server import LocalServer, ServerConfig

RUN_TIMEOUT = 60


def canary() -> str:
    return "canary-" + uuid.uuid4().hex


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This environment without keys or XDG dirs, with HOME and the data dir in tmp."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ASSEMBLYAI_", "CAPTIONER_", "XDG_"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), CAPTIONER_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def proc_table() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, argv bytes) for every process we may read."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes()
            ppid = int(Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        out[int(entry.name)] = (ppid, cmdline)
    return out


class Watch:
    """Scan every process's argv (and our children's environment) while a run is going."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.leaks: list[str] = []
        self.children: dict[int, bytes] = {}  # descendants of watched pids: argv
        self.scans = 0

    def scan(self, root: int) -> None:
        table = proc_table()
        self.scans += 1
        family = {root}
        for _ in range(3):
            family |= {pid for pid, (ppid, _) in table.items() if ppid in family}
        for pid, (_, cmdline) in table.items():
            if self.secret in cmdline:
                self.leaks.append(f"argv of {pid}: {cmdline!r}")
        for pid in family - {root}:
            # An exiting child (a zombie) has an empty argv: keep what an earlier scan saw.
            self.children[pid] = table.get(pid, (0, b""))[1] or self.children.get(pid, b"")
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if self.secret in environ:
                self.leaks.append(f"environment of child {pid} ({table.get(pid, (0, b''))[1]!r})")


def run_cli(args: list[str], env: dict, watch: Watch | None = None, stdin_pcm: bytes | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m tui ARGS` to the end, scanning /proc while it runs."""
    proc = subprocess.Popen([sys.executable, "-m", "tui", *args], env=env, cwd=cwd,
                            stdin=subprocess.PIPE if stdin_pcm is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda n=n, s=s: out.__setitem__(n, s.read()))
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for r in readers:
        r.start()
    if stdin_pcm is not None:
        def feed() -> None:
            try:
                for i in range(0, len(stdin_pcm), 3200):  # 100 ms blocks in real time
                    proc.stdin.write(stdin_pcm[i:i + 3200])
                    proc.stdin.flush()
                    time.sleep(0.1)
            except BrokenPipeError:
                pass
            finally:
                proc.stdin.close()
        threading.Thread(target=feed, daemon=True).start()
    deadline = time.monotonic() + RUN_TIMEOUT
    while proc.poll() is None and time.monotonic() < deadline:
        if watch:
            watch.scan(proc.pid)
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        pytest.fail(f"captioner {args} did not finish in {RUN_TIMEOUT} s")
    for r in readers:
        r.join()
    return subprocess.CompletedProcess(args, proc.returncode, out["out"].decode(), out["err"].decode())


class Serve:
    """`captioner serve` (scripted engine, timecode) as a real process; its stderr kept in a file."""

    def __init__(self, tmp_path: Path, script: Path, key: str | None, *extra: str,
                 env_key: bool = True) -> None:
        env = base_env(tmp_path)
        if key and env_key:
            env["CAPTIONER_SERVER_KEY"] = key
        self.err_path = tmp_path / f"serve-{uuid.uuid4().hex[:6]}.err"
        self._err = self.err_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui", "serve", "--engine", "scripted", "--port", "0",
             "--script", str(script), "--timecode", *extra],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._err, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.stop()
            pytest.fail(f"server did not start: {line!r} {self.err_path.read_text()}")
        self.url = line.removeprefix("listening on ")
        self.port = urlsplit(self.url).port

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc.stdout.close()
        self._err.close()


def files_holding(root: Path, secret: str) -> list[str]:
    needle = secret.encode()
    return [str(f) for f in root.rglob("*") if f.is_file() and needle in f.read_bytes()]


@pytest.fixture
def speech(tmp_path):
    path, script = script_file(tmp_path)
    wav = write_wav(tmp_path / "speech.wav", script_duration_ms(script) + 500)
    return path, wav


# ------------------------------------------------------------------ full runs


def test_canary_key_never_leaks_from_full_runs(tmp_path, speech):
    key = canary()
    script, wav = speech
    server = Serve(tmp_path, script, key)
    env = base_env(tmp_path, ASSEMBLYAI_API_KEY=key)
    watch = Watch(key)
    runs = {
        "plain": ["--plain", "--output", str(tmp_path / "x.json"), "--record", str(tmp_path / "a.wav")],
        "jsonl": ["--jsonl", "--output", str(tmp_path / "x.srt")],
        "token": ["--plain", "--temporary-token", "--output", str(tmp_path / "t.md")],
    }
    try:
        watch.scan(server.proc.pid)
        results = {}
        for name, args in runs.items():
            results[name] = run_cli([*args, "--debug", "--input", str(wav), "--url", server.url,
                                     "--speed", "10"], env, watch, cwd=tmp_path)
    finally:
        server.stop()
    for name, res in results.items():
        assert res.returncode == 0, (name, res.stderr)
        assert key not in res.stdout and key not in res.stderr, name
        assert "DEBUG" in res.stderr  # the debug log was on
    assert results["plain"].stdout.splitlines() == TURNS
    assert results["token"].stdout.splitlines() == TURNS
    assert [json.loads(line)["text"] for line in results["jsonl"].stdout.splitlines()] == TURNS
    # What was written is really there, and none of it holds the key.
    journals = list((tmp_path / "data").rglob("*.jsonl"))
    assert len(journals) == 3
    for path in ("x.json", "x.srt", "t.md", "a.wav"):
        assert (tmp_path / path).stat().st_size > 0
    assert watch.scans > 10
    assert files_holding(tmp_path, key) == []
    assert watch.leaks == []


def test_wrong_key_is_refused_without_echoing_either_key(tmp_path, speech):
    server_key, client_key = canary(), canary()
    script, wav = speech
    server = Serve(tmp_path, script, server_key)
    env = base_env(tmp_path, ASSEMBLYAI_API_KEY=client_key)
    watch = Watch(client_key)
    try:
        direct = run_cli(["--plain", "--debug", "--input", str(wav), "--url", server.url, "--speed", "10"],
                         env, watch)
        token = run_cli(["--plain", "--debug", "--temporary-token", "--input", str(wav), "--url",
                         server.url, "--speed", "10"], env, watch)
    finally:
        server.stop()
    for res in (direct, token):
        assert res.returncode == 1, res.stderr
        assert res.stdout == ""
        assert "not authorized" in res.stderr
        for secret in (server_key, client_key):
            assert secret not in res.stderr
    assert "Invalid API key" in direct.stderr  # the service's own reason is passed on
    for secret in (server_key, client_key):
        assert files_holding(tmp_path / "data", secret) == []
        assert files_holding(tmp_path / "home", secret) == []
    assert files_holding(tmp_path, client_key) == []
    assert watch.leaks == []


def test_embedded_server_child_gets_no_key(tmp_path):
    key = canary()
    env = base_env(tmp_path, ASSEMBLYAI_API_KEY=key)
    pcm = (np.sin(np.arange(16000 * 3) / 16000 * 2 * np.pi * 220) * 3000).astype("<i2").tobytes()
    watch = Watch(key)
    res = run_cli(["--plain", "--debug", "--engine", "local", "--input", "-"], env, watch, stdin_pcm=pcm)
    assert res.returncode == 0, res.stderr
    assert key not in res.stdout + res.stderr
    servers = [argv for argv in watch.children.values() if b"serve" in argv and b"--exit-on-stdin-eof" in argv]
    assert servers, f"the embedded server child was never seen: {watch.children}"
    assert watch.leaks == []
    assert files_holding(tmp_path, key) == []
    assert len(list((tmp_path / "data").rglob("*.jsonl"))) == 1


# --------------------------------------------------------------- where the key goes


class RecordingServer(LocalServer):
    """A LocalServer that notes every HTTP request: path, query and Authorization header."""

    def __init__(self, config: ServerConfig) -> None:
        super().__init__(config)
        self.requests: list[tuple[str, dict, str | None, str | None]] = []

    def _route(self, ws, request):
        parts = urlsplit(request.path)
        self.requests.append((parts.path, parse_qs(parts.query), request.headers.get("Authorization"),
                              request.headers.get("Host")))
        return super()._route(ws, request)


async def run_cli_async(args: list[str], env: dict) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tui", *args, env=env,
                                                stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT)
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("token_mode", [False, True])
async def test_key_goes_only_to_the_configured_host(tmp_path, speech, token_mode):
    key = canary()
    script, wav = speech
    config = ServerConfig(engine_options={"script": json.loads(script.read_text()), "timecode": True},
                          api_key=key)
    async with RecordingServer(config) as server:
        args = ["--plain", "--input", str(wav), "--url", server.url, "--speed", "10"]
        code, out, err = await run_cli_async(args + (["--temporary-token"] if token_mode else []),
                                             base_env(tmp_path, ASSEMBLYAI_API_KEY=key))
    assert code == 0, err
    assert out.splitlines() == TURNS
    host = urlsplit(server.url).netloc
    assert all(h == host for *_, h in server.requests)
    paths = [path for path, *_ in server.requests]
    if token_mode:
        assert paths == [p.TOKEN_PATH, p.WS_PATH]
        (_, token_query, token_auth, _), (_, ws_query, ws_auth, _) = server.requests
        assert token_auth == key  # the key only mints the token...
        assert ws_auth is None and key not in json.dumps(ws_query)  # ...the session sees only the token
        assert ws_query["token"][0] and token_query["expires_in_seconds"] == ["60"]
    else:
        assert paths == [p.WS_PATH]
        (_, ws_query, ws_auth, _), = server.requests
        assert ws_auth == key and "token" not in ws_query


def test_token_url_is_on_the_streaming_host_of_every_region():
    for region in p.CLOUD_HOSTS:
        ws = urlsplit(p.cloud_url(region))
        token = urlsplit(p.token_url(p.cloud_url(region), 60))
        assert (token.scheme, token.netloc, token.path) == ("https", ws.netloc, p.TOKEN_PATH)
    local = urlsplit(p.token_url("ws://127.0.0.1:9999/v3/ws", 60))
    assert (local.scheme, local.netloc) == ("http", "127.0.0.1:9999")


def test_key_over_plain_ws_to_another_host_needs_insecure(tmp_path, speech):
    key = canary()
    script, wav = speech
    server = Serve(tmp_path, script, key)
    # 0.0.0.0 is not a loopback name, yet connecting to it reaches this machine's listeners.
    remote = f"ws://0.0.0.0:{server.port}/v3/ws"
    env = base_env(tmp_path, ASSEMBLYAI_API_KEY=key)
    try:
        refused = run_cli(["--plain", "--input", str(wav), "--url", remote, "--speed", "10"], env)
        journaled = list((tmp_path / "data").rglob("*.jsonl"))
        allowed = run_cli(["--plain", "--insecure", "--input", str(wav), "--url", remote, "--speed", "10"], env)
        no_key = run_cli(["--plain", "--input", str(wav), "--url", remote, "--speed", "10"], base_env(tmp_path))
    finally:
        server.stop()
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == ("captioner: refusing to send the API key over plain ws:// to 0.0.0.0; "
                              "use wss:// or pass --insecure\n")
    assert journaled == []  # refused before anything started
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.splitlines() == TURNS
    # Without a key nothing secret is at stake: the connection is made, the server refuses it.
    assert no_key.returncode == 1 and "Missing Authorization header" in no_key.stderr
    assert files_holding(tmp_path, key) == []


def test_config_file_with_a_key_warns_when_others_can_read_it(tmp_path, speech):
    key = canary()
    script, wav = speech
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\napi_key = "{key}"\n')
    server = Serve(tmp_path, script, key)
    env = base_env(tmp_path)
    try:
        config.chmod(0o644)
        loose = run_cli(["--config", str(config), "--plain", "--input", str(wav), "--url", server.url,
                         "--speed", "10"], env)
        config.chmod(0o600)
        tight = run_cli(["--config", str(config), "--plain", "--input", str(wav), "--url", server.url,
                         "--speed", "10"], env)
    finally:
        server.stop()
    assert loose.returncode == tight.returncode == 0, (loose.stderr, tight.stderr)
    assert loose.stdout.splitlines() == tight.stdout.splitlines() == TURNS
    warning = f"captioner: warning: {config} holds an API key and is readable by others: chmod 600 {config}"
    assert loose.stderr.splitlines()[0] == warning
    assert "warning" not in tight.stderr
    assert key not in loose.stderr + tight.stderr
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


# --------------------------------------------------------------- serve beyond loopback


def test_serve_beyond_loopback_needs_a_key(tmp_path, speech):
    script, _ = speech
    bare = subprocess.run([sys.executable, "-m", "tui", "serve", "--host", "0.0.0.0", "--port", "0",
                           "--engine", "scripted"], env=base_env(tmp_path), capture_output=True,
                          text=True, timeout=RUN_TIMEOUT)
    assert bare.returncode == 2 and bare.stdout == ""
    assert bare.stderr == ("captioner serve: binding to 0.0.0.0 needs a key: set CAPTIONER_SERVER_KEY "
                           "or pass --key-file\n")

    key = canary()
    key_file = tmp_path / "server.key"
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    for use_file in (False, True):
        extra = ("--host", "0.0.0.0") + (("--key-file", str(key_file)) if use_file else ())
        server = Serve(tmp_path, script, key, *extra, env_key=not use_file)
        try:
            assert server.url.startswith("ws://0.0.0.0:")
            local = f"ws://127.0.0.1:{server.port}/v3/ws"

            async def probe():
                async with await open_session(local) as ws:
                    missing = await expect_error(ws)
                async with await open_session(local, headers={"Authorization": "nope"}) as ws:
                    wrong = await expect_error(ws)
                async with await open_session(local, headers={"Authorization": key}) as ws:
                    begin = await recv(ws)
                return missing, wrong, begin

            missing, wrong, begin = asyncio.run(probe())
            cmdline = Path(f"/proc/{server.proc.pid}/cmdline").read_bytes()
        finally:
            server.stop()
        assert missing[0]["error"] == "Unauthorized Connection: Missing Authorization header"
        assert wrong[0]["error"] == "Unauthorized Connection: Invalid API key"
        assert missing[1] == wrong[1] == 1008
        assert begin["type"] == "Begin"
        assert key.encode() not in cmdline
        assert key not in server.err_path.read_text()
