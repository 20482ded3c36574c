"""Compare a notebook cell's committed output with a fresh run: numbers within a tolerance, everything else exact (course tooling, no chapter).

Machines of the course's kind do not print identical floats: a model's vectors can move in the last digits
between two machine images (see CONTRIBUTING, "재현성"). nbval compares outputs as exact text, which turns that
noise into red. This module splits each output into *number tokens* and the *text between them*:

- the text between numbers (ids, words, table borders, which method won) must be identical, except that runs of
  spaces count as one (a table column may widen by one character when a value gains a digit);
- integers must be identical (counts, ranks, ids such as ``ko-0012``; a digit glued to a letter, as in ``m3`` or
  ``e5``, is text, not a number);
- a decimal number ``b`` printed with ``d`` decimals in the committed output matches a fresh ``a`` when
  ``|a - b| <= ABS_DIGITS * 10**-d + REL_TOL * |b|`` (two units in the last printed digit, for rounding at a
  boundary, plus 0.2 % of the value). A metric printed as ``0.832`` accepts 0.830-0.834; a metric that moved by
  0.05, or a ranking whose ids changed, still fails.

:func:`outputs_match` is the rule; :func:`install` puts it into nbval (``conftest.py`` calls it), and
``tests/test_nbcompare.py`` proves both sides on doctored copies of the committed notebooks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ABS_DIGITS = 2
"""Units in the last printed digit a decimal may move (rounding at a boundary, e.g. 0.8325 -> 0.832 / 0.833)."""
REL_TOL = 0.002
"""Relative tolerance on top of :data:`ABS_DIGITS` (for long numbers such as 1.6493 with a moving 4th digit)."""

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])|(?<![\w.])-?\.\d+(?![\w])")
_SPACES = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Mismatch:
    """Why two outputs differ: the first differing piece, for the test report."""

    reference: str
    fresh: str
    reason: str

    def __str__(self) -> str:
        return f"{self.reason}: committed {self.reference!r} vs fresh {self.fresh!r}"


def _split(text: str) -> tuple[list[str], list[str]]:
    """Text pieces (len n+1) and number tokens (len n) of ``text``."""
    pieces, numbers, last = [], [], 0
    for m in _NUMBER.finditer(text):
        pieces.append(text[last:m.start()])
        numbers.append(m.group())
        last = m.end()
    pieces.append(text[last:])
    return pieces, numbers


def _is_decimal(token: str) -> bool:
    return "." in token or "e" in token or "E" in token


def _decimals(token: str) -> int:
    mantissa, _, exp = token.lower().partition("e")
    frac = mantissa.partition(".")[2]
    return len(frac) - (int(exp) if exp else 0)


def numbers_match(reference: str, fresh: str) -> bool:
    """One number token of the committed output against the fresh one (see the module docstring)."""
    if not (_is_decimal(reference) or _is_decimal(fresh)):
        return reference == fresh or int(reference) == int(fresh) == 0  # "-0" is "0"
    b, a = float(reference), float(fresh)
    return abs(a - b) <= ABS_DIGITS * 10.0 ** -_decimals(reference) + REL_TOL * abs(b) + 1e-12


def first_mismatch(reference: str, fresh: str) -> Mismatch | None:
    """``None`` when ``fresh`` matches ``reference`` under the rule, else the first difference."""
    if reference == fresh:
        return None
    ref_pieces, ref_nums = _split(reference)
    new_pieces, new_nums = _split(fresh)
    if len(ref_nums) != len(new_nums):
        return Mismatch(reference[:200], fresh[:200], f"{len(ref_nums)} numbers vs {len(new_nums)}")
    for rp, np_ in zip(ref_pieces, new_pieces):
        if _SPACES.sub(" ", rp) != _SPACES.sub(" ", np_):
            return Mismatch(rp, np_, "text differs")
    for rn, nn in zip(ref_nums, new_nums):
        if not numbers_match(rn, nn):
            return Mismatch(rn, nn, "number outside tolerance")
    return None


def outputs_match(reference: str, fresh: str) -> bool:
    """True when a fresh cell output matches the committed one under the course's rule."""
    return first_mismatch(reference, fresh) is None


class TolerantText(str):
    """A ``str`` whose ``==``/``!=`` apply :func:`outputs_match` (what nbval's comparison loop uses)."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return outputs_match(str(self), str(other))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = str.__hash__


def install() -> None:
    """Make nbval compare text outputs with :func:`outputs_match` (idempotent).

    nbval sanitizes every output value before comparing it with ``!=``; returning :class:`TolerantText` from
    its ``sanitize`` keeps all of nbval's own logic (which keys, how many outputs, the diff report) and changes
    only what "equal" means for text.
    """
    from nbval.plugin import IPyNbCell

    if getattr(IPyNbCell.sanitize, "_course_tolerant", False):
        return
    original = IPyNbCell.sanitize

    def sanitize(self, s):  # type: ignore[no-untyped-def]
        out = original(self, s)
        return TolerantText(out) if isinstance(out, str) else out

    sanitize._course_tolerant = True  # type: ignore[attr-defined]
    IPyNbCell.sanitize = sanitize  # type: ignore[method-assign]


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    """pytest plugin entry (``-p course_utils.nbcompare`` or ``pytest_plugins``): install when nbval runs."""
    if config.getoption("nbval", default=False) or config.getoption("nbval_lax", default=False):
        install()
