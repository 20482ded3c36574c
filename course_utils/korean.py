"""Korean text processing for lexical search (chapters 02, 06, 09): Kiwi morphemes and BM25 (bm25s) over them.

Korean glues particles and endings to words (``헌법은``, ``헌법의``, ``헌법에``), so whitespace tokens miss
matches that a morpheme analyser finds. :func:`morphemes` keeps content morphemes (nouns, verb/adjective
stems, adverbs, foreign words, numbers, roots, hanja); :class:`BM25Index` ranks with either tokenizer and follows
the search contract of the course's engines (:mod:`course_utils.results`): ``search(query, k=10) -> list[Hit]``,
``run(queries, k=10) -> {query_id: {doc_id: score}}``.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable, Literal, Mapping, Sequence

import numpy as np

from .checks import EMPTY_CORPUS, check_k, check_query, check_same_count
from .errors import SearchInputError
from .results import Hit

CONTENT_TAGS: tuple[str, ...] = ("NN", "VV", "VA", "MAG", "SL", "SN", "XR", "SH")
"""Kiwi tag prefixes kept as search terms: nouns, verb/adjective stems, adverbs, Latin, numbers, roots, hanja."""

_WS = re.compile(r"\S+")
_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


@lru_cache(maxsize=1)
def get_kiwi():  # type: ignore[no-untyped-def]
    """The process-wide Kiwi analyser (about a second to build, so built once)."""
    from kiwipiepy import Kiwi  # heavy (loads its model files): only when Korean text is analysed

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

    ``ids`` (optional, one per text) are the document ids that hits and runs report; without them a hit's
    ``doc_id`` is the text's position in the list.

    >>> idx = BM25Index(["헌법은 최고 규범이다", "법률의 제정"], tokenizer="kiwi")  # doctest: +SKIP
    >>> idx.search("헌법", k=1)  # doctest: +SKIP
    [Hit(doc_id=0, score=0.47)]
    """

    def __init__(self, texts: Sequence[str], tokenizer: Tokenizer = "kiwi", k1: float = 1.5, b: float = 0.75, *,
                 ids: Sequence[str | int] | None = None):
        import bm25s  # heavy (scipy): only when an index is built

        if tokenizer not in ("kiwi", "whitespace"):
            raise SearchInputError(f"tokenizer={tokenizer!r}: 'kiwi' 또는 'whitespace' 를 쓰세요.")
        texts = list(texts)
        if not texts:
            raise SearchInputError(EMPTY_CORPUS)
        if ids is not None:
            check_same_count(len(ids), "ids", len(texts), "텍스트")
        self.ids: list[str | int] = list(ids) if ids is not None else list(range(len(texts)))
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
        """BM25 score of every document for ``query`` (zeros where no term matches), in the texts' order."""
        check_query(query)
        return np.asarray(self._bm25.get_scores(self._tok(query)), dtype=np.float32)

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """Top-``k`` documents with a positive score, best first (no zero-score padding; ``k`` larger than the
        corpus returns what matches)."""
        k = min(check_k(k), self.n_docs)
        s = self.scores(query)
        top = np.argsort(-s, kind="stable")[:k]
        return [Hit(self.ids[int(i)], float(s[i])) for i in top if s[i] > 0]

    def run(self, queries: Mapping[str, str], k: int = 10) -> dict[str, dict[str, float]]:
        """``{query_id: {doc_id: score}}`` for ``{query_id: text}`` (for :mod:`course_utils.evaluation`)."""
        return {qid: {h.doc_id: h.score for h in self.search(text, k)} for qid, text in queries.items()}  # type: ignore[misc]

