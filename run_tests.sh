#!/usr/bin/env bash
# Set up and run the whole test suite, offline:   bash run_tests.sh [extra pytest args]
# Unit tests + nbval on every notebook (committed outputs compared) + structure and run-twice checks, with the
# network cut twice: at the OS level (scripts/netcut.sh: a network namespace with only loopback, every connect(2)
# recorded by strace, DNS included; the run fails on any attempt to leave loopback) and in every Python process
# (course_utils.netguard). Where the OS cut is impossible (no root, macOS) netcut.sh says so in one line and the
# Python guard alone remains.  NETCUT=0 skips the OS cut.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup_env.sh
export COURSE_PROFILE=offline
export COURSE_NETGUARD=1
export COURSE_NETGUARD_LOG="${COURSE_NETGUARD_LOG:-$(mktemp -t netguard.XXXXXX)}"
export COURSE_WORK_DIR="${COURSE_WORK_DIR:-$(mktemp -d -t course-work.XXXXXX)}"
export PYTHONPATH="$PWD/tests/netguard${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONHASHSEED=0
: > "$COURSE_NETGUARD_LOG"
# Two pytest workers (pytest-xdist; COURSE_TEST_WORKERS=1 runs in one process). --dist loadfile keeps every cell of a
# notebook, and its second round, in one worker, in order: a notebook still runs in one kernel.
workers="${COURSE_TEST_WORKERS:-2}"
par=()
if [ "$workers" != "1" ] && python -c "import xdist" 2>/dev/null; then par=(-n "$workers" --dist loadfile); fi
t0=$(date +%s)
bash scripts/netcut.sh python -m pytest "${par[@]}" tests notebooks --nbval --nbval-current-env --nbval-cell-timeout=600 \
  --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider "$@"
echo "[tests] 전체 테스트 시간: $(( $(date +%s) - t0 )) s"
