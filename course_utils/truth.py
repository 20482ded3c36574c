"""Truth checks on the notebooks' prose: every figure comes from an output or a cited source, every solution runs (course tooling, no chapter).

CONTRIBUTING rule 6 says that every number in a notebook's prose comes from an executed cell of that notebook or
names a public source. :func:`unsupported_numbers` checks it; ``tests/test_truth.py`` runs it on every notebook.

**What counts as a number** (:func:`prose_numbers`), in markdown with fenced code, inline code, math, HTML tags and
links removed:

- a decimal (``0.887``, ``1.4``), a number with a unit or ``%`` (``15 MB``, ``26.0 ms``, ``60%``, ``384차원``,
  ``2,356배``, ``5만``), or an integer of two or more digits (``600``, ``30,522``);
- not: a single digit without a unit (``3개``, ``2단계``), a digit glued to a Latin letter or to ``letter-``
  (``bge-m3``, ``e5``, ``int8``, ``x4``, ``L6-v2``, ``top-10``), a number after ``@``/``§``/``=`` (``nDCG@10``,
  ``§4``, ``k=30``), a chapter or section reference (``5장``, ``12절``), a year (``2024년``, ``2024-02-19``,
  ``(2024)``), list numbering (``1. ``) and the numbering of a heading (``## 5.1 ``).

**What backs a number** (:func:`unsupported_numbers`): the value appears, at the precision the prose writes it
(``0.89`` accepts 0.885-0.8949 and truncation 0.89x; ``60%`` accepts 0.6 and 60; ``5만`` accepts 50,000), in

- an output of the same notebook whose cell is compared by nbval (not ``# NBVAL_IGNORE_OUTPUT``: a figure quoted
  from an unchecked output drifts with the machine; say "위 출력" instead, or assert a bound), or
- a numeric literal of a code cell or of an exercise solution of the notebook (a setting the code passes,
  ``k=30``, or a bound it asserts), or
- an output of a chapter the same sentence names (``5장에서 ... 1만 점``), or
- a source the same sentence (table row, or the table's header) cites: a link or URL, ``출처``, a publication date
  (``2024-02-19``, ``2025-01``), a year in parentheses after a name (``Santhanam et al., 2022)``), or one of the
  course's source documents (``seed 003``).

Not checked: the learner's time budget (``**소요 시간**``) and the exercise prompts (``## 연습 문제`` up to
``<details>``), which name settings to try, not results; the solutions are checked.

**Vague magnitudes** of a measured quantity (time, size, a speed ratio: ``수십 초``, ``수백 MB``, ``수백 배``) carry
no digits but are figures all the same: they need a source or a sentence that points at an output (``위 출력``).
A vague count (``수천 개``, ``수백만 개로 늘면``) describes a scale, not a measurement, and is not checked.

:data:`ALLOWED` is the short, reasoned allow-list of exceptions.

:func:`solutions` extracts the exercise solutions (``python`` code blocks inside ``<details>`` of the last cell);
``conftest.py`` appends them to nbval's run of the notebook, so each one is executed in the notebook's kernel.
"""
from __future__ import annotations

import io
import json
import math
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

__all__ = [
    "ALLOWED", "Number", "Violation", "Solution", "prose_numbers", "output_values", "unsupported_numbers",
    "solutions", "is_cited",
]

# ------------------------------------------------------------------------------------------------ markdown units

