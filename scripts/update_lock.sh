#!/usr/bin/env bash
# Rewrite requirements-lock.txt from the current course venv (after upgrading packages on purpose), then
# regenerate the notebook outputs:  COURSE_PROFILE=offline python -m course_utils run-notebooks --inplace
set -euo pipefail
cd "$(dirname "$0")/.."
. "${COURSE_VENV:-.venv}/bin/activate"
head -4 requirements-lock.txt > requirements-lock.txt.new
python -m pip freeze --exclude-editable | grep -viE '^(torch|pip|setuptools|wheel)==' >> requirements-lock.txt.new
mv requirements-lock.txt.new requirements-lock.txt
echo "requirements-lock.txt: $(grep -vc '^#' requirements-lock.txt) packages"
