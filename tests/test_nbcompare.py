"""The output-comparison rule: machine noise passes, a real regression fails (on the committed notebooks too)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.nbcompare import ABS_DIGITS, first_mismatch, numbers_match, outputs_match

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# ------------------------------------------------------------------------------------------ the rule itself


@pytest.mark.parametrize("ref, new", [
    ("nDCG@10 0.832", "nDCG@10 0.831"),          # last digit (another machine)
    ("DBSF 1.6493", "DBSF 1.6507"),              # 4th digit of a larger score (0.085 %)
    ("[0.2657, 0.3380]", "[0.2662, 0.3376]"),
    ("cos -0.000", "cos 0.000"),
    ("1.4e-07", "1.5e-07"),
    ("| a |  0.10 |", "| a | 0.11 |"),           # a column that lost a space
])
def test_machine_noise_passes(ref: str, new: str) -> None:
    assert outputs_match(ref, new), first_mismatch(ref, new)


@pytest.mark.parametrize("ref, new", [
    ("nDCG@10 0.832", "nDCG@10 0.882"),          # a metric moved by 0.05
    ("nDCG@10 0.83", "nDCG@10 0.88"),
    ("top-3: culture-001, culture-002", "top-3: culture-002, culture-001"),  # ranking changed
    ("hits 37", "hits 38"),                      # counts are exact
    ("best: hybrid", "best: dense"),             # which method wins
    ("bge-m3 0.5", "bge-m4 0.5"),                # digits glued to letters are text
    ("a 0.5 b 0.6", "a 0.5 b"),                  # table shape
    ("score 0.9000", "score 0.9050"),
])
def test_regressions_fail(ref: str, new: str) -> None:
    assert not outputs_match(ref, new)


def test_tolerance_is_what_the_docstring_says() -> None:
    assert numbers_match("0.500", f"{0.500 + ABS_DIGITS * 1e-3:.3f}")
    assert not numbers_match("0.500", "0.504")
    assert numbers_match("12", "12") and not numbers_match("12", "13")


# ------------------------------------------------------- doctored copies of the committed notebooks' outputs


def _checked_texts() -> list[tuple[str, int, str]]:
    """(notebook, cell index, text) for every compared text output of the committed notebooks."""
    out = []
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] != "code" or "NBVAL_IGNORE_OUTPUT" in "".join(cell["source"]):
                continue
            for o in cell.get("outputs", []):
                text = o.get("text") or o.get("data", {}).get("text/plain")
                if text:
                    out.append((nb.name, i, "".join(text)))
    return out


METRIC = re.compile(r"(?<![\w.])0\.\d{3,4}(?![\w])")
DOC_ID = re.compile(r"\b((?:en_)?[a-z]+)-(\d{3})\b")  # corpus ids: culture-001, en_business-001


def test_committed_outputs_hold_checkable_metrics() -> None:
    texts = _checked_texts()
    assert len({nb for nb, _, _ in texts}) == len(NOTEBOOKS)
    assert sum(bool(METRIC.search(t)) for *_, t in texts) >= 20


def test_every_committed_metric_fails_when_moved_by_005() -> None:
    checked = 0
    for nb, cell, text in _checked_texts():
        for m in METRIC.finditer(text):
            value = float(m.group())
            moved = f"{value + 0.05 if value < 0.9 else value - 0.05:.{len(m.group()) - 2}f}"
            doctored = text[:m.start()] + moved + text[m.end():]
            assert not outputs_match(text, doctored), f"{nb} cell {cell}: {m.group()} -> {moved} passed"
            noisy = f"{value + 10 ** -(len(m.group()) - 2):.{len(m.group()) - 2}f}"
            assert outputs_match(text, text[:m.start()] + noisy + text[m.end():]), f"{nb} cell {cell}"
            checked += 1
    assert checked >= 50


def test_every_committed_ranking_fails_when_an_id_changes() -> None:
    checked = 0
    for nb, cell, text in _checked_texts():
        for m in DOC_ID.finditer(text):
            other = f"{m.group(1)}-{(int(m.group(2)) % 999) + 1:03d}"
            doctored = text[:m.start()] + other + text[m.end():]
            assert not outputs_match(text, doctored), f"{nb} cell {cell}: {m.group()} -> {other} passed"
            checked += 1
    assert checked >= 10


# --------------------------------------------------------------- end to end: nbval with the rule installed


def _notebook(outputs: list[str]) -> dict:
    cells = [{"cell_type": "code", "execution_count": i + 1, "metadata": {}, "source": src,
              "outputs": [{"output_type": "stream", "name": "stdout", "text": printed}]}
             for i, (src, printed) in enumerate(outputs)]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def test_nbval_end_to_end(tmp_path: Path) -> None:
    """One notebook, three cells printing the same thing; the committed outputs are doctored differently."""
    code = "print('nDCG@10', round(0.8321, 3), 'top: culture-001')"
    committed = ["nDCG@10 0.833 top: culture-001\n",   # last digit moved (another machine): passes
                 "nDCG@10 0.882 top: culture-001\n",   # metric moved by 0.05: fails
                 "nDCG@10 0.832 top: culture-002\n"]   # a top-k id changed: fails
    nb = tmp_path / "doctored.ipynb"
    nb.write_text(json.dumps(_notebook([(code, c) for c in committed])), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", str(nb), "--nbval", "--nbval-current-env", "-p", "course_utils.nbcompare",
         "-p", "no:cacheprovider", "-v", "--rootdir", str(tmp_path), "-c", "/dev/null"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    verdicts = re.findall(r"::Cell (\d+) (PASSED|FAILED)", out.stdout)
    assert verdicts == [("0", "PASSED"), ("1", "FAILED"), ("2", "FAILED")], out.stdout[-3000:]
    assert "0.882" in out.stdout and "culture-002" in out.stdout
