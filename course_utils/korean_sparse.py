"""Korean BM25 as a Qdrant sparse vector (chapters 06, 07, 11): Kiwi morphemes -> hashed ids -> BM25 term weights, IDF from Qdrant.

BM25 splits into a part that depends on one document (term frequency, saturated by ``k1`` and normalised by the
document's length with ``b``) and a part that depends on the whole collection (IDF). The document part is
stored as the sparse vector's values; Qdrant computes the IDF itself when the sparse vector is configured with
``modifier=Modifier.IDF``, from the points it holds. A query is just its terms with weight 1.0, so Qdrant's dot
product adds up ``IDF(term) x weight(term, doc)`` over the query's terms: the BM25 score.

This is what FastEmbed's ``Qdrant/bm25`` model does for English (Snowball stems); Korean needs morphemes first,
because particles and endings are glued to words (``헌법은``/``헌법의``/``헌법에``). Token ids are the same stable
hash FastEmbed uses (``abs(mmh3.hash(token))``), so no vocabulary has to be stored or shared between processes.

>>> enc = KoreanBM25Encoder().fit(corpus_texts)            # doctest: +SKIP
>>> doc_vectors = enc.encode_documents(corpus_texts)       # doctest: +SKIP
>>> client.create_collection("ko", vectors_config={},       # doctest: +SKIP
...     sparse_vectors_config={"bm25": enc.sparse_vector_params()})
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Literal, Mapping, Sequence

import mmh3
import numpy as np
from qdrant_client import models

from .checks import check_query, check_texts
from .embed_cache import cache_folder, cached_arrays, encoder_cache_key, pack_rows
from .errors import SearchInputError
from .korean import morphemes, morphemes_batch, whitespace_tokens
from .models import SparseVector

Tokenizer = Literal["kiwi", "whitespace"]

__all__ = ["KoreanBM25Encoder", "token_id", "encode_sparse_cached", "SparseVector"]


def token_id(token: str) -> int:
    """Stable 31-bit id of a token: ``abs(mmh3.hash(token))``, the hash FastEmbed's BM25 uses."""
    return abs(mmh3.hash(token))


