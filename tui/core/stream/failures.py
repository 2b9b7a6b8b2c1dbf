"""Why a connection attempt failed, in plain words: one line for a person, no exception reprs."""

from __future__ import annotations

import errno
import socket
import ssl

import websockets
from websockets.exceptions import InvalidStatus, InvalidURI


def connect_failure(exc: BaseException, host: str, timeout_s: float | None = None, tls: bool = False) -> str:
    """`connection refused by 127.0.0.1:1`, `DNS failure: ...`, `TLS error ...`, `timed out ...`."""
    if isinstance(exc, InvalidStatus):
        return f"{host} answered HTTP {exc.response.status_code}, not a streaming session (check the URL)"
    if isinstance(exc, InvalidURI):
        return f"not a websocket URL: {exc.uri}"
    if isinstance(exc, websockets.InvalidHandshake):
        return f"{host} is not a v3 streaming server ({exc})"
    if isinstance(exc, TimeoutError):
        after = f" after {timeout_s:g} s" if timeout_s else ""
        return f"timed out connecting to {host}{after}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS error with {host}: certificate not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error with {host}: {exc.reason or exc.strerror or exc}"
    if isinstance(exc, socket.gaierror):
        return f"DNS failure: cannot find {host.rsplit(':', 1)[0]} ({exc.strerror})"
    if isinstance(exc, ConnectionRefusedError) or _refused(exc):
        return f"connection refused by {host} (nothing listening there?)"
    if isinstance(exc, (ConnectionResetError, EOFError)):
        if tls:  # a plain server hangs up on a TLS hello
            return f"TLS error with {host}: the server hung up on the TLS handshake (is it ws://, not wss://?)"
        return f"connection reset by {host}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot connect to {host}: {exc.strerror}"
    return f"cannot connect to {host}: {str(exc) or type(exc).__name__}"


def _refused(exc: BaseException) -> bool:
    # asyncio reports a refused connect to every address of a name (::1 and 127.0.0.1) as one
    # OSError("Multiple exceptions: [Errno 111] Connect call failed ...") without an errno.
    return isinstance(exc, OSError) and (exc.errno == errno.ECONNREFUSED or "Connect call failed" in str(exc))
