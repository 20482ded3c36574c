"""Read the ``connect`` calls out of an strace log and pick out those that try to leave this machine (course tooling, no chapter).

``scripts/netcut.sh`` runs a command in a network namespace that has only loopback, under
``strace -f -qq -yy -e trace=connect -e signal=none -o LOG``, and then calls this module on LOG. The namespace
already makes every off-machine connection fail; this module makes such an attempt *fail the run*, even one that
native code (not Python's ``socket``, which ``course_utils.netguard`` wraps) made and quietly swallowed.

The rule, per address family:

``AF_INET`` / ``AF_INET6``
    Allowed: loopback (``127.0.0.0/8``, ``::1``, ``::ffff:127.x.x.x``) and the unspecified address
    (``0.0.0.0`` / ``::``, which Linux connects to loopback). Everything else is flagged. Port 53 (DNS) is
    flagged **even on loopback**: on a machine whose resolver is a local stub (systemd-resolved's
    ``127.0.0.53``, dnsmasq) a query to loopback port 53 is still a name lookup that the stub forwards to the
    network; inside the namespace nothing answers it, outside it would leave the machine.
``AF_UNIX``
    Allowed, with one exception. A Unix socket is machine-local IPC (Jupyter, ZMQ, D-Bus, X11), and an
    abstract one (``@name``) even belongs to the network namespace. But a path-named socket lives in the file
    system, which the network namespace does not isolate, so a connect to a *name-service daemon* reaches a
    process that does the lookup on the host's real network. systemd-resolved
    (``/run/systemd/resolve/io.systemd.Resolve``, used by ``nss-resolve``) and avahi (``/run/avahi-daemon/socket``,
    used by ``nss-mdns``) serve host names only: a connect to them is flagged whatever its result, since a
    machine that runs the daemon would do the lookup. nscd (``/run/nscd/socket``) is flagged only when the
    connect did not fail: glibc probes it before *every* kind of lookup (users and groups too, e.g.
    ``getpwuid``), and when no daemon listens (``ENOENT``/``ECONNREFUSED``, the usual case) glibc resolves by
    itself, so a host lookup then shows up anyway as the port-53 connect that the rule above flags.
    See :data:`RESOLVER_SOCKETS` and :data:`HOST_ONLY_RESOLVER_SOCKETS`.
``AF_UNSPEC`` / ``AF_NETLINK``
    Allowed: ``AF_UNSPEC`` dissolves a UDP socket's association, netlink talks to the local kernel.
any other family, or an address strace could not decode
    Flagged (``AF_VSOCK``, for one, leaves a virtual machine).

A call is flagged whether it succeeded or failed: in the namespace it always fails, and the point is that the
code *tried*.

Run as a script: ``python course_utils/netcut.py LOG`` prints the report and exits 1 when something is
flagged (stdlib only, so it runs without the course's virtual environment).
"""
from __future__ import annotations

import ipaddress
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

__all__ = ["Connect", "HOST_ONLY_RESOLVER_SOCKETS", "RESOLVER_SOCKETS", "parse_strace_connects", "is_off_loopback", "off_loopback",
           "summary_lines", "main"]

#: Unix sockets of daemons that resolve host names only (systemd-resolved's varlink socket, avahi for mDNS):
#: connecting to one is a host lookup by proxy, whether or not the daemon runs here.
HOST_ONLY_RESOLVER_SOCKETS: tuple[str, ...] = (
    "/run/systemd/resolve/io.systemd.Resolve", "/var/run/systemd/resolve/io.systemd.Resolve",
    "/run/avahi-daemon/socket", "/var/run/avahi-daemon/socket",
)
#: Every path-named Unix socket of a name-service daemon (nscd's serves users and groups as well as hosts).
RESOLVER_SOCKETS: tuple[str, ...] = ("/run/nscd/socket", "/var/run/nscd/socket") + HOST_ONLY_RESOLVER_SOCKETS
_NO_DAEMON = {"ENOENT", "ECONNREFUSED", "EACCES", "ENOTDIR"}
_LOCAL_FAMILIES = {"AF_UNSPEC", "AF_NETLINK"}


