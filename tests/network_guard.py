"""Refuse every non-loopback network connection for the whole test session.

Installed from ``conftest.pytest_configure`` so it is active before any test module imports
transformers or datasets, and in every Python child the tests start (``guard_site/`` is put
first on their PYTHONPATH). A test that tries to reach the network fails loudly with
``NetworkBlocked`` instead of silently passing on a machine that happens to be online; and
since code under test may catch that error (a worker thread turns any exception into a failed
job), every attempt is also recorded, and ``conftest`` fails the test that made one.
"""
from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from collections.abc import Iterator

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto
_real_sendmsg = getattr(socket.socket, "sendmsg", None)
_real_getaddrinfo = socket.getaddrinfo

# Where every attempt is written, the suite's and its children's (conftest sets it, and reads
# it after each test).
LOG_VARIABLE = "CLOISTER_TEST_NETWORK_LOG"


class NetworkBlocked(RuntimeError):
    pass


def _blocked(what: str) -> NetworkBlocked:
    log = os.environ.get(LOG_VARIABLE)
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"pid {os.getpid()}: {what}\n")
    return NetworkBlocked(what)


def logged() -> str:
    """Every attempt recorded so far in this session."""
    log = os.environ.get(LOG_VARIABLE)
    try:
        return open(log, encoding="utf-8").read() if log else ""
    except FileNotFoundError:
        return ""


@contextlib.contextmanager
def attempts_expected() -> Iterator[list[str]]:
    """For the guard's own tests: the attempts made inside, taken back out of the log so that
    they do not fail the test that made them on purpose."""
    before, made = logged(), []
    try:
        yield made
    finally:
        made += logged()[len(before):].splitlines()
        log = os.environ.get(LOG_VARIABLE)
        if log and made:
            with open(log, "w", encoding="utf-8") as handle:
                handle.write(before)


def _is_loopback_host(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in ("localhost", "localhost.localdomain", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _check(sock: socket.socket, address: object) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):  # a local socket (Unix, netlink)
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not _is_loopback_host(host):
        raise _blocked(f"test tried to open a network connection to {address!r}")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


def _guarded_sendto(self: socket.socket, data: bytes, *args: object) -> int:
    # sendto(data, address) or sendto(data, flags, address): a datagram needs no connect.
    _check(self, args[-1])
    return _real_sendto(self, data, *args)  # type: ignore[arg-type]


def _guarded_sendmsg(self: socket.socket, buffers: object, *args: object) -> int:
    if len(args) >= 3 and args[2] is not None:  # (ancdata, flags, address)
        _check(self, args[2])
    return _real_sendmsg(self, buffers, *args)  # type: ignore[misc]


def _guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if host is not None and not _is_loopback_host(host if isinstance(host, str) else host.decode()):
        raise _blocked(f"test tried to resolve the host name {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = _guarded_sendto  # type: ignore[method-assign, assignment]
    if _real_sendmsg is not None:  # not on Windows
        socket.socket.sendmsg = _guarded_sendmsg  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]
