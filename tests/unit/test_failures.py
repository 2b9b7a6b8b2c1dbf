"""Connection failures in plain words (tui/core/stream/failures.py)."""

from __future__ import annotations

import socket
import ssl

from tui.core.stream import protocol as p
from tui.core.stream.failures import connect_failure

HOST = "127.0.0.1:1"


def test_each_failure_reads_as_a_person_would_say_it():
    refused = OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 1), [Errno 111] ...")
    assert connect_failure(refused, HOST) == "connection refused by 127.0.0.1:1 (nothing listening there?)"
    assert connect_failure(ConnectionRefusedError(111, "Connect call failed"), HOST).startswith("connection refused by")
    dns = socket.gaierror(-2, "Name or service not known")
    assert connect_failure(dns, "x.invalid:443") == "DNS failure: cannot find x.invalid (Name or service not known)"
    assert connect_failure(TimeoutError(), HOST, 10) == "timed out connecting to 127.0.0.1:1 after 10 s"
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert.verify_message = "self-signed certificate"
    assert connect_failure(cert, HOST) == "TLS error with 127.0.0.1:1: certificate not trusted (self-signed certificate)"
    assert connect_failure(ConnectionResetError(), HOST, tls=True).startswith("TLS error with 127.0.0.1:1: ")
    assert connect_failure(ConnectionResetError(), HOST) == "connection reset by 127.0.0.1:1"
    assert connect_failure(OSError(101, "Network is unreachable"), HOST) == "cannot connect to 127.0.0.1:1: Network is unreachable"


def test_a_close_without_code_is_its_reason_and_a_server_close_names_code_and_reason():
    assert p.describe_close(None, "connection refused by h:1") == "connection refused by h:1"
    assert p.describe_close(None) == "connection closed"
    assert p.describe_close(4321, "going away") == "closed by the server (4321: going away)"
    assert p.describe_close(1006) == "connection lost without a close frame (1006)"
