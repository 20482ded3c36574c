"""Shared fixtures, and the network-guard verdict at the end of the session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent

# nbval compares numbers within a stated tolerance and everything else exactly (course_utils/nbcompare.py).
pytest_plugins = ("course_utils.nbcompare",)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any process of it tried to open a connection off this machine (see course_utils.netguard)."""
    log = os.environ.get("COURSE_NETGUARD_LOG")
    if not log or not Path(log).exists():
        return
    text = Path(log).read_text(encoding="utf-8").strip()
    if text:
        print("\n\nNETWORK GUARD: the offline run tried to reach the network:\n" + text[:5000])
        session.exitstatus = 1


@pytest.fixture
def guard_log(tmp_path: Path) -> Path:
    return tmp_path / "netguard.log"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """Inside nbval, after a notebook's last cell: run every cell again (2회차), then every exercise solution.

    The first round is nbval's usual restart-and-run-all with outputs compared; the second round ("2회차") compares
    nothing but fails on any error, which proves that re-running a notebook in one kernel is safe (clients closed,
    collections re-created idempotently). Then each exercise solution (the ``python`` blocks in the last cell's
    ``<details>``, :func:`course_utils.truth.solutions`) runs in the same kernel, as a learner would run it after the
    notebook: it must not raise. Doing both inside nbval's kernel saves executing each notebook again.
    ``COURSE_SKIP_RERUN=1`` skips the second round, ``COURSE_SKIP_SOLUTIONS=1`` the solutions.
    """
    rerun = os.environ.get("COURSE_SKIP_RERUN") != "1"
    solve = os.environ.get("COURSE_SKIP_SOLUTIONS") != "1"
    if not config.getoption("nbval", default=False) or not (rerun or solve):
        return
    from collections import defaultdict

    import nbformat
    from nbval.plugin import IPyNbCell

    from course_utils.truth import solutions

    result: list = []
    pending: list = []

    def flush() -> None:
        if not pending:
            return
        parent = pending[0].parent
        if rerun:
            for cell in pending:
                options = defaultdict(bool, cell.options)
                options["check"] = False
                result.append(IPyNbCell.from_parent(parent, name=f"{cell.name} (2회차)", cell_num=cell.cell_num,
                                                    cell=cell.cell, options=options))
        if solve:
            last = pending[-1].cell_num
            for sol in solutions(Path(str(parent.fspath))):
                options = defaultdict(bool)
                options["check"] = False
                result.append(IPyNbCell.from_parent(parent, name=f"풀이 {sol.number} ({sol.label})",
                                                    cell_num=last + sol.number, options=options,
                                                    cell=nbformat.v4.new_code_cell(sol.code)))
        pending.clear()

    for item in items:
        if isinstance(item, IPyNbCell):
            if pending and item.parent is not pending[0].parent:
                flush()
            pending.append(item)
        else:
            flush()
        result.append(item)
    flush()
    items[:] = result
