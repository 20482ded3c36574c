"""Every notebook runs twice in one kernel without errors (re-run safety: clients closed, collections idempotent)."""
from __future__ import annotations

from pathlib import Path

import pytest

from course_utils.notebooks import execute, list_notebooks


@pytest.mark.parametrize("path", list_notebooks(), ids=lambda p: p.name)
def test_runs_twice_in_one_kernel(path: Path) -> None:
    result = execute(path, rounds=2)
    assert result.error is None, result.error
