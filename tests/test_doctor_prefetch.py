"""doctor reports and fails with fix-it lines; prefetch plans pinned downloads without touching the network."""
from __future__ import annotations

import subprocess
import sys

import pytest

from course_utils import doctor, prefetch


def test_doctor_passes_here(capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor.main() == 0
    out = capsys.readouterr().out
    for needle in ("프로필:", "ko_dense", "한글 폰트", "Qdrant:", "쓰기 가능"):
        assert needle in out


def test_doctor_fails_with_a_fix_line_when_the_font_is_missing(monkeypatch, capsys) -> None:
    import course_utils.plotting as plotting

    monkeypatch.setattr(plotting, "find_korean_font", lambda: None)
    assert doctor.main() == 1
    out = capsys.readouterr().out
    assert "한글 폰트" in out and "해결:" in out and "fonts-nanum" in out


def test_doctor_reports_server_mode(monkeypatch, capsys) -> None:
    monkeypatch.setenv("QDRANT_URL", "http://localhost:6333")
    doctor.main()
    assert "서버 모드" in capsys.readouterr().out


def test_prefetch_plan_pins_revisions(tmp_path) -> None:
    items = prefetch.plan(tmp_path, with_comparison=True)
    ids = {i.model_id: i for i in items}
    assert ids["nlpai-lab/KURE-v1"].revision == "d14c8a9423946e268a0c9952fecf3a7aabd73bd9"
    assert "BAAI/bge-m3" in ids and "nlpai-lab/KoE5" in ids
    assert ids["sentence-transformers/static-retrieval-mrl-en-v1"].revision == "f60985c706f192d45d218078e49e5a8b6f15283a"
    assert all(i.target.parent == tmp_path for i in items)
    assert len({(i.model_id, i.target) for i in items}) == len(items)  # no duplicates
    # the same id through FastEmbed (its own ONNX repo, no revision) and sentence-transformers (pinned) is two downloads
    e5_large = {i.target.name: i.revision for i in items if i.model_id == "intfloat/multilingual-e5-large"}
    assert e5_large == {"fastembed": None, "hub": "ab10c1a7f42e74530fe7ae5be82e6d4f11a719eb"}


def test_prefetch_dry_run_cli_downloads_nothing(tmp_path) -> None:
    out = subprocess.run([sys.executable, "-m", "course_utils", "prefetch", "--dry-run", "--target", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "dry-run" in out.stdout and "KURE-v1" in out.stdout
    assert not any(tmp_path.iterdir())


def test_doctor_load_checks_really_load_and_report_failures(monkeypatch) -> None:
    rows = {r["role"]: r for r in doctor.load_checks("offline", roles=("bm25", "static", "reranker"))}
    assert rows["bm25"]["status"] == "로드 확인" and rows["static"]["status"] == "로드 확인"
    assert rows["reranker"]["status"] == "없음"  # the offline profile has no reranker, by design

    import course_utils.models as models

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("weights missing")

    monkeypatch.setattr(models, "load_model", broken)
    failed = doctor.load_checks("offline", roles=("static",))[0]
    assert failed["status"] == "실패" and "weights missing" in failed["note"]
