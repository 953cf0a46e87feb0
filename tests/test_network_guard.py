"""The suite's own network guard (tests/network_guard.py): what it blocks, in the suite's
process and in the children the tests start, and that an attempt is recorded (and so fails the
test that made it, `conftest.no_network_attempts`) even when the code under test swallowed the
error."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.network_guard import NetworkBlocked, attempts_expected

REPO = Path(__file__).resolve().parents[1]
NOWHERE = ("192.0.2.1", 9)  # TEST-NET-1: never routed


def test_a_datagram_needs_no_connection_and_is_blocked_too() -> None:
    with attempts_expected() as made, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(NetworkBlocked, match="192.0.2.1"):
            sock.sendto(b"telemetry", NOWHERE)
        with pytest.raises(NetworkBlocked, match="192.0.2.1"):
            sock.sendto(b"telemetry", 0, NOWHERE)
        with pytest.raises(NetworkBlocked, match="192.0.2.1"):
            sock.sendmsg([b"telemetry"], [], 0, NOWHERE)
    assert len(made) == 3


def test_loopback_datagrams_still_go_through() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        client.sendto(b"ping", server.getsockname())
        assert server.recv(4) == b"ping"


def test_an_attempt_the_code_swallowed_is_still_recorded() -> None:
    with attempts_expected() as made:
        try:  # what a worker thread's catch-all does with any exception
            socket.create_connection(NOWHERE, timeout=1)
        except Exception:  # noqa: BLE001 - the point of the test
            pass
    assert len(made) == 1 and "192.0.2.1" in made[0]


def test_a_child_python_is_guarded_and_reports_to_the_suite() -> None:
    code = ("import os, socket\n"
            "try:\n    socket.create_connection(('192.0.2.1', 9), timeout=1)\n"
            "except Exception as exc:\n    print(type(exc).__name__, os.getpid())\n")
    with attempts_expected() as made:
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                              text=True, timeout=120, check=True)
    name, pid = done.stdout.split()
    assert name == "NetworkBlocked"
    assert len(made) == 1 and made[0].startswith(f"pid {pid}:") and "192.0.2.1" in made[0]
