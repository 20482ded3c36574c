"""Structure checks for every course notebook: intro first, Colab-only setup, imports up front, outputs stored,
summary and exercises at the end, no removed qdrant-client APIs, no absolute paths, no errors in outputs."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course_utils.notebooks import list_notebooks

NOTEBOOKS = list_notebooks()
# qdrant-client 1.20 removed these client methods (engines and FAISS indexes may still have a .search of their own)
REMOVED_QDRANT = re.compile(
    r"\b(client|qdrant|qdrant_client|qc)\.(search|search_batch|recommend|upload_records|add|query)\("
    r"|\.search\(\s*collection_name|recreate_collection\(")
ABS_PATH = re.compile(r"[\"'](/(?!content\b)[\w.-]+/[\w./-]+)|[\"'][A-Za-z]:\\\\")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 2
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_is_the_introduction(path: Path) -> None:
    first = _cells(path)[0]
    text = _src(first)
    assert first["cell_type"] == "markdown" and text.startswith("# ")
    assert f"colab.research.google.com/github/" in text and f"notebooks/{path.name}" in text, "Colab badge"
    assert "소요 시간" in text and "난이도" in text
    assert "학습 목표" in text and "선수 지식" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_installs_only_on_colab_and_imports_come_next(path: Path) -> None:
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    setup = _src(code[0])
    assert "google.colab" in setup and "pip install" in setup
    for line in setup.splitlines():
        if "pip install" in line:
            assert line.startswith("    "), "pip install must sit inside the `if IN_COLAB` block"
    imports = _src(code[1])
    assert "import" in imports and "course_utils" in imports, "second code cell: imports, with course_utils"
    for cell in code[2:]:
        for line in _src(cell).splitlines():
            assert not re.match(r"^(import |from \S+ import )", line), f"top-level import after the import cell: {line!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_ends_with_summary_exercises_solutions_and_next_link(path: Path) -> None:
    last = _src(_cells(path)[-1])
    assert "## 정리" in last and "## 연습 문제" in last
    assert "<details>" in last and "풀이" in last
    assert "다음" in last


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stored_and_clean(path: Path) -> None:
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code), "regenerate outputs: python -m course_utils run-notebooks --inplace"
    outs = json.dumps([c.get("outputs", []) for c in code], ensure_ascii=False)
    assert '"output_type": "error"' not in outs and "Traceback" not in outs
    for machine_path in ("/work/", "/home/", "/root/", "/tmp/", "site-packages"):
        assert machine_path not in outs, f"machine path {machine_path!r} in outputs (regenerate without COURSE_WORK_DIR)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_removed_qdrant_api_and_no_absolute_paths(path: Path) -> None:
    src = "\n".join(_src(c) for c in _cells(path) if c["cell_type"] == "code")
    assert not REMOVED_QDRANT.search(src), "qdrant-client 1.20 removed search/recommend/...; use query_points"
    assert not ABS_PATH.search(src), "use paths relative to the repository"
    assert "data/" not in re.sub(r"#.*", "", src) or "data_dir" in src, "notebooks read data through course_utils"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_badge_and_setup_cell_come_from_the_one_repository_url(path: Path) -> None:
    """The repository URL lives in course_utils.config.REPO_URL; `python -m course_utils sync-colab` writes it here."""
    from course_utils.config import COLAB_DIR, REPO_URL
    from course_utils.notebooks import colab_setup_source, colab_url

    cells = _cells(path)
    assert f"({colab_url(path)})" in _src(cells[0]), "Colab 배지: python -m course_utils sync-colab 을 실행하세요"
    setup = _src(next(c for c in cells if c["cell_type"] == "code"))
    assert setup == colab_setup_source(), "설정 셀: python -m course_utils sync-colab 을 실행하세요"
    assert REPO_URL in setup and COLAB_DIR.startswith("/"), "절대 경로로 받아야 두 번 실행해도 같다"


def test_colab_setup_cell_twice_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the setup cell's logic twice as Colab would, with the clone and pip stubbed: one clone, one install,
    the same working folder and sys.path afterwards."""
    import os
    import sys
    import types

    from course_utils.notebooks import colab_setup_source

    repo = tmp_path / "content" / "embedding-vector-search"
    calls: list[str] = []

    def system(cmd: str) -> None:
        calls.append(cmd)
        if cmd.startswith("git clone"):
            (repo / "notebooks").mkdir(parents=True)

    src = colab_setup_source().replace('REPO_DIR = "/content/embedding-vector-search"', f'REPO_DIR = "{repo}"')
    lines = []
    for line in src.splitlines():  # IPython's ! and % lines, as the kernel would translate them
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith(("!", "%pip")):
            line = f"{indent}system(f{stripped[1:]!r})"
        lines.append(line)
    code = "\n".join(lines)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.chdir(tmp_path)
    saved_path = list(sys.path)
    try:
        for _ in range(2):
            exec(compile(code, "<setup cell>", "exec"), {"system": system})
            assert Path.cwd() == repo / "notebooks"
        assert [c.split()[0] for c in calls] == ["git", "pip"], calls
        assert sys.path.count(str(repo)) == 1
    finally:
        sys.path[:] = saved_path
        os.chdir(tmp_path)
