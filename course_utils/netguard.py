"""A network guard: refuse and record every connection that leaves this machine (course tooling, no chapter).

Installed in a process (``install()``), it wraps ``socket.socket.connect``/``connect_ex``,
``socket.create_connection`` and ``socket.getaddrinfo``: loopback and Unix sockets pass (Jupyter kernels talk
over 127.0.0.1), anything else raises :class:`NetworkBlocked` and is appended to the log file named by
``COURSE_NETGUARD_LOG``. The test suite turns it on for every process (pytest, notebook kernels) through
``tests/netguard/sitecustomize.py`` and fails if the log is not empty at the end, which proves that the offline
run opened no connection, even one a library caught and swallowed.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import traceback

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}
_installed = False


class NetworkBlocked(OSError):
    """Raised instead of opening a connection to another machine."""


def _is_local(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").lower()
    if host in _LOCAL_NAMES:
        return True
    try:
        addr = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return addr.is_loopback or addr.is_unspecified


def _record(what: str) -> None:
    log = os.environ.get("COURSE_NETGUARD_LOG")
    if log:
        stack = "".join(traceback.format_stack(limit=12)[:-2])
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"pid={os.getpid()} {what}\n{stack}\n---\n")


def _check(family: int, address: object) -> None:
    if family == getattr(socket, "AF_UNIX", -1):
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not _is_local(host):
        _record(f"connect {address!r}")
        raise NetworkBlocked(f"network guard: connection to {address!r} refused (offline run)")


def install() -> None:
    """Install the guard in this process (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    orig_connect, orig_connect_ex = socket.socket.connect, socket.socket.connect_ex
    orig_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> None:
        _check(self.family, address)
        return orig_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        _check(self.family, address)
        return orig_connect_ex(self, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if not _is_local(host):
            _record(f"getaddrinfo {host!r}")
            raise NetworkBlocked(f"network guard: name lookup of {host!r} refused (offline run)")
        return orig_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
