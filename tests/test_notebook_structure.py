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