_FENCE = re.compile(r"^[ \t]*(?:\d+[.)][ \t]+|[-*+][ \t]+)?```.*?^[ \t]*```[ \t]*$", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
_LINK = re.compile(r"!?\[([^\]\n]*)\]\(([^)\s]*)\)")
_URL = re.compile(r"https?://\S+|www\.\S+")
_TAG = re.compile(r"</?[A-Za-z][^>\n]*>")
_HEADING_NUMBER = re.compile(r"^#+\s*(?:\d+(?:\.\d+)*\.?(?=\s|$))?")
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+(?=\S)")
_LINK_MARK = "⟦link⟧"
_CODE_MARK = "⟦code⟧"

CITATION = re.compile(
    r"⟦link⟧|https?://|출처|\bseed \d{3}(?!\d)|arXiv|\bet al\b|커밋|\bcommit\b"
    r"|\b(?:19|20)\d\d-\d\d(?:-\d\d)?\b"                  # a publication date: 2024-02-19, 2025-01
    r"|[A-Za-z가-힣.]\s*,?\s*(?:19|20)\d\d[a-z]?\s*[),]"     # (Santhanam 외, NAACL 2022) / (MinishLab, 2024)
)
"""A source marker: a link or URL, ``출처``, a seed document, arXiv, a publication date, or ``name, year)``."""

POINTS_AT_OUTPUT = re.compile(r"(위|아래|이 실행의|셀의|셀이)\s*(출력|표|그래프|그림|결과|셀)|출력(?:이|을|에서|의)")
"""A sentence that reads a vague magnitude off an output instead of stating it."""


@dataclass(frozen=True)
class Unit:
    """One sentence, heading or table row of a markdown cell, and whether it cites a source."""

    cell: int
    text: str
    cited: bool
    chapters: frozenset[int] = frozenset()


def _chapters(text: str) -> frozenset[int]:
    return frozenset(int(m) for m in re.findall(r"(?<![\d.])(\d{1,2})\s*장(?![점면기애])", text))


def is_cited(text: str) -> bool:
    """True when ``text`` carries a source marker (:data:`CITATION`)."""
    return bool(CITATION.search(text))


def _protect(text: str) -> str:
    """Inline code, math, links and tags replaced by markers: they neither split sentences nor hold figures.

    A link to another notebook disappears (its text is a chapter title); any other link leaves its text and a
    citation marker.
    """
    text = _INLINE_CODE.sub(_CODE_MARK, text)
    text = _MATH.sub(_CODE_MARK, text)
    text = _LINK.sub(lambda m: " " if m.group(2).split("#")[0].endswith(".ipynb") else m.group(1) + _LINK_MARK, text)
    text = _URL.sub(_LINK_MARK, text)
    return _TAG.sub(" ", text)


def _blocks(text: str) -> list[str]:
    """Paragraph pieces: list items, headings and table rows each on their own; '' marks a paragraph break."""
    out: list[str] = []
    for block in re.split(r"\n[ \t]*\n", text):
        current: list[str] = []
        for line in block.splitlines():
            stripped = line.strip()
            if re.match(r"([-*+]\s|\d+[.)]\s|#|\|)", stripped) and current:
                out.append(" ".join(current))
                current = []
            current.append(stripped)
            if stripped.startswith(("|", "#")):
                out.append(" ".join(current))
                current = []
        if current:
            out.append(" ".join(current))
        out.append("")
    return out


def _units(source: str, cell: int) -> list[Unit]:
    """Split one markdown cell into sentences, headings and table rows.

    A table row is cited when it, the table's header, a sentence between the last heading and the table, or the
    sentence just after the table cites a source ("아래 점수는 ... 에서 옮겼습니다(2026-11-22 조회)" above a table).
    """
    units: list[Unit] = []
    table: list[int] = []
    table_cited = False
    previous_cited = False

    def close_table(next_cited: bool) -> None:
        nonlocal table_cited
        if table and next_cited:
            for i in table:
                units[i] = Unit(units[i].cell, units[i].text, True, units[i].chapters)
        table.clear()

    for piece in _blocks(_protect(_FENCE.sub("\n", source))):
        if not piece:
            continue
        if piece.startswith("|"):
            if re.fullmatch(r"\|[\s:|-]+\|?", piece):       # the separator row
                continue
            if not table:
                table_cited = previous_cited or is_cited(piece)
            table.append(len(units))
            units.append(Unit(cell, piece, table_cited or is_cited(piece), _chapters(piece)))
            continue
        heading = piece.startswith("#")
        sentences = [_HEADING_NUMBER.sub("", piece)] if heading else _SENTENCE_END.split(piece)
        close_table(is_cited(sentences[0]))
        if heading:
            previous_cited = False
        for sentence in sentences:
            units.append(Unit(cell, sentence, is_cited(sentence), _chapters(sentence)))
            previous_cited = previous_cited or units[-1].cited
    close_table(False)
    return units


def _strip(text: str) -> str:
    """Markers and list numbering removed: the text whose numbers are figures."""
    text = _protect(text)
    text = re.sub(r"^(?:[-*+]\s+)?\d+[.)]\s", " ", text)    # "1. " and "- 1) "
    text = re.sub(r"^(?:[-*+]\s+)?\[[a-z]\]\s", " ", text)   # footnote labels "[a] "
    return text.replace(_LINK_MARK, " ").replace(_CODE_MARK, " ")


# ------------------------------------------------------------------------------------------------ numbers

_NUM = re.compile(r"(?<![\d,.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)*")
_LATIN_UNITS = {
    "mb": 1.0, "gb": 1.0, "kb": 1.0, "tb": 1.0, "mib": 1.0, "gib": 1.0, "kib": 1.0, "ms": 1.0, "s": 1.0,
    "us": 1.0, "x": 1.0, "d": 1.0, "k": 1e3, "m": 1e6, "dim": 1.0, "bit": 1.0, "bits": 1.0, "byte": 1.0,
    "bytes": 1.0, "h": 1.0, "min": 1.0, "tokens": 1.0, "%": 1.0,
}
_KOREAN_MULTIPLIER = (("천만", 1e7), ("백만", 1e6), ("만", 1e4), ("억", 1e8), ("천", 1e3))
_REFERENCE_COUNTERS = ("장", "절", "셀", "번째", "회차", "년", "월", "일", "단계", "위 ")
_MEASURE_COUNTERS = ("배", "초", "분", "시간", "차원", "바이트", "비트", "퍼센트", "자리", "층", "토큰", "비율")
_VAGUE = re.compile(r"(?<![가-힣])수\s?(?:십|백|천|만|억)+(?=\s?(?:배|초|분|시간|바이트|MB|GB|KB|ms|%))")


@dataclass(frozen=True)
class Number:
    """A figure in prose: its text, value, the precision it is written with, and its scales (``%``, ``만``)."""

    text: str
    value: float
    decimals: int
    scales: tuple[float, ...] = (1.0,)
    vague: bool = False

    def matches(self, observed: float) -> bool:
        """True when ``observed`` written at this number's precision (rounded or truncated) gives this number."""
        if self.vague:
            return False
        step = 10.0 ** -self.decimals
        for scale in self.scales:
            got = abs(observed) * scale
            if abs(got - self.value) <= step / 2 + 1e-9 * max(1.0, self.value):
                return True
            if self.value - 1e-9 <= got < self.value + step - 1e-12:   # written truncated: 90.9 MB as "90 MB"
                return True
        return False


def _unit_after(text: str, end: int) -> tuple[str, str]:
    """What follows a number: ('latin', 'MB'), ('korean', '배'), ('ident', 'abc') (glued letters), or ('', '')."""
    rest = text[end:end + 12]
    m = re.match(r"(-?)([A-Za-z]+)", rest)
    if m:
        unit = m.group(2)
        if unit.lower() in _LATIN_UNITS or m.group(1):
            return "latin", unit                                     # 15MB, 384-dim, 2-layer
        return "ident", unit                                         # 3b, 4bit: glued letters
    m = re.match(r"(\s?)(%|[A-Za-z]+(?![A-Za-z])|[가-힣]+)", rest)
    if m:
        word = m.group(2)
        if word == "%" or word.lower() in _LATIN_UNITS:
            return "latin", word
        if re.match(r"[가-힣]", word):
            return "korean", m.group(1) + word
    return "", ""


def prose_numbers(text: str, *, sections: frozenset[str] = frozenset()) -> list[Number]:
    """The figures of one sentence or table row (see the module docstring for what counts).

    ``sections`` are the notebook's heading numbers ("5.1"): a bare "5.1" that names a section is no figure.
    """
    text = _strip(text)
    found: list[Number] = []
    for m in _NUM.finditer(text):
        start, end = m.start(), m.end()
        before = text[max(0, start - 2):start]
        pre = before[-1:]
        if pre and ((pre.isascii() and (pre.isalpha() or pre in "_@=#/\\:^")) or pre == "§"):
            continue                                                # e5, int8, x4, nDCG@10, §4, k=30, arXiv:
        if pre in ("-", "–") and len(before) == 2 and before[0].isascii() and before[0].isalnum():
            continue                                                # L6-v2, top-10, Qwen3-8B
        after = text[end:end + 2]
        if after[:1] == "_" or (after[:1] == "." and after[1:].isascii() and after[1:].isalpha()):
            continue                                                # file_1, model.v1a
        token = m.group(0)
        parts = token.replace(",", "").split(".")
        if len(parts) > 2:
            continue                                                # a version: 1.12.75
        kind, unit = _unit_after(text, end)
        if kind == "ident":
            continue
        word = unit.strip()
        frac = len(parts) == 2
        if kind == "korean" and word.startswith(_REFERENCE_COUNTERS) and not word.startswith("단계별"):
            if not (word.startswith(("일", "월", "위 ")) and frac):
                continue                                            # 5장, 7.2절, 2024년, 2단계
        if frac and token in sections and kind != "latin":
            continue                                                # "(5.1)": a section of this notebook
        if (frac and re.search(r"[A-Za-z][\w-]*\s$", text[:start]) and parts[0] != "0" and kind != "latin"
                and not word.startswith(_MEASURE_COUNTERS)):
            continue                                                # a version after a name: qdrant-client 1.20
        if not frac and len(parts[0]) == 4 and 1900 <= int(parts[0]) <= 2099:
            continue                                                # a year
        value = float(".".join(parts))
        decimals = len(parts[1]) if frac else 0
        scales: tuple[float, ...] = (1.0,)
        multiplier = next((v for k, v in _KOREAN_MULTIPLIER if kind == "korean" and word.startswith(k)), None)
        if multiplier:
            scales = (1.0 / multiplier,)
        elif unit == "%" or word.startswith("퍼센트"):
            scales = (1.0, 100.0)
        elif kind == "latin" and unit.lower() in ("k", "m"):
            scales = (1.0, 1.0 / _LATIN_UNITS[unit.lower()])
        has_unit = kind == "latin" or (kind == "korean" and (multiplier or word.startswith(_MEASURE_COUNTERS)))
        if not frac and len(parts[0]) == 1 and not has_unit:
            continue                                                # a single digit without a unit
        shown = token + (unit if kind == "latin" else word[:1] if multiplier else "")
        found.append(Number(shown, value, decimals, scales))
    for m in _VAGUE.finditer(text):
        found.append(Number(m.group(0).strip(), math.nan, 0, vague=True))
    return found


_OUT_NUM = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:[eE]([-+]?\d+))?\s?(만|억|천)?")