@dataclass(frozen=True)
class Connect:
    """One ``connect(2)`` call as strace printed it.

    ``family`` is strace's name (``AF_INET``, ``AF_INET6``, ``AF_UNIX``, ...; ``"?"`` when undecoded).
    ``host``/``port`` are set for IP families, ``path`` for ``AF_UNIX`` (abstract names start with ``@``).
    ``proto`` is the socket type strace's ``-yy`` printed (``TCP``, ``UDP``, ``UNIX-STREAM``, ...) or ``""``.
    ``result`` is the return text after ``=`` (``0``, ``-1 ENETUNREACH (Network is unreachable)``), ``""`` when
    the call never returned in the log.
    """

    pid: Optional[int]
    fd: int
    family: str
    host: Optional[str] = None
    port: Optional[int] = None
    path: Optional[str] = None
    proto: str = ""
    result: str = ""

    @property
    def errno(self) -> Optional[str]:
        """The errno name of a failed call (``ENETUNREACH``), ``None`` on success or when unknown."""
        m = re.match(r"-1 (E[A-Z0-9]+)", self.result)
        return m.group(1) if m else None

    def where(self) -> str:
        """The target in one short string: ``10.0.0.1:53``, ``[2001:db8::1]:80``, ``unix:/run/nscd/socket``."""
        if self.path is not None:
            return f"unix:{self.path}"
        if self.host is None:
            return f"{self.family}:?"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port is not None else host


# "<pid>  " (strace -f -o) or "[pid <pid>] " (strace -f to a terminal), then an optional -t/-tt/-ttt/-r stamp
_PREFIX = r"^(?:\[pid\s+(?P<pid1>\d+)\]\s+|(?P<pid2>\d+)\s+)?(?:[\d:.]+\s+)?"
_CALL = re.compile(_PREFIX + r"connect\((?P<fd>\d+)(?:<(?P<fdinfo>.*?)>)?,\s*(?P<rest>.*)$")
_RESUMED = re.compile(_PREFIX + r"<\.\.\. connect resumed>(?P<rest>.*)$")
_UNFINISHED = re.compile(r"\s*<unfinished \.\.\.>\s*$")
_FAMILY = re.compile(r"sa_family=(?P<fam>AF_[A-Z0-9]+|\d+)")
_PORT = re.compile(r"sin6?_port=htons\((?P<port>\d+)\)")
_V4 = re.compile(r'sin_addr=inet_addr\("(?P<addr>[^"]*)"\)')
_V6 = re.compile(r'inet_pton\(AF_INET6,\s*"(?P<addr>[^"]*)"')
_UNIX = re.compile(r'sun_path=(?P<at>@)?"(?P<path>(?:[^"\\]|\\.)*)"')
_RESULT = re.compile(r"\)\s*=\s*(?P<res>.*?)\s*$")


def _pid(m: re.Match[str]) -> Optional[int]:
    raw = m.group("pid1") or m.group("pid2")
    return int(raw) if raw else None


def _proto(fdinfo: Optional[str]) -> str:
    # -yy prints "3<TCP:[5686]>" or, once connected, "3<TCP:[127.0.0.1:1->127.0.0.1:2]>"; -y "3<socket:[5686]>"
    if not fdinfo:
        return ""
    proto = fdinfo.split(":", 1)[0]
    return "" if proto == "socket" else proto


def _decode(pid: Optional[int], fd: int, proto: str, addr_text: str) -> Connect:
    fam_m = _FAMILY.search(addr_text)
    family = fam_m.group("fam") if fam_m else "?"
    host: Optional[str] = None
    port: Optional[int] = None
    path: Optional[str] = None
    if family == "AF_INET":
        m = _V4.search(addr_text)
        host = m.group("addr") if m else None
    elif family == "AF_INET6":
        m = _V6.search(addr_text)
        host = m.group("addr") if m else None
    elif family == "AF_UNIX":
        m = _UNIX.search(addr_text)
        if m:
            path = ("@" if m.group("at") else "") + m.group("path")
        else:  # unnamed/empty sun_path
            path = ""
    pm = _PORT.search(addr_text)
    if pm:
        port = int(pm.group("port"))
    return Connect(pid=pid, fd=fd, family=family, host=host, port=port, path=path, proto=proto)


