"""Korean text processing for lexical search: Kiwi morphemes and BM25 (bm25s) over them.

Korean glues particles and endings to words (``헌법은``, ``헌법의``, ``헌법에``), so whitespace tokens miss
matches that a morpheme analyser finds. :func:`morphemes` keeps content morphemes (nouns, verb/adjective
stems, adverbs, foreign words, numbers, roots, hanja); :class:`BM25Index` ranks with either tokenizer.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable, Literal, Sequence

import numpy as np

from .errors import SearchInputError

CONTENT_TAGS: tuple[str, ...] = ("NN", "VV", "VA", "MAG", "SL", "SN", "XR", "SH")
"""Kiwi tag prefixes kept as search terms: nouns, verb/adjective stems, adverbs, Latin, numbers, roots, hanja."""

_WS = re.compile(r"\S+")
_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


@lru_cache(maxsize=1)
def get_kiwi():  # type: ignore[no-untyped-def]
    """The process-wide Kiwi analyser (about a second to build, so built once)."""
    from kiwipiepy import Kiwi

    return Kiwi()


def whitespace_tokens(text: str) -> list[str]:
    """Lower-cased whitespace tokens with punctuation stripped from their edges (particles stay glued)."""
    out = []
    for tok in _WS.findall(unicodedata.normalize("NFC", text).lower()):
        tok = _PUNCT.sub("", tok)
        if tok:
            out.append(tok)
    return out


def morphemes(text: str, tags: Sequence[str] = CONTENT_TAGS) -> list[str]:
    """Content morphemes of ``text`` (Latin lower-cased), e.g. ``'헌법은 국민의'`` -> ``['헌법', '국민']``."""
    toks = get_kiwi().tokenize(unicodedata.normalize("NFC", text))
    return [t.form.lower() for t in toks if t.tag.startswith(tuple(tags))]


def morphemes_batch(texts: Sequence[str], tags: Sequence[str] = CONTENT_TAGS) -> list[list[str]]:
    """:func:`morphemes` for many texts through Kiwi's batch API (faster than a loop)."""
    kiwi = get_kiwi()
    prefixes = tuple(tags)
    return [[t.form.lower() for t in toks if t.tag.startswith(prefixes)]
            for toks in kiwi.tokenize([unicodedata.normalize("NFC", t) for t in texts])]


Tokenizer = Literal["kiwi", "whitespace"]


class BM25Index:
    """BM25 over a list of texts with Kiwi morphemes (default) or whitespace tokens, backed by bm25s.

    >>> idx = BM25Index(["헌법은 최고 규범이다", "법률의 제정"], tokenizer="kiwi")  # doctest: +SKIP
    >>> idx.search("헌법", k=1)  # doctest: +SKIP
    [(0, 0.47)]
    """

    def __init__(self, texts: Sequence[str], tokenizer: Tokenizer = "kiwi", k1: float = 1.5, b: float = 0.75):
        import bm25s

        if tokenizer not in ("kiwi", "whitespace"):
            raise SearchInputError(f"tokenizer={tokenizer!r}: 'kiwi' 또는 'whitespace' 를 쓰세요.")
        texts = list(texts)
        if not texts:
            raise SearchInputError("빈 코퍼스입니다: 색인할 문서를 하나 이상 넘기세요.")
        self.tokenizer = tokenizer
        self._tok: Callable[[str], list[str]] = morphemes if tokenizer == "kiwi" else whitespace_tokens
        corpus = morphemes_batch(texts) if tokenizer == "kiwi" else [whitespace_tokens(t) for t in texts]
        self.n_docs = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        # bm25s drops empty documents' rows silently in some versions: give them a placeholder token
        self._bm25.index([toks or ["\u2205"] for toks in corpus], show_progress=False)

    def tokenize(self, text: str) -> list[str]:
        return self._tok(text)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query`` (zeros where no term matches)."""
        if not query or not query.strip():
            raise SearchInputError("빈 질의입니다: 검색어를 입력하세요.")
        return np.asarray(self._bm25.get_scores(self._tok(query)), dtype=np.float32)

    def search(self, query: str, k: int = 10) -> list[tuple[int, float]]:
        """Top-``k`` (document index, score) with a positive score, best first (no zero-score padding)."""
        if k < 1:
            raise SearchInputError(f"k={k}: 1 이상이어야 합니다.")
        s = self.scores(query)
        k = min(k, self.n_docs)
        top = np.argsort(-s, kind="stable")[:k]
        return [(int(i), float(s[i])) for i in top if s[i] > 0]


def KoreanBM25(texts: Sequence[str], **kw: object) -> BM25Index:  # noqa: N802 - role factory
    """The ``ko_bm25`` role: :class:`BM25Index` with Kiwi morphemes."""
    return BM25Index(texts, tokenizer="kiwi", **kw)  # type: ignore[arg-type]
