"""The unit layer runs in seconds: no child processes and no network sockets, enforced here."""

import socket
import subprocess

import pytest


def _refuse(what: str):
    def refused(*args, **kwargs):
        raise AssertionError(f"a unit test may not {what}: move it to tests/app or tests/e2e")
    return refused


@pytest.fixture(autouse=True)
def _no_processes_or_sockets(monkeypatch):
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a process"))
    for method in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, method, _refuse("open a network socket"))
