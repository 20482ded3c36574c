"""Late interaction (ColBERT-style, chapter 07): one vector per token, scored with MaxSim.

A dense model pools a text into one vector before comparing; a late-interaction model keeps every token's
vector and compares *late*: for each query token, take its best-matching document token (max cosine), then
add those maxima up::

    MaxSim(Q, D) = sum_i max_j cos(q_i, d_j)

That is what Qdrant computes for a vector configured with ``MultiVectorConfig(comparator=MAX_SIM)`` and
``Distance.COSINE``. This module computes it by hand (to check Qdrant and to explain a score token by token),
caches token vectors on disk, and measures what multivectors cost in memory.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .checks import as_matrix, check_dim, check_k, check_texts
from .embed_cache import cache_folder, cached_arrays, encoder_cache_key, pack_rows, unpack_rows
from .errors import SearchInputError
from .measure import top_k_rows

__all__ = ["maxsim", "maxsim_scores", "maxsim_alignment", "rank_maxsim", "Alignment", "MaxSimIndex",
           "multivector_bytes", "memory_per_document", "encode_multivectors_cached"]


def _matrix(x: Any, what: str) -> np.ndarray:
    return as_matrix(x, what, rows="토큰 수")


def _unit(m: np.ndarray) -> np.ndarray:
    return m / np.clip(np.linalg.norm(m, axis=1, keepdims=True), 1e-12, None)


def _check_dims(q: np.ndarray, d: np.ndarray) -> None:
    check_dim(d.shape[1], q.shape[1], what="문서 토큰 벡터", against="질의 토큰 벡터의")


def maxsim(query: Any, document: Any, *, normalize: bool = True) -> float:
    """MaxSim of a query matrix ``(q_tokens, dim)`` against a document matrix ``(d_tokens, dim)``.

    With ``normalize=True`` rows are L2-normalised first (cosine, like Qdrant's ``Distance.COSINE``).
    """
    q, d = _matrix(query, "query"), _matrix(document, "document")
    _check_dims(q, d)
    if normalize:
        q, d = _unit(q), _unit(d)
    return float((q @ d.T).max(axis=1).sum())


def maxsim_scores(query: Any, documents: Sequence[Any], *, normalize: bool = True) -> np.ndarray:
    """MaxSim of one query against many documents (one score per document)."""
    if len(documents) == 0:
        raise SearchInputError("문서 목록이 비어 있습니다.")
    q = _matrix(query, "query")
    if normalize:
        q = _unit(q)
    out = np.empty(len(documents), dtype=np.float32)
    for i, doc in enumerate(documents):
        d = _matrix(doc, f"documents[{i}]")
        _check_dims(q, d)
        if normalize:
            d = _unit(d)
        out[i] = (q @ d.T).max(axis=1).sum()
    return out


def rank_maxsim(query: Any, documents: Sequence[Any], k: int = 10) -> list[tuple[int, float]]:
    """Top-``k`` (document index, MaxSim) by brute force, best first."""
    k = check_k(k, len(documents))
    s = maxsim_scores(query, documents)
    order, best = top_k_rows(s, k)
    return [(int(i), float(v)) for i, v in zip(order[0], best[0])]


class MaxSimIndex:
    """Every document's token vectors in one stacked matrix: MaxSim against all documents in one matrix product.

    :func:`maxsim_scores` loops over documents; this scores a query against the whole corpus at once
    (``query @ stacked.T``, then the maximum over each document's rows with ``np.maximum.reduceat``), the same
    numbers as :func:`maxsim` (cosine, rows L2-normalised). Chapter 07 uses it to evaluate MaxSim pipelines at
    benchmark scale: Qdrant's local mode computes multivector MaxSim in a Python loop over every stored point
    (about 0.2 s per query on ``ko_news``), while a Qdrant server does it natively. The notebook checks both give
    the same hits on a sample of queries.

    ``ids``: one id per document (default ``0..n-1``); ``rescore`` takes candidates by these ids.
    """

    def __init__(self, documents: Sequence[Any], ids: Sequence[Any] | None = None) -> None:
        if len(documents) == 0:
            raise SearchInputError("문서 목록이 비어 있습니다: 토큰 벡터 행렬을 하나 이상 넘기세요.")
        mats = [_unit(_matrix(d, f"documents[{i}]")) for i, d in enumerate(documents)]
        dims = {m.shape[1] for m in mats}
        if len(dims) != 1:
            raise SearchInputError(f"문서 행렬의 차원이 섞여 있습니다: {sorted(dims)}. 같은 모델로 만든 토큰 벡터인지 확인하세요.")
        self.dim = dims.pop()
        self.ids = list(range(len(mats))) if ids is None else list(ids)
        if len(self.ids) != len(mats):
            raise SearchInputError(f"ids {len(self.ids)}개와 문서 행렬 {len(mats)}개의 수가 다릅니다.")
        self._position = {doc_id: i for i, doc_id in enumerate(self.ids)}
        if len(self._position) != len(self.ids):
            raise SearchInputError("ids 에 중복이 있습니다: 문서마다 다른 id 를 주세요.")
        self.vectors = np.ascontiguousarray(np.concatenate(mats), dtype=np.float32)
        self.starts = np.cumsum([0] + [m.shape[0] for m in mats[:-1]]).astype(np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query: Any) -> np.ndarray:
        """MaxSim of one query matrix ``(q_tokens, dim)`` against every document, in ``ids`` order."""
        q = _unit(_matrix(query, "query"))
        check_dim(q.shape[1], self.dim, what="질의 토큰 벡터", against="문서 토큰 벡터의")
        sims = q @ self.vectors.T                                   # (q_tokens, all document tokens)
        return np.maximum.reduceat(sims, self.starts, axis=1).sum(axis=0)

    def search(self, query: Any, k: int = 10, *, candidates: Sequence[Any] | None = None) -> list[tuple[Any, float]]:
        """Top-``k`` ``(id, MaxSim)``, best first: over the whole corpus, or only over ``candidates`` (ids),
        which is what a second stage after ``prefetch`` does."""
        s = self.scores(query)
        if candidates is None:
            pool = np.arange(len(self.ids))
        else:
            unknown = [c for c in candidates if c not in self._position]
            if unknown:
                raise SearchInputError(f"색인에 없는 후보 id {unknown[:3]}: 같은 코퍼스의 id 인지 확인하세요.")
            pool = np.array(sorted({self._position[c] for c in candidates}), dtype=np.int64)
            if len(pool) == 0:
                raise SearchInputError("후보가 비어 있습니다: 1단계에서 후보를 하나 이상 넘기세요.")
        k = check_k(k, len(pool), where="후보 ")
        order, best = top_k_rows(s[pool], k)
        return [(self.ids[int(pool[i])], float(v)) for i, v in zip(order[0], best[0])]

    def run(self, queries: Any, k: int = 10, *,
            candidates: Any = None) -> dict[str, dict[Any, float]]:
        """``{query_id: {doc_id: MaxSim}}`` for ``{query_id: query matrix}``: a full scan, or a second stage over
        each query's first-stage hits when ``candidates`` is a run ``{query_id: {doc_id: score}}``."""
        if candidates is not None:
            missing = [qid for qid in queries if qid not in candidates]
            if missing:
                raise SearchInputError(f"1단계 결과에 없는 질의 {missing[:3]}: 같은 질의 묶음의 run 을 넘기세요.")
        return {qid: dict(self.search(m, k, candidates=None if candidates is None else list(candidates[qid])))
                for qid, m in queries.items()}

    def __repr__(self) -> str:
        return f"MaxSimIndex({len(self.ids)} documents, {self.vectors.shape[0]} token vectors x {self.dim})"


@dataclass
class Alignment:
    """Which document token each query token matched, and how well (the parts MaxSim adds up)."""

    query_tokens: list[str]
    document_tokens: list[str]
    best: np.ndarray
    """Index of the best document token for each query token."""
    similarity: np.ndarray
    """Cosine of each query token with its best document token."""

    @property
    def score(self) -> float:
        return float(self.similarity.sum())

    def rows(self) -> list[tuple[str, str, float]]:
        return [(q, self.document_tokens[int(j)], float(s))
                for q, j, s in zip(self.query_tokens, self.best, self.similarity)]


def maxsim_alignment(query: Any, document: Any, query_tokens: Sequence[str],
                     document_tokens: Sequence[str]) -> Alignment:
    """MaxSim with its explanation: the best document token for every query token."""
    q, d = _unit(_matrix(query, "query")), _unit(_matrix(document, "document"))
    _check_dims(q, d)
    if len(query_tokens) != q.shape[0] or len(document_tokens) != d.shape[0]:
        raise SearchInputError(f"토큰 이름 수({len(query_tokens)}, {len(document_tokens)})가 행렬 행 수"
                               f"({q.shape[0]}, {d.shape[0]})와 다릅니다.")
    sims = q @ d.T
    best = sims.argmax(axis=1)
    return Alignment(list(query_tokens), list(document_tokens), best, sims[np.arange(len(best)), best])


def multivector_bytes(matrices: Sequence[Any], *, bytes_per_value: int = 4) -> int:
    """Bytes to store the raw values of many token-vector matrices (float32 = 4 bytes, float16 = 2, ...)."""
    return int(sum(np.asarray(m).shape[0] * np.asarray(m).shape[1] for m in matrices) * bytes_per_value)


def memory_per_document(token_counts: Sequence[int], multivector_dim: int, dense_dim: int, *,
                        bytes_per_value: int = 4) -> dict[str, float]:
    """Mean bytes per document of token vectors vs one dense vector, and the ratio."""
    if len(token_counts) == 0:
        raise SearchInputError("토큰 수 목록이 비어 있습니다.")
    mean_tokens = float(np.mean(token_counts))
    multi = mean_tokens * multivector_dim * bytes_per_value
    dense = float(dense_dim * bytes_per_value)
    return {"mean_tokens": mean_tokens, "multivector_bytes": multi, "dense_bytes": dense, "ratio": multi / dense}


# ------------------------------------------------------------------------------------------ disk cache


def encode_multivectors_cached(encoder: Any, texts: Sequence[str], *, kind: str = "passage") -> list[np.ndarray]:
    """``encoder.encode(texts, kind=kind)`` (a :class:`~course_utils.models.LateInteractionEncoder`) through the
    course's array cache (:func:`course_utils.embed_cache.cached_arrays`): one ``multivectors/<key>.npz`` with all
    token vectors (float32) and the row offsets of each text."""
    texts = check_texts(texts, "텍스트 목록")
    path = cache_folder("multivectors") / f"{encoder_cache_key(encoder, kind, texts)}.npz"

    def compute() -> dict[str, np.ndarray]:
        mats = [np.asarray(m, dtype=np.float32) for m in encoder.encode(texts, kind=kind)]
        flat, offsets = pack_rows(mats)
        return {"vectors": flat, "offsets": offsets}

    data = cached_arrays(path, compute, valid=lambda d: len(d["offsets"]) == len(texts) + 1)
    return unpack_rows(data["vectors"], data["offsets"])
