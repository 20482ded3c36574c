"""Every notebook runs under the ``full`` profile against the stand-in hub (issue 11): no cell may fail.

The stand-in hub (:mod:`course_utils.standin_hub`) holds every model the full profile loads, with random tiny weights
but the real architectures, tokenizers and file layouts, so the full profile's code paths run here with the network
cut (``HF_HUB_OFFLINE=1``, ``COURSE_FALLBACK=none``: a model that fails to load fails the notebook instead of quietly
becoming the offline one). Outputs are not compared (the weights are random). What is checked:

- no cell raises;
- every banner of a full-profile load says the model is a stand-in;
- the quality claims the notebooks skip (:func:`course_utils.measured`) are collected, by name, with the time each
  notebook took, into ``workspace/full_profile_claims.md`` (``COURSE_FULL_REPORT`` overrides the path) and printed.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path

import pytest

from course_utils.notebooks import Result, execute, list_notebooks

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = list_notebooks(REPO / "notebooks")
LEAD_FIXES: set[str] = set()
"""Notebooks allowed to fail under the full profile (none: every chapter runs against the stand-in hub)."""
REPORT = Path(os.environ.get("COURSE_FULL_REPORT", REPO / "workspace" / "full_profile_claims.md"))
_BANNER = re.compile(r"^\[모델\] .*$", re.M)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the colours of IPython tracebacks


@pytest.fixture(scope="session")
def standin_env() -> dict[str, str]:
    """The environment that points a kernel at the stand-in hub (built once into the cache, reused afterwards)."""
    standin_hub = pytest.importorskip("course_utils.standin_hub")
    target = standin_hub.default_target()
    standin_hub.build(target, verbose=False)
    return standin_hub.standin_environment(target)


def _params() -> list:
    return [pytest.param(p, id=p.name[:2], marks=[pytest.mark.xfail(strict=False, reason="lead fixes after merge")]
                         if p.name[:2] in LEAD_FIXES else []) for p in NOTEBOOKS]


def _stdout(nb) -> str:  # type: ignore[no-untyped-def]
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
    return "".join(parts)


def _write_report(folder: Path) -> None:
    """Rewrite the report from every notebook's record so far (each test adds its own; workers may run in parallel)."""
    records = sorted((json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")),
                     key=lambda r: r["notebook"])
    lines = ["# full 프로필 실행: 대역(stand-in) 허브, 무작위 가중치 (tests/test_full_profile.py 가 씀)", "",
             "| 노트북 | 시간 s | 결과 | 건너뛴 품질 주장 |", "|---|---:|---|---:|"]
    for r in records:
        lines.append(f"| {r['notebook']} | {r['seconds']:.1f} | {r['status']} | {len(r['skipped'])} |")
    lines.append(f"| **합계** | {sum(r['seconds'] for r in records):.1f} | | "
                 f"{sum(len(r['skipped']) for r in records)} |")
    lines += ["", "## 건너뛴 품질 주장 (이 모델로 잰 주장이 아니므로 assert 하지 않음)", ""]
    for r in records:
        lines.append(f"### {r['notebook']}")
        lines += [f"- {s['claim']} — {s['reason']}" for s in r["skipped"]] or ["- (없음)"]
        if r["error"]:
            lines += ["", "오류:", "```", _ANSI.sub("", r["error"])[:3000], "```"]
        lines.append("")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=REPORT.parent, suffix=".md")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    os.replace(tmp, REPORT)


@pytest.mark.parametrize("path", _params())
def test_notebook_runs_under_full_profile(path: Path, standin_env: dict[str, str], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    claims_log = tmp_path / "claims.jsonl"
    for key, value in {**standin_env, "COURSE_CLAIMS_LOG": str(claims_log), "PYTHONHASHSEED": "0",
                       "COURSE_WORK_DIR": str(tmp_path / "work")}.items():
        monkeypatch.setenv(key, value)  # the kernel inherits this process's environment; restored after the test
    start = time.perf_counter()
    try:
        res = execute(path, timeout=600)
    except Exception as exc:  # a dead kernel or a cell timeout: reported like a cell error
        res = Result(path, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
    skipped = [json.loads(x) for x in claims_log.read_text(encoding="utf-8").splitlines()] if claims_log.exists() else []
    banners = _BANNER.findall(_stdout(res.notebook)) if res.notebook is not None else []
    full_banners = [b for b in banners if "profile=full" in b]
    not_marked = [b for b in full_banners if "대역(stand-in)" not in b]
    status = "오류" if res.error else ("배너 누락" if not_marked else "ok")
    folder = REPORT.parent / "full_profile"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{path.name[:2]}.json").write_text(json.dumps(
        {"notebook": path.name, "seconds": round(res.seconds, 1), "status": status, "skipped": skipped,
         "banners": len(full_banners), "error": res.error}, ensure_ascii=False), encoding="utf-8")
    _write_report(folder)
    print(f"{path.name}: {res.seconds:.1f} s, full 배너 {len(full_banners)}개, 건너뛴 주장 {len(skipped)}개 -> {REPORT}")
    for s in skipped:
        print(f"  [건너뜀] {s['claim']} ({s['reason']})")
    assert res.error is None, f"{path.name} 가 full 프로필(대역 허브)에서 실패:\n{_ANSI.sub('', res.error)}"
    assert not not_marked, "대역(stand-in)이라고 말하지 않는 full 프로필 배너:\n" + "\n".join(not_marked)
