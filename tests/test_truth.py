"""Every figure in a notebook's prose comes from an output of that notebook or names its source (course_utils.truth),
and every exercise solution can be found (conftest.py runs them in nbval's kernel, after the notebook).

The checker is proved on tiny synthetic notebooks and on doctored copies of the committed ones; then it runs on
every committed notebook. Fast: no kernel, no model.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_utils.notebooks import list_notebooks
from course_utils.truth import ALLOWED, is_cited, prose_numbers, solutions, unsupported_numbers

NOTEBOOKS = list_notebooks()


def _nb(tmp_path: Path, markdown: list[str], outputs: list[str], *, code: list[str] | None = None,
        name: str = "05_test.ipynb") -> Path:
    cells: list[dict] = [{"cell_type": "markdown", "metadata": {}, "source": m} for m in markdown]
    for i, out in enumerate(outputs):
        src = (code or [""] * len(outputs))[i]
        cells.insert(1, {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": src,
                         "outputs": [{"output_type": "stream", "name": "stdout", "text": out}]})
    path = tmp_path / name
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                    encoding="utf-8")
    return path


def _texts(sentence: str) -> list[str]:
    return [n.text for n in prose_numbers(sentence)]


# ------------------------------------------------------------------------------------------- what is a figure

def test_what_counts_as_a_number() -> None:
    assert _texts("nDCG@10은 0.887에서 0.576으로 떨어졌습니다.") == ["0.887", "0.576"]
    assert _texts("가중치 파일은 15.1 MB이고, 60% 빠르며, 384차원, 2,356배, 5만 개, 600건입니다.") == [
        "15.1MB", "60%", "384", "2,356", "5만", "600"]
    assert _texts("질의 3개와 2단계 검색") == []                                    # single digits without unit
    assert _texts("2 ms, 3배, 4초") == ["2ms", "3", "4"]                             # ...unless they carry one


def test_what_is_not_a_figure() -> None:
    assert _texts("bge-m3, e5, int8, x4, all-MiniLM-L6-v2, top-10, nDCG@10, §4, k=30, BM25") == []
    assert _texts("5장 12절에서 봤듯이(3.3절) 2024년 발표, 2024-02-19") == []
    assert _texts("qdrant-client 1.20에서, mteb 1.12.75") == []                      # versions
    assert _texts("`rrf_k=60`과 $\\log(1+x)$ 그리고 [11. 캡스톤](11_capstone.ipynb)") == []
    assert prose_numbers("(5.1)에서 봤듯이", sections=frozenset({"5.1"})) == []       # a section of this notebook


def test_vague_magnitudes_of_measured_quantities_count() -> None:
    vague = [n for n in prose_numbers("CPU에서 수십 초, PyTorch는 수백 MB") if n.vague]
    assert [n.text for n in vague] == ["수십", "수백"]
    assert not [n for n in prose_numbers("벡터가 수백만 개로 늘면, 토큰 수만큼") if n.vague]


def test_what_counts_as_cited() -> None:
    assert is_cited("Qdrant 블로그(2024-02-19)가 말하는")
    assert is_cited("ColBERTv2 논문(Santhanam 외, NAACL 2022)")
    assert is_cited("(출처: MTEB 결과 저장소)") and is_cited("seed 002가 소개한") and is_cited("arXiv:2210.07316")
    assert not is_cited("블로그에 따르면 97%입니다.") and not is_cited("2024년에는")


# ------------------------------------------------------------------------------------------- the check

def test_a_figure_in_an_output_passes_and_an_invented_one_fails(tmp_path: Path) -> None:
    path = _nb(tmp_path, ["# 05. 시험\n\n- nDCG@10은 0.89이고 크기는 90 MB, 속도는 60%입니다.\n- 재순위화 후 0.777입니다.",
                          "## 정리"], ["ndcg 0.8871 size 90.9 MB ratio 0.6\n"])
    found = unsupported_numbers(path, others={})
    assert [v.number for v in found] == ["0.777"]
    assert found[0].cell == 0 and "0.777" in str(found[0])


def test_unchecked_outputs_code_literals_chapters_and_sources(tmp_path: Path) -> None:
    path = _nb(tmp_path, [
        "첫 단계는 0.123입니다. 상위 30개를 봅니다. 3장에서 0.456을 봤습니다. 블로그(2024-02-19)는 0.97이라고 했습니다.",
        "요약: 블로그의 0.97과 달리 0.5를 얻었습니다."],
        ["0.123\n", "0.5\n"], code=["# NBVAL_IGNORE_OUTPUT\nprint(t)", "run(k=30)"])
    found = {v.number: v.reason for v in unsupported_numbers(path, others={3: [0.456]})}
    assert set(found) == {"0.123"} and "NBVAL_IGNORE_OUTPUT" in found["0.123"]


def test_a_table_is_cited_by_its_header_or_the_sentence_above(tmp_path: Path) -> None:
    table = "| 모델 | 점수 |\n|---|---:|\n| a | 0.801 |\n| b | 0.802 |"
    cited = _nb(tmp_path, [f"아래 점수는 MTEB 결과 저장소에서 옮겼습니다(2026-11-22 조회).\n\n{table}"], [], name="a.ipynb")
    uncited = _nb(tmp_path, [f"아래 점수는 어딘가에서 옮겼습니다.\n\n{table}"], [], name="b.ipynb")
    assert unsupported_numbers(cited, others={}) == []
    assert [v.number for v in unsupported_numbers(uncited, others={})] == ["0.801", "0.802"]


def test_vague_magnitude_needs_a_source_or_an_output_it_points_at(tmp_path: Path) -> None:
    path = _nb(tmp_path, ["학습은 CPU에서 수십 초 걸립니다.", "학습은 수십 초 걸립니다(위 출력)."], [])
    assert [(v.cell, v.number) for v in unsupported_numbers(path, others={})] == [(0, "수십")]


def test_allow_list_entries_say_why() -> None:
    for (prefix, number), why in ALLOWED.items():
        assert len(prefix) == 2 and prefix.isdigit() and number and len(why) > 20, (prefix, number)
    assert len(ALLOWED) <= 8, "허용 목록은 짧게: 숫자를 출력하거나 출처를 밝히세요"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_a_doctored_notebook_fails(tmp_path: Path, path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"].insert(2, {"cell_type": "markdown", "metadata": {}, "source": "이 방법은 nDCG@10을 0.98765 올립니다."})
    doctored = tmp_path / path.name
    doctored.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    assert [v.number for v in unsupported_numbers(doctored, others={})
            if v.cell == 2] == ["0.98765"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_every_figure_comes_from_an_output_or_a_source(path: Path) -> None:
    found = unsupported_numbers(path)
    assert not found, ("근거 없는 숫자: 셀이 출력하게 하거나, 출처(이름과 날짜)를 밝히거나, 숫자를 빼세요 "
                       "(course_utils/truth.py 의 규칙)\n" + "\n".join(str(v) for v in found))


# ------------------------------------------------------------------------------------------- solutions

def test_solutions_are_the_python_blocks_in_the_last_cells_details(tmp_path: Path) -> None:
    last = ("## 정리\n\n## 연습 문제\n\n1. a\n2. b\n\n<details><summary>풀이</summary>\n\n"
            "1. ```python\n   x = 1\n   print(x)\n   ```\n   설명.\n2. 설명만 있고 코드는 없음: `f(x)`.\n"
            "3. 예시:\n   ```python\n   y = 2\n   ```\n```text\n무시\n```\n</details>\n")
    path = _nb(tmp_path, ["# 05. 시험", "```python\nnot_a_solution()\n```", last], [])
    sols = solutions(path)
    assert [(s.label, s.code) for s in sols] == [("ex1", "x = 1\nprint(x)\n"), ("ex3", "y = 2\n")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_solutions_parse_and_are_numbered_once(path: Path) -> None:
    sols = solutions(path)
    for sol in sols:
        compile(sol.code, f"{path.name} {sol.label}", "exec")
    labels = [s.label for s in sols]
    assert len(labels) == len(set(labels)), f"풀이 번호가 겹칩니다: {labels}"


def test_nbval_runs_each_solution_after_the_notebook_and_fails_on_a_broken_one(tmp_path: Path) -> None:
    """The conftest hook, end to end: one kernel, the notebook, its second round, then each solution (one kernel
    start, about 10 s)."""
    import os
    import shutil
    import subprocess
    import sys

    import nbformat

    repo = Path(__file__).resolve().parents[1]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99. 시험"), nbformat.v4.new_code_cell("x = 1\nprint(x)"),
                nbformat.v4.new_markdown_cell(
                    "## 정리\n\n## 연습 문제\n\n1. a\n2. b\n\n<details><summary>풀이</summary>\n\n"
                    "1. ```python\n   print(x + 1)   # 노트북의 변수를 씀\n   ```\n"
                    "2. ```python\n   raise ValueError('깨진 풀이')\n   ```\n</details>\n")]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells[1].execution_count = 1
    nbformat.write(nb, str(tmp_path / "99_t.ipynb"))
    shutil.copy(repo / "conftest.py", tmp_path / "conftest.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]),
           "COURSE_SKIP_RERUN": "0", "COURSE_SKIP_SOLUTIONS": "0"}
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--nbval",
                          "--nbval-current-env", "-p", "no:xdist", "99_t.ipynb"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300).stdout
    assert "PASSED 99_t.ipynb::풀이 1 (ex1)" in out and "FAILED 99_t.ipynb::풀이 2 (ex2)" in out, out[-3000:]
    assert "PASSED 99_t.ipynb::Cell 0 (2회차)" in out
