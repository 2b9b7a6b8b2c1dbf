"""Temporary tokens (GET /v3/token) and websocket authorization (protocol reference section 2).

Tokens are HMAC-signed by a secret that lives only in this server process, so they stop
working when the server restarts, like any other expired token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from tui.server.params import InputError, to_int

MAX_SESSION_S = 10800


class Unauthorized(Exception):
    """Authorization failed; str() is the text after 'Unauthorized Connection: '."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    start_by: float  # unix time after which the token can no longer start a session
    max_session_s: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    def mint(self, expires_in_s: int, max_session_s: int = MAX_SESSION_S) -> str:
        claims = {"exp": time.time() + expires_in_s, "max": max_session_s, "n": secrets.token_hex(8)}
        payload = _b64(json.dumps(claims).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str) -> TokenClaims | None:
        """The token's claims if it is ours and may still start a session, else None."""
        payload, _, sig = token.partition(".")
        if not sig or not hmac.compare_digest(sig.encode(), self._sign(payload).encode()):
            return None
        try:
            claims = json.loads(_unb64(payload))
            result = TokenClaims(float(claims["exp"]), int(claims["max"]))
        except (ValueError, KeyError, TypeError):
            return None
        return result if result.start_by > time.time() else None


def authorize(
    authorization: str | None, token: str | None, api_key: str | None, issuer: TokenIssuer
) -> TokenClaims | None:
    """Check a websocket's credentials; return the token's claims when a token was used.

    The Authorization header may hold the API key or a token (the Python SDK sends tokens
    there); `token` is the ?token= query value. Without an api_key the server is open, but a
    valid token still caps the session.
    """
    for candidate in (token, authorization):
        if candidate and (claims := issuer.verify(candidate)):
            return claims
    if api_key is None:
        return None
    if authorization and hmac.compare_digest(authorization.encode(), api_key.encode()):
        return None
    if not authorization and not token:
        raise Unauthorized("Missing Authorization header")
    raise Unauthorized("Invalid API key")


def token_request(
    query: str, authorization: str | None, api_key: str | None, issuer: TokenIssuer
) -> tuple[int, dict]:
    """Answer GET /v3/token: (HTTP status, JSON body)."""
    if api_key is not None:
        if not authorization:
            return 401, {"error": "Missing Authorization header"}
        if not hmac.compare_digest(authorization.encode(), api_key.encode()):
            return 401, {"error": "Invalid API key"}
    fields = parse_qs(query)
    try:
        if not fields.get("expires_in_seconds"):
            raise InputError("expires_in_seconds", "Field required")
        expires = to_int("expires_in_seconds", fields["expires_in_seconds"][0], lo=1, hi=600)
        cap = fields.get("max_session_duration_seconds", [str(MAX_SESSION_S)])[0]
        max_session = to_int("max_session_duration_seconds", cap, lo=60, hi=MAX_SESSION_S)
    except InputError as exc:
        return 400, {"error": str(exc)}
    return 200, {"token": issuer.mint(expires, max_session), "expires_in_seconds": expires}
