"""Hybrid search on Qdrant: dense + sparse (+ optional multivector) in one collection, fused or rescored.

One point holds up to three named vectors of the same document:

- ``dense``: one embedding per document (cosine),
- ``sparse``: a sparse vector (BM25 term weights with ``Modifier.IDF``, or SPLADE),
- ``multivector``: token vectors for late interaction (``MultiVectorConfig(comparator=MAX_SIM)``).

:meth:`HybridEngine.search` runs one of the modes in :data:`MODES`:

``dense`` / ``sparse`` / ``multivector``
    one retriever alone;
``rrf`` / ``dbsf``
    dense and sparse each fetch ``prefetch_k`` candidates (``prefetch``), and Qdrant fuses the two lists
    (``FusionQuery(fusion=RRF|DBSF)``; ``rrf_k`` switches to ``RrfQuery(rrf=Rrf(k=...))``).

``rescore="multivector"`` adds a second stage: the first stage's candidates are re-scored by MaxSim over the token
vectors (the ColBERT pattern). ``reranker=`` adds a cross-encoder stage on the payload texts
(see :mod:`course_utils.rerank`). :func:`rrf` and :func:`dbsf` compute the same fusions in plain Python, so a
notebook can check what Qdrant did.

>>> engine = HybridEngine(get_client(), "ko_news", dense_dim=384, sparse=True)        # doctest: +SKIP
>>> engine.upsert(ids, dense=D, sparse=S, texts=texts)                                # doctest: +SKIP
>>> engine.search(dense=q_vec, sparse=q_sparse, mode="rrf", k=10)                     # doctest: +SKIP
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import SearchInputError
from .models import SparseVector

DENSE = "dense"
SPARSE = "sparse"
MULTI = "multivector"
MODES: tuple[str, ...] = ("dense", "sparse", "multivector", "rrf", "dbsf")
FUSIONS: tuple[str, ...] = ("rrf", "dbsf")
QDRANT_RRF_K = 2
"""Qdrant's default RRF constant (``qdrant_client.hybrid.fusion.DEFAULT_RANKING_CONSTANT_K``); the RRF paper used 60."""
_NAMESPACE = uuid.UUID("6f1c2d0e-52b4-4c8a-9d56-6b8e0c7a3f21")

__all__ = ["HybridEngine", "Hit", "QueryVectors", "rrf", "dbsf", "point_id", "MODES", "FUSIONS", "QDRANT_RRF_K",
           "DENSE", "SPARSE", "MULTI"]


@dataclass
class Hit:
    """One search result: the document id, the score of the last stage, and its payload."""

    doc_id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class QueryVectors:
    """The vectors of one query, as many as a mode needs (``text`` is for a reranker)."""

    dense: np.ndarray | None = None
    sparse: SparseVector | None = None
    multivector: np.ndarray | None = None
    text: str | None = None


def point_id(doc_id: str) -> str:
    """A stable Qdrant point id (UUID5) for a document id, so re-indexing overwrites instead of duplicating."""
    return str(uuid.uuid5(_NAMESPACE, str(doc_id)))


# ------------------------------------------------------------------------------------------ fusion by hand


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


# ------------------------------------------------------------------------------------------ the engine


