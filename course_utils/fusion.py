"""Rank fusion by hand (chapters 06, 07, 11): the RRF and DBSF that Qdrant computes, in plain Python, and the
weighted score sum (:func:`wsum`) the capstone uses.

A notebook fuses two result lists itself and checks that Qdrant's ``FusionQuery`` / ``RrfQuery`` gave the same
documents in the same order with the same scores (:class:`course_utils.hybrid.HybridEngine` runs the Qdrant side).
:func:`wsum` is ranx's ``fuse(method="wsum")`` for one query (a document missing from a list gets 0 from it), with
a per-list normalisation: ``"min-max"`` (ranx's default), ``"none"``, or a number to divide by (for BM25: the
query's ceiling, :meth:`course_utils.korean_sparse.KoreanBM25Encoder.max_score`, so a weak lexical match stays weak).

>>> rrf([["a", "b"], ["b", "c"]], k=2)            # doctest: +SKIP
[('b', 0.8333...), ('a', 0.5), ('c', 0.3333...)]
>>> dbsf([[("a", 0.9), ("b", 0.5)], [("b", 7.0)]])  # doctest: +SKIP
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .errors import SearchInputError

__all__ = ["rrf", "dbsf", "wsum", "normalize", "FUSIONS", "QDRANT_RRF_K", "NORMS"]

FUSIONS: tuple[str, ...] = ("rrf", "dbsf")
"""The fusions Qdrant computes itself (``FusionQuery``)."""
NORMS: tuple[str, ...] = ("min-max", "none")
"""Named per-list normalisations of :func:`wsum` (a number is also accepted: divide by it)."""
QDRANT_RRF_K = 2
"""Qdrant's default RRF constant (``qdrant_client.hybrid.fusion.DEFAULT_RANKING_CONSTANT_K``); the RRF paper used 60."""


def rrf(rankings: Sequence[Sequence[str]], *, k: int = QDRANT_RRF_K, weights: Sequence[float] | None = None,
        limit: int | None = None) -> list[tuple[str, float]]:
    """Reciprocal Rank Fusion as Qdrant computes it: ``score(d) = sum_i 1 / (rank_i(d) / w_i + k - 1)`` (rank from 1).

    With no ``weights`` (all ``w_i = 1``) this is the usual ``sum_i 1 / (rank_i(d) + k - 1)``. A weight stretches
    or shrinks a list's ranks (Qdrant's weighted RRF), and ``w_i <= 0`` ignores list ``i``. A document missing from a
    list gets nothing from it. Ties keep the order of first appearance.
    """
    if k < 1:
        raise SearchInputError(f"RRF k={k}: 1 이상이어야 합니다 (Qdrant 기본값 {QDRANT_RRF_K}, 논문 60).")
    if weights is not None and len(weights) != len(rankings):
        raise SearchInputError(f"weights 가 {len(weights)}개, 순위 목록이 {len(rankings)}개입니다: 개수를 맞추세요.")
    scores: dict[str, float] = {}
    for i, ranking in enumerate(rankings):
        w = 1.0 if weights is None else float(weights[i])
        for rank, doc in enumerate(ranking, start=1):
            add = 0.0 if w <= 0 else 1.0 / (rank / w + k - 1)
            scores[doc] = scores.get(doc, 0.0) + add
    fused = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    return fused[:limit] if limit else fused


def dbsf(results: Sequence[Sequence[tuple[str, float]]], *, limit: int | None = None) -> list[tuple[str, float]]:
    """Distribution-Based Score Fusion as Qdrant computes it.

    Each list's scores are scaled with its mean and sample standard deviation: ``(s - (m - 3sd)) / 6sd``
    (0.5 for a one-item or constant list), then summed per document.
    """
    scores: dict[str, float] = {}
    for result in results:
        if not result:
            continue
        vals = np.array([s for _, s in result], dtype=np.float64)
        if len(vals) == 1 or float(np.var(vals)) == 0.0:
            normed = np.full(len(vals), 0.5)
        else:
            sd = float(np.std(vals, ddof=1))
            low, high = vals.mean() - 3 * sd, vals.mean() + 3 * sd
            normed = (vals - low) / (high - low)
        for (doc, _), v in zip(result, normed):
            scores[doc] = scores.get(doc, 0.0) + float(v)
    fused = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    return fused[:limit] if limit else fused


def normalize(result: Sequence[tuple[str, float]], norm: str | float = "min-max") -> list[tuple[str, float]]:
    """One list's scores normalised as :func:`wsum` does.

    ``"min-max"``: ``(s - min) / max(max - min, 1e-9)`` (ranx's ``min_max_norm``: the list's best gets 1, its worst
    0, whatever the raw scores were); ``"none"``: unchanged; a positive number ``c``: ``s / c`` (a fixed scale, e.g.
    the highest score the query could reach, so the values keep how strong the match is).
    """
    if isinstance(norm, str):
        if norm not in NORMS:
            raise SearchInputError(f"norm={norm!r}: {', '.join(NORMS)} 또는 나눌 양수를 주세요.")
        if norm == "none" or not result:
            return [(d, float(s)) for d, s in result]
        vals = np.array([s for _, s in result], dtype=np.float64)
        low, span = float(vals.min()), max(float(vals.max() - vals.min()), 1e-9)
        return [(d, (float(s) - low) / span) for d, s in result]
    scale = float(norm)
    if not scale > 0:
        raise SearchInputError(f"norm={norm!r}: 나누는 값은 양수여야 합니다(예: 질의의 BM25 최대 점수).")
    return [(d, float(s) / scale) for d, s in result]


def wsum(results: Sequence[Sequence[tuple[str, float]]], weights: Sequence[float], *,
         norms: Sequence[str | float] | None = None, limit: int | None = None) -> list[tuple[str, float]]:
    """Weighted sum of normalised scores: ``score(d) = sum_i w_i * norm_i(s_i(d))`` (0 where ``d`` is not in list i).

    ``results``: one ``[(doc_id, score), ...]`` list per retriever; ``weights``: one per list (ranx's
    ``optimize_fusion`` tunes them summing to 1); ``norms``: one per list (default ``"min-max"`` for all, as
    ``ranx.fuse(norm="min-max", method="wsum")``), see :func:`normalize`. Ties keep the order of first appearance.
    """
    if len(weights) != len(results):
        raise SearchInputError(f"weights 가 {len(weights)}개, 결과 목록이 {len(results)}개입니다: 개수를 맞추세요.")
    norms = ["min-max"] * len(results) if norms is None else list(norms)
    if len(norms) != len(results):
        raise SearchInputError(f"norms 가 {len(norms)}개, 결과 목록이 {len(results)}개입니다: 개수를 맞추세요.")
    if any(float(w) < 0 for w in weights):
        raise SearchInputError(f"weights={list(weights)!r}: 0 이상이어야 합니다.")
    scores: dict[str, float] = {}
    for result, w, norm in zip(results, weights, norms):
        for doc, v in normalize(result, norm):
            scores[doc] = scores.get(doc, 0.0) + float(w) * v
    fused = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    return fused[:limit] if limit else fused