def _values(text: str) -> Iterable[float]:
    for m in _OUT_NUM.finditer(text):
        v = float(m.group(1).replace(",", "") + (m.group(2) or ""))
        if m.group(3):
            v *= 10.0 ** int(m.group(3))
        if m.group(4):
            v *= dict(_KOREAN_MULTIPLIER)[m.group(4)]
        yield v


def _output_text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append("".join(out["text"]))
        for mime in ("text/plain", "text/html", "text/markdown"):
            data = out.get("data", {}).get(mime)
            if data:
                parts.append("".join(data))
    return "\n".join(parts)


def _code_literals(source: str) -> Iterable[float]:
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("!", "%"))]
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            if tok.type == tokenize.NUMBER:
                try:
                    yield abs(float(tok.string.replace("_", "")))
                except ValueError:
                    continue
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return


def _src(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def output_values(nb: dict, *, checked_only: bool = True, code: bool = True) -> list[float]:
    """The numbers a notebook produces: outputs of compared cells (and its code's numeric literals if ``code``)."""
    values: list[float] = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        ignored = "NBVAL_IGNORE_OUTPUT" in _src(cell)
        if not (checked_only and ignored):
            values.extend(_values(_output_text(cell)))
        if code:
            values.extend(_code_literals(_src(cell)))
    return values


# ------------------------------------------------------------------------------------------------ the check

ALLOWED: dict[tuple[str, str], str] = {
}
"""(notebook prefix, number text) -> why the figure needs no output and no source. Keep it short."""

_EXERCISE_PROMPTS = re.compile(r"^## 연습 문제.*?(?=<details>|\Z)", re.S | re.M)
"""Exercise prompts name settings to try ("nlist를 6과 24로"), not results; their solutions are checked."""

_EXEMPT_LINES = (
    "**소요 시간**",   # the learner's time budget in the introduction cell is guidance for planning, not a measurement
)


@dataclass(frozen=True)
class Violation:
    """A figure of the prose that no output of its notebook backs and no source cites."""

    notebook: str
    cell: int
    number: str
    sentence: str
    reason: str

    def __str__(self) -> str:
        return f"{self.notebook} cell {self.cell}: {self.number!r} ({self.reason}) in: {self.sentence[:160]}"


def _load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _sections(nb: dict) -> frozenset[str]:
    """The notebook's numbered headings ("5.1", "3.3"): a bare "(5.1)" in prose points at one of them."""
    found = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            found.update(re.findall(r"^#+\s*(\d+\.\d+(?:\.\d+)*)", _src(cell), re.M))
    return frozenset(found)


def unsupported_numbers(path: Path, *, others: dict[int, list[float]] | None = None,
                        allowed: dict[tuple[str, str], str] | None = None) -> list[Violation]:
    """Every figure of ``path``'s markdown that no compared output, code literal, named chapter or source backs.

    A figure that repeats one of a cited sentence of the same notebook is backed by that citation (a summary that
    restates a quoted score). ``others`` maps a chapter number to the values its outputs hold (for sentences
    that name a chapter, "5장"); by default the other notebooks in the same folder are read.
    """
    path = Path(path)
    nb = _load(path)
    allowed = ALLOWED if allowed is None else allowed
    prefix = path.name[:2]
    sections = _sections(nb)
    checked = output_values(nb)
    checked.extend(v for sol in solutions(path) for v in _code_literals(sol.code))
    unchecked = output_values(nb, checked_only=False, code=False)
    if others is None:
        others = {}
        for other in sorted(path.parent.glob("[0-9][0-9]_*.ipynb")):
            if other != path:
                others[int(other.name[:2])] = output_values(_load(other))
    units = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            source = "\n".join(ln for ln in _src(cell).splitlines() if not ln.lstrip().startswith(_EXEMPT_LINES))
            source = _EXERCISE_PROMPTS.sub("\n", source)
            units.extend(_units(source, index))
    cited_values = [n.value for u in units if u.cited for n in prose_numbers(u.text, sections=sections)
                    if not n.vague]
    found: list[Violation] = []
    for unit in units:
        if unit.cited:
            continue
        for number in prose_numbers(unit.text, sections=sections):
            if (prefix, number.text) in allowed:
                continue
            if number.vague:
                if not POINTS_AT_OUTPUT.search(unit.text):
                    found.append(Violation(path.name, unit.cell, number.text, unit.text,
                                           "vague magnitude: cite a source or point at an output"))
                continue
            if any(number.matches(v) for v in checked):
                continue
            if any(number.matches(v) for ch in unit.chapters for v in others.get(ch, ())):
                continue
            if any(number.matches(v) for v in cited_values):
                continue
            reason = ("only in an NBVAL_IGNORE_OUTPUT output (drifts unchecked)"
                      if any(number.matches(v) for v in unchecked) else "in no output and no source")
            found.append(Violation(path.name, unit.cell, number.text, unit.text, reason))
    return found


# ------------------------------------------------------------------------------------------------ solutions

_DETAILS = re.compile(r"<details>(.*?)</details>", re.S)
_PY_BLOCK = re.compile(r"^([ \t]*(?:\d+[.)][ \t]+|[-*+][ \t]+)?)```python[ \t]*\n(.*?)^[ \t]*```", re.S | re.M)


@dataclass(frozen=True)
class Solution:
    """One exercise solution's code, from the last cell's ``<details>`` block."""

    notebook: str
    number: int
    code: str
    label: str = field(default="")


def solutions(path: Path) -> list[Solution]:
    """The ``python`` code blocks inside the ``<details>`` blocks of the notebook's last markdown cell, in order.

    A solution's block is dedented by its fence's indentation (solutions sit inside numbered list items).
    """
    nb = _load(Path(path))
    last = next(c for c in reversed(nb["cells"]) if c["cell_type"] == "markdown")
    found: list[Solution] = []
    for details in _DETAILS.findall(_src(last)):
        for m in _PY_BLOCK.finditer(details):
            indent, body = " " * len(m.group(1)), m.group(2)
            lines = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in body.splitlines()]
            before = details[:m.start()] + m.group(1)
            item = re.findall(r"^\s*(\d+)[.)]\s", before, re.M)
            label = f"ex{item[-1]}" if item else f"block{len(found) + 1}"
            found.append(Solution(Path(path).name, len(found) + 1, "\n".join(lines).rstrip() + "\n", label))
    return found