class HybridEngine:
    """A Qdrant collection with named ``dense`` / ``sparse`` / ``multivector`` vectors and hybrid queries.

    ``client`` comes from :func:`course_utils.qdrant_utils.get_client`. The collection is created if missing and
    reused if it matches (re-running a notebook cell is safe); ``recreate=True`` starts empty.
    ``sparse_idf=True`` sets ``Modifier.IDF`` (BM25-style sparse vectors); use ``False`` for SPLADE, whose
    weights already are the scores. ``multivector_index=False`` (the default) asks a server not to build an
    HNSW graph for the token vectors (``m=0``): they only rescore candidates.
    """

    def __init__(self, client: Any, collection: str, *, dense_dim: int | None = None, sparse: bool = True,
                 sparse_idf: bool = True, multivector_dim: int | None = None, multivector_index: bool = False,
                 recreate: bool = False) -> None:
        from qdrant_client import models

        from .qdrant_utils import ensure_collection

        if dense_dim is None and not sparse and multivector_dim is None:
            raise SearchInputError("벡터가 하나도 없습니다: dense_dim, sparse=True, multivector_dim 중 하나 이상을 주세요.")
        for name, dim in (("dense_dim", dense_dim), ("multivector_dim", multivector_dim)):
            if dim is not None and (not isinstance(dim, (int, np.integer)) or dim < 1):
                raise SearchInputError(f"{name}={dim!r}: 양의 정수(모델의 임베딩 차원)여야 합니다.")
        self.client = client
        self.collection = collection
        self.dense_dim = None if dense_dim is None else int(dense_dim)
        self.sparse = bool(sparse)
        self.sparse_idf = bool(sparse_idf)
        self.multivector_dim = None if multivector_dim is None else int(multivector_dim)
        vectors: dict[str, Any] = {}
        if self.dense_dim:
            vectors[DENSE] = models.VectorParams(size=self.dense_dim, distance=models.Distance.COSINE)
        if self.multivector_dim:
            vectors[MULTI] = models.VectorParams(
                size=self.multivector_dim, distance=models.Distance.COSINE,
                multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
                hnsw_config=None if multivector_index else models.HnswConfigDiff(m=0))
        sparse_cfg = None
        if self.sparse:
            modifier = models.Modifier.IDF if self.sparse_idf else None
            sparse_cfg = {SPARSE: models.SparseVectorParams(modifier=modifier)}
        self.created = ensure_collection(client, collection, vectors_config=vectors, sparse_vectors_config=sparse_cfg,
                                         recreate=recreate)
        if not self.created:
            self._check_existing(sparse_cfg)

    def _check_existing(self, sparse_cfg: Mapping[str, Any] | None) -> None:
        params = self.client.get_collection(self.collection).config.params
        have_sparse = set((params.sparse_vectors or {}).keys())
        want_sparse = set((sparse_cfg or {}).keys())
        if have_sparse != want_sparse:
            raise SearchInputError(
                f"컬렉션 {self.collection!r} 의 sparse 설정 {sorted(have_sparse)} 이 요청 {sorted(want_sparse)} 와 "
                "다릅니다: recreate=True 로 다시 만들거나 다른 이름을 쓰세요.")

    # ------------------------------------------------------------------ writing

    def upsert(self, doc_ids: Sequence[str], *, dense: np.ndarray | None = None,
               sparse: Sequence[SparseVector] | None = None, multivector: Sequence[np.ndarray] | None = None,
               texts: Sequence[str] | None = None, payloads: Sequence[Mapping[str, Any]] | None = None,
               batch_size: int = 64) -> int:
        """Write (or overwrite) the documents; returns how many points were written.

        Every configured vector must be given for every document. ``texts`` go into the payload (``text``) for a
        reranking stage; ``payloads`` are merged in.
        """
        from qdrant_client import models

        ids = [str(d) for d in doc_ids]
        n = len(ids)
        if n == 0:
            raise SearchInputError("빈 문서 목록입니다: 색인할 문서를 하나 이상 넘기세요.")
        if len(set(ids)) != n:
            raise SearchInputError("doc_ids 에 중복이 있습니다: 문서 id는 고유해야 합니다.")
        dense_arr = None
        if self.dense_dim:
            if dense is None:
                raise SearchInputError("이 컬렉션에는 dense 벡터가 있습니다: dense= 를 넘기세요.")
            dense_arr = np.asarray(dense, dtype=np.float32)
            if dense_arr.ndim != 2 or dense_arr.shape != (n, self.dense_dim):
                raise SearchInputError(
                    f"dense 모양 {dense_arr.shape} 이 (문서 수 {n}, 차원 {self.dense_dim}) 와 다릅니다. "
                    "다른 모델의 벡터가 아닌지 확인하세요.")
        elif dense is not None:
            raise SearchInputError("이 컬렉션에는 dense 벡터가 없습니다(dense_dim=None).")
        if self.sparse:
            if sparse is None or len(sparse) != n:
                raise SearchInputError(f"sparse 벡터를 문서마다 하나씩({n}개) 넘기세요.")
        elif sparse is not None:
            raise SearchInputError("이 컬렉션에는 sparse 벡터가 없습니다(sparse=False).")
        if self.multivector_dim:
            if multivector is None or len(multivector) != n:
                raise SearchInputError(f"multivector(문서별 토큰 벡터 행렬)를 {n}개 넘기세요.")
            for m in multivector:
                if np.ndim(m) != 2 or np.shape(m)[1] != self.multivector_dim or np.shape(m)[0] == 0:
                    raise SearchInputError(
                        f"multivector 행렬 모양 {np.shape(m)}: (토큰 수 >= 1, {self.multivector_dim}) 이어야 합니다.")
        elif multivector is not None:
            raise SearchInputError("이 컬렉션에는 multivector 가 없습니다(multivector_dim=None).")
        if texts is not None and len(texts) != n:
            raise SearchInputError(f"texts 가 {len(texts)}개, 문서가 {n}개입니다.")
        if payloads is not None and len(payloads) != n:
            raise SearchInputError(f"payloads 가 {len(payloads)}개, 문서가 {n}개입니다.")

        for start in range(0, n, batch_size):
            points = []
            for i in range(start, min(start + batch_size, n)):
                vector: dict[str, Any] = {}
                if dense_arr is not None:
                    vector[DENSE] = dense_arr[i].tolist()
                if self.sparse:
                    assert sparse is not None
                    vector[SPARSE] = _to_qdrant_sparse(sparse[i])
                if self.multivector_dim:
                    assert multivector is not None
                    vector[MULTI] = np.asarray(multivector[i], dtype=np.float32).tolist()
                payload: dict[str, Any] = {"doc_id": ids[i]}
                if texts is not None:
                    payload["text"] = texts[i]
                if payloads is not None:
                    payload.update(payloads[i])
                points.append(models.PointStruct(id=point_id(ids[i]), vector=vector, payload=payload))
            self.client.upsert(self.collection, points=points, wait=True)
        return n

    def count(self) -> int:
        return int(self.client.count(self.collection, exact=True).count)

    # ------------------------------------------------------------------ reading

    def _prefetch(self, name: str, q: QueryVectors, limit: int, where: Any = None):  # type: ignore[no-untyped-def]
        from qdrant_client import models

        return models.Prefetch(query=self._query_for(name, q), using=name, limit=limit, filter=where)

    def _query_for(self, name: str, q: QueryVectors) -> Any:
        if name == DENSE:
            if not self.dense_dim:
                raise SearchInputError("이 컬렉션에는 dense 벡터가 없습니다.")
            if q.dense is None:
                raise SearchInputError("이 모드에는 dense 질의 벡터가 필요합니다 (dense=...).")
            vec = np.asarray(q.dense, dtype=np.float32).reshape(-1)
            if vec.shape[0] != self.dense_dim:
                raise SearchInputError(f"dense 질의 차원 {vec.shape[0]} 이 컬렉션의 {self.dense_dim} 와 다릅니다.")
            return vec.tolist()
        if name == SPARSE:
            if not self.sparse:
                raise SearchInputError("이 컬렉션에는 sparse 벡터가 없습니다.")
            if q.sparse is None:
                raise SearchInputError("이 모드에는 sparse 질의 벡터가 필요합니다 (sparse=...).")
            return _to_qdrant_sparse(q.sparse)
        if not self.multivector_dim:
            raise SearchInputError("이 컬렉션에는 multivector 가 없습니다 (multivector_dim 을 주고 만드세요).")
        if q.multivector is None:
            raise SearchInputError("이 모드에는 질의의 토큰 벡터 행렬이 필요합니다 (multivector=...).")
        mat = np.asarray(q.multivector, dtype=np.float32)
        if mat.ndim != 2 or mat.shape[1] != self.multivector_dim or mat.shape[0] == 0:
            raise SearchInputError(f"질의 토큰 벡터 모양 {mat.shape}: (토큰 수 >= 1, {self.multivector_dim}) 이어야 합니다.")
        return mat.tolist()

    def search(self, *, dense: np.ndarray | None = None, sparse: SparseVector | None = None,
               multivector: np.ndarray | None = None, text: str | None = None, mode: str = "rrf", k: int = 10,
               prefetch_k: int = 50, rrf_k: int | None = None, rrf_weights: Sequence[float] | None = None,
               rescore: str | None = None, reranker: Any = None, rerank_k: int | None = None,
               where: Any = None) -> list[Hit]:
        """Top-``k`` hits for one query.

        ``mode``: one of :data:`MODES`. ``prefetch_k``: candidates each retriever hands to fusion or rescoring
        (capped at the collection size). ``rrf_k``: RRF constant (``None`` = Qdrant's default,
        :data:`QDRANT_RRF_K`); ``rrf_weights``: ``(dense, sparse)`` weights of weighted RRF.
        ``rescore="multivector"``: MaxSim second stage over the first stage's ``prefetch_k`` candidates.
        ``reranker``: an object with ``score(query, documents)`` (a cross-encoder) that re-orders the top
        ``rerank_k`` (default ``prefetch_k``) on the payload texts; needs ``text``.
        ``where``: a payload filter (a ``where`` dict of :func:`course_utils.qdrant_engine.build_filter` or a
        ``models.Filter``), applied in every prefetch too, so fusion only sees matching candidates.
        """
        from qdrant_client import models

        from .qdrant_engine import build_filter

        q = QueryVectors(dense=dense, sparse=sparse, multivector=multivector, text=text)
        where = build_filter(where)
        if mode not in MODES:
            raise SearchInputError(f"mode={mode!r}: {', '.join(MODES)} 중 하나를 쓰세요.")
        if rescore not in (None, MULTI):
            raise SearchInputError(f"rescore={rescore!r}: None 또는 'multivector' 입니다.")
        if rescore == MULTI and mode == MULTI:
            raise SearchInputError("mode='multivector' 는 이미 MaxSim 으로 전체를 검색합니다: rescore 를 빼세요.")
        if (rrf_k is not None or rrf_weights is not None) and mode != "rrf":
            raise SearchInputError("rrf_k, rrf_weights 는 mode='rrf' 에서만 씁니다.")
        if rrf_weights is not None and (len(rrf_weights) != 2 or min(rrf_weights) < 0):
            raise SearchInputError(f"rrf_weights={rrf_weights!r}: (dense 가중치, sparse 가중치) 두 개의 0 이상 값입니다.")
        total = self.count()
        if total == 0:
            raise SearchInputError(f"컬렉션 {self.collection!r} 가 비어 있습니다: 먼저 upsert 로 문서를 넣으세요.")
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise SearchInputError(f"k={k!r}: 1 이상의 정수여야 합니다.")
        if k > total:
            raise SearchInputError(f"k={k} 가 컬렉션의 문서 수 {total} 보다 큽니다: k 를 줄이세요.")
        if prefetch_k < 1:
            raise SearchInputError(f"prefetch_k={prefetch_k}: 1 이상이어야 합니다.")
        if reranker is not None and not text:
            raise SearchInputError("reranker 를 쓰려면 질의 원문 text= 가 필요합니다.")
        if rerank_k is not None and rerank_k < 1:
            raise SearchInputError(f"rerank_k={rerank_k}: 1 이상이어야 합니다.")
        # how many hits the Qdrant stage returns: k, or the reranker's candidate count
        stage_limit = k if reranker is None else min(max(rerank_k or prefetch_k, k), total)
        cand = min(max(prefetch_k, stage_limit), total)

        if mode in FUSIONS:
            fusion: Any
            if mode == "rrf" and (rrf_k is not None or rrf_weights is not None):
                if rrf_k is not None and rrf_k < 1:
                    raise SearchInputError(f"rrf_k={rrf_k}: 1 이상이어야 합니다.")
                weights = None if rrf_weights is None else [float(w) for w in rrf_weights]
                fusion = models.RrfQuery(rrf=models.Rrf(k=int(rrf_k) if rrf_k is not None else QDRANT_RRF_K,
                                                        weights=weights))
            else:
                fusion = models.FusionQuery(fusion=models.Fusion.RRF if mode == "rrf" else models.Fusion.DBSF)
            first = [self._prefetch(DENSE, q, cand, where), self._prefetch(SPARSE, q, cand, where)]
            if rescore == MULTI:
                request = dict(prefetch=models.Prefetch(prefetch=first, query=fusion, limit=cand, filter=where),
                               query=self._query_for(MULTI, q), using=MULTI)
            else:
                request = dict(prefetch=first, query=fusion)
        else:
            if rescore == MULTI:
                request = dict(prefetch=self._prefetch(mode, q, cand, where), query=self._query_for(MULTI, q),
                               using=MULTI)
            else:
                request = dict(query=self._query_for(mode, q), using=mode)
        points = self.client.query_points(self.collection, limit=stage_limit, with_payload=True, query_filter=where,
                                          **request).points
        hits = [Hit(str(p.payload.get("doc_id", p.id)), float(p.score), dict(p.payload or {})) for p in points]
        if reranker is not None:
            from .rerank import rerank_hits

            hits = rerank_hits(text or "", hits, reranker, k=k)
        return hits[:k]

    def run(self, queries: Mapping[str, QueryVectors], **search_kw: Any) -> dict[str, dict[str, float]]:
        """``{query_id: {doc_id: score}}`` for many queries (the run format of :mod:`course_utils.evaluation`)."""
        out = {}
        for qid, q in queries.items():
            hits = self.search(dense=q.dense, sparse=q.sparse, multivector=q.multivector, text=q.text, **search_kw)
            out[qid] = {h.doc_id: h.score for h in hits}
        return out

    def close(self) -> None:
        """Close the Qdrant client (local mode releases its folder lock)."""
        self.client.close()

    def __repr__(self) -> str:
        parts = [f"dense={self.dense_dim}" if self.dense_dim else None,
                 f"sparse(idf={self.sparse_idf})" if self.sparse else None,
                 f"multivector={self.multivector_dim}" if self.multivector_dim else None]
        return f"HybridEngine({self.collection!r}, " + ", ".join(p for p in parts if p) + ")"


def _to_qdrant_sparse(vec: Any) -> Any:
    from qdrant_client import models

    if isinstance(vec, models.SparseVector):
        return vec
    if isinstance(vec, SparseVector) or (hasattr(vec, "indices") and hasattr(vec, "values")):
        return models.SparseVector(indices=[int(i) for i in vec.indices], values=[float(v) for v in vec.values])
    raise SearchInputError(f"sparse 벡터는 SparseVector(indices, values) 여야 합니다: {type(vec).__name__}")
