#!/usr/bin/env bash
# Set up the course environment: a virtual environment with the course package and the offline models.
# Sourced by run_course.sh and run_tests.sh. Idempotent: re-running skips the install when pyproject.toml has
# not changed (hash stamp in the venv).
#   COURSE_VENV        where the venv lives (default: <repo>/.venv)
#   PYTHON             interpreter to create it with (default: python3)
#   COURSE_TORCH_SPEC  torch requirement installed first when torch is missing (default: torch==2.13.0, the CPU
#                      wheel the course machines carry; elsewhere set it to what your platform needs)
#   COURSE_LOCK        auto (default): on Linux x86-64 with CPython 3.11 (the course machines, CI) install with
#                      '-c requirements-lock.txt', the exact versions the committed notebook outputs came from;
#                      0: lower bounds only (newest versions); 1: always use the lock
set -euo pipefail
COURSE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${COURSE_VENV:-$COURSE_ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] 가상환경 만들기: $VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
stamp="$VENV/.course-setup-stamp"
want="$(cat "$COURSE_ROOT/pyproject.toml" "$COURSE_ROOT/scripts/setup_env.sh" "$COURSE_ROOT/requirements-lock.txt" \
  | sha256sum | cut -d' ' -f1)"
lock_args=()
case "${COURSE_LOCK:-auto}" in
  1) lock_args=(-c "$COURSE_ROOT/requirements-lock.txt") ;;
  auto) if python -c 'import platform, sys; sys.exit(not (sys.version_info[:2] == (3, 11) and platform.system() == "Linux" and platform.machine() == "x86_64"))'; then
          lock_args=(-c "$COURSE_ROOT/requirements-lock.txt")
        fi ;;
esac
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  t0=$(date +%s)
  python -m pip install -q --disable-pip-version-check --upgrade pip
  if ! python -c "import torch" 2>/dev/null; then
    echo "[setup] torch 설치: ${COURSE_TORCH_SPEC:-torch==2.13.0}"
    python -m pip install -q --disable-pip-version-check "${COURSE_TORCH_SPEC:-torch==2.13.0}"
  fi
  echo "[setup] 코스 패키지와 오프라인 모델 설치 (pip install -e '.[offline,dev]'${lock_args:+, 고정 버전 requirements-lock.txt})"
  python -m pip install -q --disable-pip-version-check "${lock_args[@]}" -e "$COURSE_ROOT[offline,dev]"
  echo "[setup] 오프라인 자산 준비 (ONNX 내보내기, numba 캐시)"
  COURSE_PROFILE=offline python -m course_utils warmup
  echo "$want" > "$stamp"
  echo "[setup] 설치 완료: $(( $(date +%s) - t0 )) s"
else
  echo "[setup] 이미 설치됨 ($VENV)"
fi
