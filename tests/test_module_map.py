"""The map for newcomers: README's notebook table names each chapter's modules, and each module's docstring names
its chapters; both are checked against what the notebooks really import."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
PKG = REPO / "course_utils"
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MODULES = sorted(p.stem for p in PKG.glob("*.py") if not p.stem.startswith("__"))
_CHAPTERS = re.compile(r"chapters?\s+((?:\d\d(?:\s*-\s*\d\d)?)(?:(?:\s*,\s*|\s+and\s+)\d\d(?:\s*-\s*\d\d)?)*)")


def chapters_named(doc: str) -> set[int]:
    """Chapter numbers a docstring names: ``chapter 05``, ``chapters 03, 08``, ``chapters 02-11``, ``05-07``."""
    found: set[int] = set()
    for group in _CHAPTERS.findall(doc):
        for part in re.split(r"\s*,\s*|\s+and\s+", group):
            a, _, b = part.partition("-")
            found.update(range(int(a), int(b or a) + 1))
    return found


def module_doc(name: str) -> str:
    return ast.get_docstring(ast.parse((PKG / f"{name}.py").read_text(encoding="utf-8"))) or ""


def imported_modules(path: Path) -> set[str]:
    nb = nbformat.read(path, as_version=4)
    src = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return {m for m in re.findall(r"course_utils\.(\w+)", src) if m in MODULES}


def readme_row(number: str) -> str:
    rows = [line for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith(f"| {number} | `{number}_")]
    assert len(rows) == 1, f"README 의 노트북 표에 {number}장 행이 하나여야 합니다"
    return rows[0]


def test_chapter_parser() -> None:
    assert chapters_named("Hybrid search (chapters 06, 07, 11): ...") == {6, 7, 11}
    assert chapters_named("the embedding cache (chapters 02-11)") == set(range(2, 12))
    assert chapters_named("what engines return (chapters 03, 05-07, 11)") == {3, 5, 6, 7, 11}
    assert chapters_named("for chapter 05 and chapter 08") == {5, 8}
    assert chapters_named("no chapter at all") == set()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_readme_row_and_docstrings_name_what_the_notebook_imports(path: Path) -> None:
    number = path.name[:2]
    row = readme_row(number)
    used = imported_modules(path)
    missing_row = sorted(m for m in used if f"`{m}`" not in row)
    assert not missing_row, f"README {number}장 행에 빠진 모듈: {missing_row}"
    missing_doc = sorted(m for m in used if int(number) not in chapters_named(module_doc(m)))
    assert not missing_doc, f"{number}장이 쓰는데 docstring 이 {number}장을 적지 않은 모듈: {missing_doc}"


def test_every_module_docstring_says_where_it_is_used() -> None:
    silent = [m for m in MODULES if not chapters_named(module_doc(m)) and "no chapter" not in module_doc(m)]
    assert not silent, f"docstring 에 쓰는 장(chapter NN)이나 'no chapter'(도구)가 없는 모듈: {silent}"
