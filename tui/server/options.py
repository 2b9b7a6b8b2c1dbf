"""Settings of the local v3 server (`captioner serve`), shared by the server and its sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui.core.stream import protocol as p
from tui.server.faults import Faults


@dataclass(slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 0
    engine: str = "scripted"
    engine_options: dict[str, Any] = field(default_factory=dict)
    #: When set, sessions and /v3/token need this key (or a token minted with it).
    api_key: str | None = None
    max_session_s: float = 10800
    #: Delay before Begin; audio that arrives meanwhile is processed, its Turns wait.
    begin_delay_s: float = 0.0
    #: How far audio may run ahead of wall time before 3007 "rate exceeded".
    rate_buffer_s: float = 300
    #: The 2026 mode: every Turn formatted, one end-of-turn message.
    in_model_formatting: bool = False
    #: Close code when inactivity_timeout runs out (undocumented upstream).
    inactivity_close_code: int = p.SERVER_ERROR
    max_connections: int = 64
    #: Close code for sessions beyond max_connections: 1008 (observed) or 3009 (documented).
    too_many_close_code: int = p.UNAUTHORIZED
    #: CPU threads the engine may use.
    threads: int = 1
    faults: Faults = field(default_factory=Faults)
    #: Seconds of wall time between Heartbeat messages (with session_heartbeat).
    heartbeat_s: float = 5.0
    #: Stop when stdin reaches EOF (the app's child server dies with its parent).
    exit_on_stdin_eof: bool = False
