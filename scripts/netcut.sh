#!/usr/bin/env bash
# Run a command with the network cut at the OS level and fail if anything in it tried to leave the machine:
#   bash scripts/netcut.sh CMD [ARGS...]
# CMD runs in a fresh network namespace with only loopback up (unshare -n; Jupyter kernels need 127.0.0.1),
# under strace (--seccomp-bpf where it works), which records every connect(2) of every process and thread,
# native code included (the Python guard COURSE_NETGUARD=1 sees only Python's socket module). Afterwards
# course_utils/netcut.py reads the log: a connect to anything but loopback (port 53 DNS included, even on
# loopback; nscd/systemd-resolved/avahi sockets, see that module's docstring) is listed and the script exits 1
# even if CMD succeeded; otherwise it exits with CMD's status. No packet can leave: the namespace has no route,
# so such a connect fails at once (ENETUNREACH).
# Where the cut is not possible (not root, no unshare/strace/ip, a container without CAP_SYS_ADMIN or ptrace,
# not Linux) it says so in one line and just runs CMD.
#   NETCUT_LOG   where to write the strace log (default: a temp file, removed when nothing was flagged)
#   NETCUT=0     skip the cut, just run CMD
# Inside the cut COURSE_NETCUT=1 is set, so a test can check that it really runs there (tests/test_netcut.py).
set -uo pipefail
if [ $# -eq 0 ]; then
  echo "사용법: bash scripts/netcut.sh CMD [ARGS...]" >&2
  exit 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

why=""
if [ "${NETCUT:-1}" = "0" ]; then
  why="NETCUT=0"
elif [ "$(uname -s)" != "Linux" ]; then
  why="Linux 가 아님 ($(uname -s))"
elif ! command -v unshare >/dev/null 2>&1 || ! command -v strace >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
  why="unshare/strace/ip 명령 없음 (Debian: apt-get install util-linux strace iproute2)"
elif ! unshare -n ip link set lo up >/dev/null 2>&1; then
  why="네트워크 namespace 를 만들 권한 없음 (root 아님 또는 CAP_SYS_ADMIN 없는 컨테이너)"
elif ! strace -f -qq -e trace=connect -o /dev/null true >/dev/null 2>&1; then
  why="strace 가 동작하지 않음 (ptrace 금지)"
fi
if [ -n "$why" ]; then
  echo "[netcut] OS 수준 네트워크 차단 건너뜀: $why -> 명령만 그대로 실행합니다 (Python 가드 COURSE_NETGUARD 는 그대로)" >&2
  exec "$@"
fi

# --seccomp-bpf (strace >= 5.3) stops the tracee only at connect(2), not at every syscall: ~6x less overhead.
seccomp=""
if strace -f -qq --seccomp-bpf -e trace=connect -o /dev/null true >/dev/null 2>&1; then seccomp="--seccomp-bpf"; fi

py="python3"
if [ -x "$ROOT/.venv/bin/python" ]; then py="$ROOT/.venv/bin/python"; fi
command -v "$py" >/dev/null 2>&1 || py="python"

log="${NETCUT_LOG:-}"
keep_log=1
if [ -z "$log" ]; then
  log="$(mktemp -t netcut.XXXXXX)"
  keep_log=0
fi
: > "$log"

# strace runs inside the namespace, so it traces CMD and its children only; it exits with CMD's status.
unshare -n -- bash -c 'ip link set lo up || exit 97
log=$0 seccomp=$1; shift
export COURSE_NETCUT=1
exec strace -f -qq $seccomp -yy -e trace=connect -e signal=none -o "$log" -- "$@"' "$log" "$seccomp" "$@"
rc=$?

"$py" "$ROOT/course_utils/netcut.py" "$log" >&2
parse_rc=$?
if [ "$parse_rc" -eq 1 ]; then
  echo "[netcut] 실패: 루프백 밖으로의 연결 시도가 있었습니다 (명령 종료 코드 $rc). strace 로그: $log" >&2
  exit 1
elif [ "$parse_rc" -ne 0 ]; then
  echo "[netcut] 실패: strace 로그를 읽지 못했습니다 ($py course_utils/netcut.py, 종료 코드 $parse_rc). 로그: $log" >&2
  exit 1
fi
[ "$keep_log" = "1" ] || rm -f "$log"
exit "$rc"
