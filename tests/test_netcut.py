"""The strace parser behind scripts/netcut.sh flags every connect that leaves loopback, and the script fails on it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.netcut import (
    Connect, is_off_loopback, main, off_loopback, parse_strace_connects, summary_lines,
)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "netcut.sh"

V4_LOOP = ('101  connect(3<TCP:[5686]>, {sa_family=AF_INET, sin_port=htons(45527), '
           'sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)')
V4_LOOP_OTHER = ('101  connect(4, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("127.3.2.1")}, 16) = 0')
V6_LOOP = ('102  connect(4<TCPv6:[5693]>, {sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), '
           'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ECONNREFUSED (Connection refused)')
V6_MAPPED = ('102  connect(5, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), '
             'inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0')
DNS = ('6735  connect(63<UDP:[12388]>, {sa_family=AF_INET, sin_port=htons(53), '
       'sin_addr=inet_addr("10.255.255.53")}, 16) = -1 ENETUNREACH (Network is unreachable)')
DNS_LOOP = ('6735  connect(63<UDP:[12389]>, {sa_family=AF_INET, sin_port=htons(53), '
            'sin_addr=inet_addr("127.0.0.53")}, 16) = 0')
PUBLIC_V4 = ('200  connect(7<TCP:[1]>, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("8.8.8.8")}, 16) '
             '= -1 ENETUNREACH (Network is unreachable)')
PUBLIC_V6 = ('200  connect(8, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
             'inet_pton(AF_INET6, "2606:4700::1111", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH (Network is unreachable)')


def _one(line: str) -> Connect:
    conns = parse_strace_connects(line)
    assert len(conns) == 1, conns
    return conns[0]


def test_loopback_ipv4_and_ipv6_are_allowed() -> None:
    conns = parse_strace_connects("\n".join([V4_LOOP, V4_LOOP_OTHER, V6_LOOP, V6_MAPPED]))
    assert [(c.family, c.host, c.port) for c in conns] == [
        ("AF_INET", "127.0.0.1", 45527), ("AF_INET", "127.3.2.1", 8000), ("AF_INET6", "::1", 9),
        ("AF_INET6", "::ffff:127.0.0.1", 80)]
    assert conns[0].proto == "TCP" and conns[0].errno == "EINPROGRESS" and conns[1].errno is None
    assert off_loopback(conns) == []


def test_dns_port_53_is_flagged_even_on_loopback() -> None:
    dns, stub = parse_strace_connects(DNS + "\n" + DNS_LOOP)
    assert (dns.host, dns.port, dns.proto, dns.errno) == ("10.255.255.53", 53, "UDP", "ENETUNREACH")
    assert is_off_loopback(dns)
    assert is_off_loopback(stub)  # systemd-resolved's 127.0.0.53 stub forwards to the network


def test_public_addresses_are_flagged() -> None:
    v4, v6 = parse_strace_connects(PUBLIC_V4 + "\n" + PUBLIC_V6)
    assert v4.where() == "8.8.8.8:443" and v6.where() == "[2606:4700::1111]:443"
    assert off_loopback([v4, v6]) == [v4, v6]


def test_unfinished_and_resumed_lines_are_joined_by_pid() -> None:
    log = "\n".join([
        '300  connect(9<TCP:[7]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.255.255.1")}, 16 '
        '<unfinished ...>',
        '301  connect(10, {sa_family=AF_INET, sin_port=htons(5000), sin_addr=inet_addr("127.0.0.1")}, 16 '
        '<unfinished ...>',
        "301  <... connect resumed>) = 0",
        "300  <... connect resumed>)            = -1 ENETUNREACH (Network is unreachable)",
        '302  connect(11, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.2")}, 16 <unfinished ...>',
    ])
    a, b, c = parse_strace_connects(log)
    assert (a.pid, a.host, a.port, a.errno) == (300, "10.255.255.1", 80, "ENETUNREACH")
    assert (b.pid, b.host, b.result) == (301, "127.0.0.1", "0")
    assert (c.host, c.result) == ("10.0.0.2", "")  # never resumed before the log ended: kept, still flagged
    assert off_loopback([a, b, c]) == [a, c]


def test_resumed_without_start_is_kept_and_flagged() -> None:
    (conn,) = parse_strace_connects("400  <... connect resumed>) = 0")
    assert conn.family == "?" and is_off_loopback(conn)


def test_unix_sockets_follow_the_resolver_rule() -> None:
    lines = [
        '1  connect(3<UNIX-STREAM:[1]>, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) '
        '= -1 ENOENT (No such file or directory)',                                            # glibc probe, no daemon
        '1  connect(3, {sa_family=AF_UNIX, sun_path="/run/nscd/socket"}, 110) = 0',            # a running nscd
        '1  connect(3, {sa_family=AF_UNIX, sun_path="/run/systemd/resolve/io.systemd.Resolve"}, 42) '
        '= -1 ENOENT (No such file or directory)',                                            # host lookups only
        '1  connect(3, {sa_family=AF_UNIX, sun_path="/run/user/0/jupyter/kernel-1.sock"}, 40) = 0',
        '1  connect(5<UNIX-STREAM:[2]>, {sa_family=AF_UNIX, sun_path=@"abstract-x"}, 13) = 0',
        '1  connect(6, {sa_family=AF_UNSPEC, sa_data="\\0\\0\\0\\0"}, 16) = 0',
        '1  connect(7, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 0',
    ]
    conns = parse_strace_connects("\n".join(lines))
    assert [c.path for c in conns[:5]] == ["/var/run/nscd/socket", "/run/nscd/socket",
                                           "/run/systemd/resolve/io.systemd.Resolve",
                                           "/run/user/0/jupyter/kernel-1.sock", "@abstract-x"]
    assert [is_off_loopback(c) for c in conns] == [False, True, True, False, False, False, False]


def test_undecoded_and_unknown_families_are_flagged() -> None:
    conns = parse_strace_connects("\n".join([
        "1  connect(3, 0x7ffd1234, 16) = -1 EFAULT (Bad address)",
        "1  connect(4, {sa_family=AF_VSOCK, svm_cid=2, svm_port=1024}, 16) = 0",
    ]))
    assert [c.family for c in conns] == ["?", "AF_VSOCK"] and len(off_loopback(conns)) == 2


def test_prefixes_timestamps_and_other_lines() -> None:
    log = "\n".join([
        '[pid  77] 12:00:01.123456 connect(3, {sa_family=AF_INET, sin_port=htons(80), '
        'sin_addr=inet_addr("192.0.2.7")}, 16) = -1 ENETUNREACH (Network is unreachable)',
        'connect(4, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        "77  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=78} ---",
        "77  +++ exited with 0 +++",
        " > /usr/lib/x86_64-linux-gnu/libc.so.6(__connect+0x4b) [0x10a7fb]",
    ])
    a, b = parse_strace_connects(log)
    assert (a.pid, a.host) == (77, "192.0.2.7") and (b.pid, b.host) == (None, "127.0.0.1")


def test_summary_and_main_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conns = parse_strace_connects("\n".join([V4_LOOP, DNS, DNS]))
    lines = summary_lines(conns)
    assert lines[0] == "[netcut] connect 시도 3회, 루프백 밖 2회"
    assert "10.255.255.53:53" in lines[1] and "x2" in lines[1] and "이름 조회" in lines[1]
    clean, dirty = tmp_path / "clean.log", tmp_path / "dirty.log"
    clean.write_text(V4_LOOP + "\n")
    dirty.write_text(V4_LOOP + "\n" + PUBLIC_V4 + "\n")
    assert main([str(clean)]) == 0
    assert "루프백 밖 0회" in capsys.readouterr().out
    assert main([str(dirty)]) == 1
    assert "8.8.8.8:443" in capsys.readouterr().out


# --- the script -------------------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    # The child must reach connect(2): drop the Python guard (it would refuse first, and log to the suite's log).
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_NETGUARD", "COURSE_NETGUARD_LOG", "NETCUT_LOG")}
    env.pop("NETCUT", None)
    return env


def _netcut(*cmd: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *cmd], capture_output=True, text=True, timeout=120,
                          env=env if env is not None else _clean_env())


def _os_cut_available() -> bool:
    """unshare -n and strace both work here (root, not inside another strace such as an outer netcut run)."""
    if sys.platform != "linux" or not all(shutil.which(t) for t in ("unshare", "strace", "ip")):
        return False
    probes = (["unshare", "-n", "ip", "link", "set", "lo", "up"],
              ["strace", "-f", "-qq", "-e", "trace=connect", "-o", "/dev/null", "true"])
    return all(subprocess.run(p, capture_output=True, timeout=30).returncode == 0 for p in probes)


def test_script_passes_the_command_status_through() -> None:
    res = _netcut(sys.executable, "-c", "import sys; sys.exit(3)")
    assert res.returncode == 3, res.stderr


def test_script_fallback_is_one_line_and_runs_the_command() -> None:
    res = _netcut("bash", "-c", "echo ran; exit 4", env=dict(_clean_env(), NETCUT="0"))
    assert res.returncode == 4 and res.stdout.strip() == "ran"
    assert res.stderr.count("\n") == 1 and "건너뜀" in res.stderr


@pytest.mark.skipif(not _os_cut_available(), reason="unshare -n / strace unavailable (or already under strace)")
def test_script_fails_on_an_off_loopback_connect_and_names_it() -> None:
    # Inside the namespace there is no route: the connect fails at once (ENETUNREACH), nothing is sent.
    probe = "import socket; socket.create_connection(('10.255.255.1', 80), timeout=0.5)"
    res = _netcut(sys.executable, "-c", probe)
    assert res.returncode != 0
    assert "10.255.255.1:80" in res.stderr and "루프백 밖 1회" in res.stderr, res.stderr


@pytest.mark.skipif(not _os_cut_available(), reason="unshare -n / strace unavailable (or already under strace)")
def test_script_allows_loopback_inside_the_namespace() -> None:
    probe = ("import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen();"
             "socket.create_connection(s.getsockname(), timeout=2).close(); print('ok')")
    res = _netcut(sys.executable, "-c", probe)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr
    assert "루프백 밖 0회" in res.stderr


@pytest.mark.skipif(os.environ.get("COURSE_NETCUT") != "1", reason="not running inside scripts/netcut.sh")
def test_inside_the_cut_only_loopback_exists_and_strace_watches() -> None:
    """When run_tests.sh runs this suite through netcut.sh: the namespace has only ``lo``, and a tracer is attached."""
    import socket

    assert [name for _, name in socket.if_nameindex()] == ["lo"]
    status = Path("/proc/self/status").read_text()
    tracer = int(next(line.split()[1] for line in status.splitlines() if line.startswith("TracerPid:")))
    assert tracer != 0, "netcut.sh 안인데 strace 가 붙어 있지 않습니다"
