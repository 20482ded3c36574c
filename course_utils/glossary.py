"""One vocabulary: the term table of GLOSSARY.md, and a scan for the variants it rules out (course tooling, no chapter).

``GLOSSARY.md`` holds, under the heading :data:`SECTION`, a machine-readable table::

    | 쓰는 말 | 쓰지 않는 말 | 괄호 안에서만 |
    |---|---|---|
    | 재채점 | 재점수화, 재점수 | rescoring, rescore |

- a word of the second column is never written (outside code);
- a word of the third column (usually the English original) is written only as a gloss: inside parentheses,
  ``재채점(rescoring)``, or right before the term in parentheses, ``Reranking (재순위화)``.

:func:`variants_in_markdown` and :func:`variants_in_code` find the words that break the table: in markdown outside
code spans, fences and link targets; in code only inside comments and string literals that hold Korean (a
keyword argument ``oversampling=3`` or an English column name is an identifier, not prose). ``tests/test_glossary.py``
runs them on every notebook, README.md, CONTRIBUTING.md and GLOSSARY.md itself.
"""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SECTION", "Term", "Hit", "read_terms", "variants_in_markdown", "variants_in_code"]

SECTION = "## 표기 통일"
"""The GLOSSARY.md heading above the term table."""


@dataclass(frozen=True)
class Term:
    """One concept: the word the course writes, the words it never writes, the words allowed only as a gloss."""

    preferred: str
    banned: tuple[str, ...]
    gloss_only: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """A variant found in a text: which word, the term to write instead, and the line it sits on."""

    word: str
    preferred: str
    line: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.word!r} -> {self.preferred!r} in: {self.line.strip()[:140]}"


def _words(cell: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in cell.split(",") if w.strip() and w.strip() not in ("-", "—"))


def read_terms(path: Path) -> list[Term]:
    """The term table under :data:`SECTION` in ``path`` (GLOSSARY.md)."""
    text = Path(path).read_text(encoding="utf-8")
    if SECTION not in text:
        raise ValueError(f"{path} 에 '{SECTION}' 절이 없습니다: 용어 표(쓰는 말 | 쓰지 않는 말 | 괄호 안에서만)를 두세요.")
    section = text.split(SECTION, 1)[1]
    section = re.split(r"\n## ", section, maxsplit=1)[0]
    terms = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or set(cells[0]) <= set("-: ") or cells[0] == "쓰는 말":
            continue
        terms.append(Term(cells[0].strip("`"), _words(cells[1]), _words(cells[2])))
    if not terms:
        raise ValueError(f"{path} 의 '{SECTION}' 절에 용어 표가 비어 있습니다.")
    return terms


def _pattern(word: str) -> re.Pattern[str]:
    if word.isascii():                                   # "cross-encoder" also finds "cross encoder"
        body = re.escape(word).replace(r"\ ", r"[\s-]?").replace(r"\-", r"[\s-]?")
        return re.compile(rf"(?<![A-Za-z0-9_`-]){body}(?![A-Za-z0-9_`])", re.I)
    return re.compile(re.escape(word))


def _inside_parentheses(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    depth = 0
    for ch in before:
        depth += ch == "("
        depth -= ch == ")" and depth > 0
    return depth > 0


def _scan(text: str, terms: list[Term], where: str, *, glosses: bool = True) -> list[Hit]:
    hits = []
    for term in terms:
        seen: list[tuple[int, int]] = []                     # "재점수화" also holds "재점수": report it once
        for word in sorted(term.banned, key=len, reverse=True):
            for m in _pattern(word).finditer(text):
                if any(a <= m.start() < b for a, b in seen):
                    continue
                seen.append(m.span())
                hits.append(Hit(m.group(0), term.preferred, _line(text, m.start()), where))
        for word in term.gloss_only if glosses else ():
            for m in _pattern(word).finditer(text):
                if _inside_parentheses(text, m.start()):
                    continue
                after = text[m.end():m.end() + len(term.preferred) + 3]
                if re.match(rf"\s?\(\s?{re.escape(term.preferred)}", after):
                    continue                                    # English (Korean): Reranking (재순위화)
                hits.append(Hit(m.group(0), term.preferred, _line(text, m.start()), where))
    return hits


def _line(text: str, pos: int) -> str:
    return text[text.rfind("\n", 0, pos) + 1:(text.find("\n", pos) + 1 or len(text) + 1) - 1]


_FENCE = re.compile(r"^[ \t]*(?:\d+[.)][ \t]+|[-*+][ \t]+)?```.*?^[ \t]*```[ \t]*$", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")
_LINK_TARGET = re.compile(r"\]\([^)\s]*\)")
_URL = re.compile(r"https?://\S+")


def variants_in_markdown(text: str, terms: list[Term], where: str = "", *, glosses: bool = True) -> list[Hit]:
    """Variants in markdown prose (code fences, code spans, link targets and URLs are skipped).

    ``glosses=False`` checks only the never-written words (GLOSSARY.md's own term table pairs every term with its
    original in a column of its own, not in parentheses).
    """
    for pattern in (_FENCE, _CODE, _LINK_TARGET, _URL):
        text = pattern.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return _scan(text, terms, where, glosses=glosses)


_HANGUL = re.compile(r"[가-힣]")


def variants_in_code(source: str, terms: list[Term], where: str = "") -> list[Hit]:
    """Variants in the Korean comments and string literals of Python code (identifiers are not prose)."""
    lines = [ln if not ln.lstrip().startswith(("!", "%")) else "" for ln in source.splitlines()]
    pieces: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            if tok.type in (tokenize.COMMENT, tokenize.STRING) or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                if _HANGUL.search(tok.string):
                    pieces.append(re.sub(r"\{[^{}]*\}", " ", tok.string))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pieces = [ln for ln in lines if _HANGUL.search(ln)]
    return _scan("\n".join(pieces), terms, where)
