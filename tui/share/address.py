"""`--share HOST:PORT` and `--share-token`: checked and bound before anything starts.

Loopback needs no token. Any other address does, because the captions may be private:
without one the run is refused (exit 2). `--share-token auto` makes one up; it is printed
once, as part of the URL.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import quote

AUTO_TOKEN = "auto"
TOKEN_ENV = "CAPTIONER_SHARE_TOKEN"  # keeps the token out of the process list


class ShareError(ValueError):
    """A --share or --share-token value that cannot work: one line, exit status 2."""


@dataclass
class ShareSpec:
    """A listening socket and how viewers reach it."""

    sock: socket.socket
    host: str
    port: int
    token: str  # "" on loopback without a token

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?token={quote(self.token)}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"


def parse_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ShareError(f"--share {value}: give HOST:PORT, e.g. 127.0.0.1:8080 (port 0: any free port)")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def resolve_token(host: str, token: str | None, value: str) -> str:
    if token == AUTO_TOKEN:
        return secrets.token_urlsafe(16)
    if token is not None and len(token) < 8:
        raise ShareError("--share-token: use at least 8 characters (or auto to make one up)")
    if token is None and not is_loopback(host):
        raise ShareError(f"--share {value}: a non-loopback address needs --share-token TOKEN "
                         "(or --share-token auto)")
    return token or ""


def open_share(value: str, token: str | None) -> ShareSpec:
    """Check the flags and bind the socket now: a taken port is bad input, found at once."""
    host, port = parse_address(value)
    token = resolve_token(host, token, value)
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise ShareError(f"--share {value}: unknown host ({exc.strerror})") from None
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(info[4])
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ShareError(f"--share {value}: cannot listen there: {exc.strerror}") from None
    sock.setblocking(False)
    return ShareSpec(sock, host, sock.getsockname()[1], token)