class KoreanBM25Encoder:
    """BM25 sparse vectors for Qdrant over Kiwi content morphemes (or whitespace tokens, for comparison).

    Document weight of term ``t``: ``tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avg_len))``; query weight: 1.0
    per distinct term. With ``Modifier.IDF`` on the collection the Qdrant score equals bm25s' ``lucene`` BM25
    times ``k1 + 1`` (the same ranking). Call :meth:`fit` on the corpus first (it measures ``avg_len``), or pass
    ``avg_len``.
    """

    def __init__(self, tokenizer: Tokenizer = "kiwi", *, k1: float = 1.5, b: float = 0.75,
                 avg_len: float | None = None, doc_freq: Mapping[int, int] | None = None,
                 n_docs: int | None = None) -> None:
        if tokenizer not in ("kiwi", "whitespace"):
            raise SearchInputError(f"tokenizer={tokenizer!r}: 'kiwi'(형태소) 또는 'whitespace'(공백) 를 쓰세요.")
        if k1 < 0 or not 0 <= b <= 1:
            raise SearchInputError(f"k1={k1}, b={b}: k1 >= 0, 0 <= b <= 1 이어야 합니다 (보통 k1=1.2~2.0, b=0.75).")
        if avg_len is not None and avg_len <= 0:
            raise SearchInputError(f"avg_len={avg_len}: 양수여야 합니다 (코퍼스의 평균 토큰 수).")
        self.tokenizer: Tokenizer = tokenizer
        self.k1 = float(k1)
        self.b = float(b)
        self.avg_len = None if avg_len is None else float(avg_len)
        self.doc_freq: dict[int, int] | None = None if doc_freq is None else {int(t): int(c) for t, c in doc_freq.items()}
        """Token id -> number of fitted documents holding it (what Qdrant's ``Modifier.IDF`` counts), for
        :meth:`max_score`; set by :meth:`fit` or passed in when a saved system is reopened."""
        self.n_docs = None if n_docs is None else int(n_docs)
        self.vocabulary: dict[int, str] = {}
        """id -> token for every token seen by :meth:`fit` or an encode call (for :meth:`top_terms`)."""
        self.collisions: dict[int, set[str]] = {}
        """Ids that two different tokens hashed to (expected empty for a corpus of this size)."""

    # ------------------------------------------------------------------ tokens

    def tokenize(self, text: str) -> list[str]:
        """The tokens BM25 counts: content morphemes (``kiwi``) or lower-cased whitespace tokens."""
        return morphemes(text) if self.tokenizer == "kiwi" else whitespace_tokens(text)

    def tokenize_batch(self, texts: Sequence[str]) -> list[list[str]]:
        if self.tokenizer == "kiwi":
            return morphemes_batch(list(texts))
        return [whitespace_tokens(t) for t in texts]

    def _ids(self, tokens: Sequence[str]) -> list[int]:
        out = []
        for tok in tokens:
            tid = token_id(tok)
            seen = self.vocabulary.setdefault(tid, tok)
            if seen != tok:
                self.collisions.setdefault(tid, {seen}).add(tok)
            out.append(tid)
        return out

    # ------------------------------------------------------------------ fitting

    def fit(self, texts: Sequence[str]) -> "KoreanBM25Encoder":
        """Measure the corpus' average document length in tokens (BM25's ``avgdl``); returns ``self``."""
        texts = _check_texts(texts, "코퍼스")
        tokens = self.tokenize_batch(texts)
        df: Counter[int] = Counter()
        for toks in tokens:
            df.update(set(self._ids(toks)))
        self.avg_len = float(np.mean([len(t) for t in tokens])) or 1.0
        self.doc_freq, self.n_docs = dict(df), len(tokens)
        return self

    # ------------------------------------------------------------------ encoding

    def _doc_vector(self, tokens: Sequence[str]) -> SparseVector:
        assert self.avg_len is not None
        counts = Counter(self._ids(tokens))
        norm = self.k1 * (1 - self.b + self.b * len(tokens) / self.avg_len)
        ids = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        return SparseVector(ids, (tf * (self.k1 + 1) / (tf + norm)).astype(np.float32))

    def encode_documents(self, texts: str | Sequence[str]) -> list[SparseVector]:
        """One sparse vector per document (BM25 term-frequency part; IDF comes from Qdrant)."""
        if self.avg_len is None:
            raise SearchInputError(
                "avg_len 을 모릅니다: 먼저 encoder.fit(코퍼스 전체 텍스트) 를 부르거나 "
                "KoreanBM25Encoder(avg_len=...) 로 평균 문서 길이(토큰 수)를 주세요.")
        texts = _check_texts([texts] if isinstance(texts, str) else texts, "문서 목록")
        return [self._doc_vector(toks) for toks in self.tokenize_batch(texts)]

    def encode_queries(self, texts: str | Sequence[str]) -> list[SparseVector]:
        """One sparse vector per query: weight 1.0 for each distinct term (a query with no term is empty)."""
        texts = _check_texts([texts] if isinstance(texts, str) else texts, "질의 목록")
        for t in texts:
            check_query(t)
        out = []
        for toks in self.tokenize_batch(texts):
            ids = np.array(sorted(set(self._ids(toks))), dtype=np.int64)
            out.append(SparseVector(ids, np.ones(len(ids), dtype=np.float32)))
        return out

    def encode_query(self, text: str) -> SparseVector:
        return self.encode_queries([text])[0]

    # ------------------------------------------------------------------ display and Qdrant

    def top_terms(self, vec: SparseVector, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` heaviest terms of ``vec`` as (token, weight) (ids this encoder has seen)."""
        order = np.argsort(-vec.values, kind="stable")[:k]
        return [(self.vocabulary.get(int(vec.indices[i]), f"#{int(vec.indices[i])}"), float(vec.values[i]))
                for i in order]

    @staticmethod
    def sparse_vector_params():  # type: ignore[no-untyped-def]
        """``SparseVectorParams(modifier=Modifier.IDF)``: Qdrant supplies the IDF part of BM25."""
        return models.SparseVectorParams(modifier=models.Modifier.IDF)

    def idf(self, df: int, n: int) -> float:
        """The IDF Qdrant applies (``ln(1 + (n - df + 0.5) / (df + 0.5))``), for checking scores by hand."""
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    def max_score(self, query: SparseVector) -> float:
        """The highest BM25 score any document could reach for ``query``: ``(k1 + 1) * sum_t IDF(t)``.

        A document weight ``tf (k1+1) / (tf + ...)`` stays below ``k1 + 1``, so ``score / max_score`` lies in
        ``[0, 1)`` and says how much of the query a document matches, weighted by rarity. A term no fitted
        document holds counts with the IDF of ``df = 0`` (the query asked for something rare that is not there).
        Needs the document frequencies of :meth:`fit` (the collection must hold exactly the fitted documents for
        this to equal Qdrant's IDF).
        """
        if self.doc_freq is None or not self.n_docs:
            raise SearchInputError("문서 빈도를 모릅니다: 먼저 encoder.fit(코퍼스 전체 텍스트) 를 부르거나 "
                                   "KoreanBM25Encoder(doc_freq=..., n_docs=...) 로 저장해 둔 값을 주세요.")
        n = self.n_docs
        total = sum(self.idf(self.doc_freq.get(int(t), 0), n) for t in query.indices.tolist())
        return float((self.k1 + 1) * total)

    def __repr__(self) -> str:
        avg = "미학습(fit 필요)" if self.avg_len is None else f"{self.avg_len:.1f}"
        return f"KoreanBM25Encoder(tokenizer={self.tokenizer!r}, k1={self.k1}, b={self.b}, avg_len={avg})"


def _check_texts(texts: Sequence[str], what: str) -> list[str]:
    return check_texts(texts, what)


def encode_sparse_cached(encoder: Any, texts: Sequence[str], *, kind: str = "passage") -> list[SparseVector]:
    """``encoder.encode(texts, kind=kind)`` for a learned sparse model (SPLADE, a
    :class:`~course_utils.models.SparseEncoder`) through the course's array cache
    (:func:`course_utils.embed_cache.cached_arrays`): one ``sparse/<key>.npz`` with the indices, values and row
    offsets of every vector."""
    texts = _check_texts(texts, "텍스트 목록")
    path = cache_folder("sparse") / f"{encoder_cache_key(encoder, kind, texts)}.npz"

    def compute() -> dict[str, np.ndarray]:
        vecs = encoder.encode(texts, kind=kind)
        indices, offsets = pack_rows([np.asarray(v.indices, dtype=np.int64) for v in vecs])
        values, _ = pack_rows([np.asarray(v.values, dtype=np.float32) for v in vecs])
        return {"indices": indices, "values": values, "offsets": offsets}

    data = cached_arrays(path, compute, valid=lambda d: len(d["offsets"]) == len(texts) + 1)
    idx, val, off = data["indices"], data["values"], data["offsets"]
    return [SparseVector(idx[off[i]:off[i + 1]], val[off[i]:off[i + 1]]) for i in range(len(texts))]