def parse_strace_connects(text: str) -> list[Connect]:
    """Every ``connect`` call in an strace log, in log order.

    Understands ``strace -f`` output with or without ``-o`` (``PID  connect(...)`` / ``[pid PID] connect(...)``),
    optional time stamps, ``-y``/``-yy`` fd decorations, and calls split by another thread into
    ``connect(... <unfinished ...>`` + ``<... connect resumed>) = ...`` (the address is on the first line, the
    result on the second, matched by pid). Lines that are not ``connect`` calls are ignored. A call that was
    still unfinished when the log ended is kept, with ``result == ""``.
    """
    out: list[Optional[Connect]] = []
    pending: dict[Optional[int], int] = {}  # pid -> index in out of its unfinished connect
    for line in text.splitlines():
        m = _CALL.match(line)
        if m:
            pid, rest = _pid(m), m.group("rest")
            conn = _decode(pid, int(m.group("fd")), _proto(m.group("fdinfo")), rest)
            if _UNFINISHED.search(rest):
                pending[pid] = len(out)
                out.append(conn)
                continue
            rm = _RESULT.search(rest)
            out.append(_with_result(conn, rm.group("res") if rm else ""))
            continue
        m = _RESUMED.match(line)
        if m:
            pid = _pid(m)
            idx = pending.pop(pid, None)
            rm = _RESULT.search(m.group("rest"))
            res = rm.group("res") if rm else ""
            if idx is not None and out[idx] is not None:
                out[idx] = _with_result(out[idx], res)  # type: ignore[arg-type]
            else:  # resumed without its start (log cut): address unknown, keep it so it is not lost
                out.append(Connect(pid=pid, fd=-1, family="?", result=res))
    return [c for c in out if c is not None]


def _with_result(conn: Connect, result: str) -> Connect:
    return Connect(conn.pid, conn.fd, conn.family, conn.host, conn.port, conn.path, conn.proto, result)


def _ip_is_local(host: str) -> bool:
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback or addr.is_unspecified


def is_off_loopback(conn: Connect) -> bool:
    """True when ``conn`` tried to reach beyond this machine (the rule is in the module docstring)."""
    if conn.family in _LOCAL_FAMILIES:
        return False
    if conn.family == "AF_UNIX":
        path = conn.path or ""
        if path in HOST_ONLY_RESOLVER_SOCKETS:
            return True
        return path in RESOLVER_SOCKETS and conn.errno not in _NO_DAEMON
    if conn.family in ("AF_INET", "AF_INET6"):
        if conn.host is None:
            return True
        if conn.port == 53:
            return True
        return not _ip_is_local(conn.host)
    return True


def off_loopback(connects: Iterable[Connect]) -> list[Connect]:
    """The calls of ``connects`` that tried to reach beyond this machine, in order."""
    return [c for c in connects if is_off_loopback(c)]


def _label(conn: Connect) -> str:
    bits = [conn.family]
    if conn.proto:
        bits.append(conn.proto)
    if conn.port == 53 or (conn.path or "") in RESOLVER_SOCKETS:
        bits.append("이름 조회")
    return ", ".join(bits)


def summary_lines(connects: list[Connect]) -> list[str]:
    """The report, in Korean: a one-line summary, then one line per distinct off-loopback target with a count."""
    bad = off_loopback(connects)
    lines = [f"[netcut] connect 시도 {len(connects)}회, 루프백 밖 {len(bad)}회"]
    groups: Counter[tuple[str, str, str]] = Counter()
    for c in bad:
        groups[(c.where(), _label(c), c.errno or (c.result or "결과 없음"))] += 1
    for (where, label, result), n in groups.most_common():
        lines.append(f"[netcut]   {where} ({label}) x{n} -> {result}")
    return lines


def main(argv: Optional[list[str]] = None) -> int:
    """``python course_utils/netcut.py LOG``: print the report; exit 1 if anything left loopback, 2 on misuse."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("사용법: python course_utils/netcut.py STRACE_LOG", file=sys.stderr)
        return 2
    text = Path(args[0]).read_text(encoding="utf-8", errors="replace")
    connects = parse_strace_connects(text)
    for line in summary_lines(connects):
        print(line)
    return 1 if off_loopback(connects) else 0


if __name__ == "__main__":
    sys.exit(main())
