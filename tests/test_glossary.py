"""One vocabulary (GLOSSARY.md, course_utils.glossary): the variants it rules out appear nowhere in the course's
prose, and the summaries (## 정리) keep one register (합니다체). Fast: text only."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course_utils.glossary import SECTION, read_terms, variants_in_code, variants_in_markdown
from course_utils.notebooks import list_notebooks

REPO = Path(__file__).resolve().parents[1]
GLOSSARY = REPO / "GLOSSARY.md"
TERMS = read_terms(GLOSSARY)
NOTEBOOKS = list_notebooks()

# Printed strings of chapters whose outputs this change could not regenerate (another change rewrites those cells):
# cell id -> why. The scan skips only these code cells; remove an entry when its cell uses the term.
PENDING_CODE: dict[tuple[str, str], str] = {
}


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def test_the_table_has_the_decided_terms() -> None:
    preferred = {t.preferred for t in TERMS}
    assert {"재순위화", "재채점", "후기 상호작용", "오버샘플링", "의미 검색", "교차 인코더", "대역"} <= preferred
    for term in TERMS:
        assert term.preferred not in term.banned + term.gloss_only
        assert term.banned or term.gloss_only, term


def test_the_scan_flags_a_doctored_string() -> None:
    assert [h.word for h in variants_in_markdown("후보를 재점수화합니다.", TERMS)] == ["재점수화"]
    assert [h.preferred for h in variants_in_markdown("oversampling을 늘리면", TERMS)] == ["오버샘플링"]
    assert [h.word for h in variants_in_markdown("## 5. Cross-encoder 재순위화", TERMS)] == ["Cross-encoder"]
    assert variants_in_code('print("재채점 없이는 oversampling이 무의미")', TERMS)[0].preferred == "오버샘플링"


def test_the_scan_spares_glosses_code_and_identifiers() -> None:
    ok = ("오버샘플링(oversampling)과 재채점(rescoring), 후기 상호작용(late interaction), Reranking (재순위화), "
          "`rescore=True`, [07. 재순위화](07_ColBERT_rerank.ipynb), `late_interaction`")
    assert variants_in_markdown(ok, TERMS) == []
    assert variants_in_code("index.query(q, oversampling=3, rescore=True)  # 재채점\nname = 'oversampling'", TERMS) == []
    assert variants_in_markdown("```python\nx = '재점수화'\n```", TERMS) == []


def test_pending_entries_say_why() -> None:
    for key, why in PENDING_CODE.items():
        assert len(key) == 2 and len(why) > 20, key


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_notebooks_use_one_term_per_concept(path: Path) -> None:
    hits = []
    for i, cell in enumerate(_cells(path)):
        where = f"{path.name} cell {i}"
        if cell["cell_type"] == "markdown":
            hits += variants_in_markdown(_src(cell), TERMS, where)
        elif (path.name[:2], cell.get("id", "")) not in PENDING_CODE:
            hits += variants_in_code(_src(cell), TERMS, where)
    assert not hits, "GLOSSARY.md 의 '표기 통일' 표와 다른 말:\n" + "\n".join(str(h) for h in hits)


@pytest.mark.parametrize("name", ["README.md", "CONTRIBUTING.md", "GLOSSARY.md"])
def test_documents_use_one_term_per_concept(name: str) -> None:
    text = (REPO / name).read_text(encoding="utf-8")
    if name == "GLOSSARY.md":       # the term table itself names every variant; above it, originals have a column
        hits = variants_in_markdown(text.split(SECTION)[0], TERMS, name, glosses=False)
    else:
        hits = variants_in_markdown(text, TERMS, name)
    assert not hits, "\n".join(str(h) for h in hits)


_PLAIN_ENDING = re.compile(r"(?<![니까요])다[.:]")   # 해라체 ("...한다.", "...였다:") in a summary


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_summaries_keep_one_register(path: Path) -> None:
    last = _src(_cells(path)[-1])
    summary = last.split("## 정리", 1)[1].split("## 연습 문제", 1)[0]
    summary = re.sub(r"`[^`\n]*`", "", summary)
    plain = [line.strip() for line in summary.splitlines() if _PLAIN_ENDING.search(line)]
    assert not plain, "## 정리 는 합니다체로 씁니다:\n" + "\n".join(plain)
