"""Shared fixtures, and the network-guard verdict at the end of the session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


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
