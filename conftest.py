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
    """Run-twice check inside nbval: after a notebook's last cell, run every cell again in the same kernel.

    The first round is nbval's usual restart-and-run-all with outputs compared; the second round ("2회차") compares
    nothing but fails on any error, which proves that re-running a notebook in one kernel is safe (clients closed,
    collections re-created idempotently). Doing it inside nbval's kernel saves a third execution per notebook.
    """
    if not config.getoption("nbval", default=False) or os.environ.get("COURSE_SKIP_RERUN") == "1":
        return
    from collections import defaultdict

    from nbval.plugin import IPyNbCell

    result: list = []
    pending: list = []

    def flush() -> None:
        if pending:
            parent = pending[0].parent
            for cell in pending:
                options = defaultdict(bool, cell.options)
                options["check"] = False
                result.append(IPyNbCell.from_parent(parent, name=f"{cell.name} (2회차)", cell_num=cell.cell_num,
                                                    cell=cell.cell, options=options))
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
