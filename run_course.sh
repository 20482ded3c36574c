#!/usr/bin/env bash
# Set up and open the course:   bash run_course.sh
# Instructor machine check:     bash run_course.sh --check   (runs every notebook headless, prints a time table)
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup_env.sh
python -m course_utils doctor || echo "[course] doctor가 문제를 찾았습니다: 위의 '해결' 줄을 따라 주세요."
if [ "${1:-}" = "--check" ]; then
  exec python -m course_utils run-notebooks
fi
exec jupyter lab notebooks/
