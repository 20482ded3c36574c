"""Hybrid search on Qdrant (chapters 06, 07, 11): dense + sparse (+ optional multivector) in one collection, fused or
rescored.

One point holds up to three named vectors of the same document:

- ``dense``: one embedding per document (cosine),
- ``sparse``: a sparse vector (BM25 term weights with ``Modifier.IDF``, or SPLADE),
- ``multivector``: token vectors for late interaction (``MultiVectorConfig(comparator=MAX_SIM)``).

:meth:`HybridEngine.search` runs one of the modes in :data:`MODES`:

``dense`` / ``sparse`` / ``multivector``
    one retriever alone;
``rrf`` / ``dbsf``
    dense and sparse each fetch ``prefetch_k`` candidates (``prefetch``), and Qdrant fuses the two lists
    (``FusionQuery(fusion=RRF|DBSF)``; ``rrf_k`` switches to ``RrfQuery(rrf=Rrf(k=...))``);
``wsum``
    dense and sparse each fetch ``prefetch_k`` candidates (two Qdrant queries) and :func:`~course_utils.fusion.wsum`
    adds their normalised scores with ``wsum_weights``: the dense list min-max normalised per query, the sparse list
    divided by ``sparse_scale`` (the query's highest reachable BM25 score) or, without it, min-max too. This is
    ranx's ``fuse(method="wsum")``; Qdrant's own fusions cannot divide by a per-query maximum.

``rescore="multivector"`` adds a second stage: the first stage's candidates are re-scored by MaxSim over the token
vectors (the ColBERT pattern). ``reranker=`` adds a cross-encoder stage on the payload texts
(see :mod:`course_utils.rerank`). :func:`~course_utils.fusion.rrf` and :func:`~course_utils.fusion.dbsf` (in
:mod:`course_utils.fusion`, importable from here) compute the same fusions in plain Python, so a notebook can check
what Qdrant did.

Ids, hits, filters (with the misspelt-field check) and the cached point count come from
:mod:`course_utils.qdrant_core`, shared with :class:`course_utils.qdrant_engine.QdrantEngine`.

>>> engine = HybridEngine(get_client(), "ko_news", dense_dim=384, sparse=True)        # doctest: +SKIP
>>> engine.upsert(ids, dense=D, sparse=S, texts=texts)                                # doctest: +SKIP
>>> engine.search(QueryVectors(dense=q_vec, sparse=q_sparse), k=10, mode="rrf")       # doctest: +SKIP
>>> engine.search(dense=q_vec, sparse=q_sparse, mode="rrf", k=10)                     # the same, by keyword
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from qdrant_client import models

from .checks import as_matrix, check_same_count, check_unique_ids
from .errors import SearchInputError
from .fusion import FUSIONS, QDRANT_RRF_K, dbsf, rrf, wsum
from .models import SparseVector
from .qdrant_core import ID_FIELD, Hit, QdrantCollection, point_id, to_qdrant_sparse
from .qdrant_utils import ensure_collection
from .rerank import rerank_hits

DENSE = "dense"
SPARSE = "sparse"
MULTI = "multivector"
MODES: tuple[str, ...] = ("dense", "sparse", "multivector", "rrf", "dbsf", "wsum")

__all__ = ["HybridEngine", "Hit", "QueryVectors", "rrf", "dbsf", "wsum", "point_id", "MODES", "FUSIONS", "QDRANT_RRF_K",
           "DENSE", "SPARSE", "MULTI"]


@dataclass
class QueryVectors:
    """The vectors of one query, as many as a mode needs (``text`` is for a reranker)."""

    dense: np.ndarray | None = None
    sparse: SparseVector | None = None
    multivector: np.ndarray | None = None
    text: str | None = None


# ------------------------------------------------------------------------------------------ the engine


class HybridEngine(QdrantCollection):
    """A Qdrant collection with named ``dense`` / ``sparse`` / ``multivector`` vectors and hybrid queries.

    ``client`` comes from :func:`course_utils.qdrant_utils.get_client`; the engine takes it over (:meth:`close`
    closes it, which releases a local folder). The collection is created if missing and reused if it matches
    (re-running a notebook cell is safe); ``recreate=True`` starts empty.
    ``sparse_idf=True`` sets ``Modifier.IDF`` (BM25-style sparse vectors); use ``False`` for SPLADE, whose
    weights already are the scores. ``multivector_index=False`` (the default) asks a server not to build an
    HNSW graph for the token vectors (``m=0``): they only rescore candidates.
    """

    WRITE_METHOD = "upsert"

    def __init__(self, client: Any, collection: str, *, dense_dim: int | None = None, sparse: bool = True,
                 sparse_idf: bool = True, multivector_dim: int | None = None, multivector_index: bool = False,
                 recreate: bool = False) -> None:
        if dense_dim is None and not sparse and multivector_dim is None:
            raise SearchInputError("벡터가 하나도 없습니다: dense_dim, sparse=True, multivector_dim 중 하나 이상을 주세요.")
        for name, dim in (("dense_dim", dense_dim), ("multivector_dim", multivector_dim)):
            if dim is not None and (isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1):
                raise SearchInputError(f"{name}={dim!r}: 양의 정수(모델의 임베딩 차원)여야 합니다.")
        super().__init__(client, collection, owns_client=True)
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
        self._opened(self.created)

    def _check_existing(self, sparse_cfg: Mapping[str, Any] | None) -> None:
        params = self.client.get_collection(self.collection).config.params
        have_sparse = set((params.sparse_vectors or {}).keys())
        want_sparse = set((sparse_cfg or {}).keys())
        if have_sparse != want_sparse:
            raise SearchInputError(
                f"컬렉션 {self.collection!r} 의 sparse 설정 {sorted(have_sparse)} 이 요청 {sorted(want_sparse)} 와 "
                "다릅니다: recreate=True 로 다시 만들거나 다른 이름을 쓰세요.")

    # ------------------------------------------------------------------ writing

    def upsert(self, doc_ids: Sequence[str | int], *, dense: np.ndarray | None = None,
               sparse: Sequence[SparseVector] | None = None, multivector: Sequence[np.ndarray] | None = None,
               texts: Sequence[str] | None = None, payloads: Sequence[Mapping[str, Any]] | None = None,
               batch_size: int = 64) -> int:
        """Write (or overwrite) the documents; returns how many points were written.

        Every configured vector must be given for every document. ``texts`` go into the payload (``text``) for a
        reranking stage; ``payloads`` are merged in.
        """
        self._check_open()
        ids = check_unique_ids(doc_ids)
        n = len(ids)
        against = f"컬렉션 {self.collection!r} 의"
        dense_arr = None
        if self.dense_dim:
            if dense is None:
                raise SearchInputError("이 컬렉션에는 dense 벡터가 있습니다: dense= 를 넘기세요.")
            dense_arr = as_matrix(dense, "dense 벡터", dim=self.dense_dim, against=against)
            check_same_count(len(dense_arr), "dense 벡터", n, "문서")
        elif dense is not None:
            raise SearchInputError("이 컬렉션에는 dense 벡터가 없습니다(dense_dim=None).")
        if self.sparse:
            if sparse is None or len(sparse) != n:
                raise SearchInputError(f"sparse 벡터를 문서마다 하나씩({n}개) 넘기세요.")
        elif sparse is not None:
            raise SearchInputError("이 컬렉션에는 sparse 벡터가 없습니다(sparse=False).")
        mats: list[np.ndarray] = []
        if self.multivector_dim:
            if multivector is None or len(multivector) != n:
                raise SearchInputError(f"multivector(문서별 토큰 벡터 행렬)를 {n}개 넘기세요.")
            mats = [as_matrix(m, "multivector 행렬", rows="토큰 수", dim=self.multivector_dim, against=against)
                    for m in multivector]
        elif multivector is not None:
            raise SearchInputError("이 컬렉션에는 multivector 가 없습니다(multivector_dim=None).")
        if texts is not None:
            check_same_count(len(texts), "texts", n, "문서")
        if payloads is not None:
            check_same_count(len(payloads), "payloads", n, "문서")

        points = []
        for i in range(n):
            vector: dict[str, Any] = {}
            if dense_arr is not None:
                vector[DENSE] = dense_arr[i].tolist()
            if self.sparse:
                assert sparse is not None
                vector[SPARSE] = to_qdrant_sparse(sparse[i])
            if mats:
                vector[MULTI] = mats[i].tolist()
            payload: dict[str, Any] = {ID_FIELD: ids[i]}
            if texts is not None:
                payload["text"] = texts[i]
            if payloads is not None:
                payload.update(payloads[i])
            points.append(models.PointStruct(id=point_id(ids[i]), vector=vector, payload=payload))
        fields = {"text"} if texts is not None else set()
        fields |= {key for p in (payloads or []) for key in p}
        return self._upload(points, fields, batch_size=batch_size)

    # ------------------------------------------------------------------ reading

    def _prefetch(self, name: str, q: QueryVectors, limit: int, where: Any = None) -> Any:
        return models.Prefetch(query=self._query_for(name, q), using=name, limit=limit, filter=where)

    def _query_for(self, name: str, q: QueryVectors) -> Any:
        against = f"컬렉션 {self.collection!r} 의"
        if name == DENSE:
            if not self.dense_dim:
                raise SearchInputError("이 컬렉션에는 dense 벡터가 없습니다.")
            if q.dense is None:
                raise SearchInputError("이 모드에는 dense 질의 벡터가 필요합니다 (dense=...).")
            vec = as_matrix(q.dense, "dense 질의 벡터", allow_1d=True, dim=self.dense_dim, against=against)
            if len(vec) != 1:
                raise SearchInputError(f"dense 질의 벡터는 하나여야 합니다({len(vec)}개). 여러 질의는 run(...) 을 쓰세요.")
            return vec[0].tolist()
        if name == SPARSE:
            if not self.sparse:
                raise SearchInputError("이 컬렉션에는 sparse 벡터가 없습니다.")
            if q.sparse is None:
                raise SearchInputError("이 모드에는 sparse 질의 벡터가 필요합니다 (sparse=...).")
            return to_qdrant_sparse(q.sparse)
        if not self.multivector_dim:
            raise SearchInputError("이 컬렉션에는 multivector 가 없습니다 (multivector_dim 을 주고 만드세요).")
        if q.multivector is None:
            raise SearchInputError("이 모드에는 질의의 토큰 벡터 행렬이 필요합니다 (multivector=...).")
        return as_matrix(q.multivector, "질의 토큰 벡터 행렬", rows="토큰 수", dim=self.multivector_dim,
                         against=against).tolist()

    def search(self, query: QueryVectors | None = None, k: int = 10, *, dense: np.ndarray | None = None,
               sparse: SparseVector | None = None, multivector: np.ndarray | None = None, text: str | None = None,
               mode: str = "rrf", prefetch_k: int = 50, rrf_k: int | None = None,
               rrf_weights: Sequence[float] | None = None, wsum_weights: Sequence[float] | None = None,
               sparse_scale: float | None = None, rescore: str | None = None, reranker: Any = None,
               rerank_k: int | None = None, where: Any = None) -> list[Hit]:
        """Top-``k`` hits for one query, best first.

        ``query``: the query's vectors as a :class:`QueryVectors`; or give them by keyword (``dense=``,
        ``sparse=``, ``multivector=``, ``text=``), which also override the fields of ``query``.
        ``mode``: one of :data:`MODES`. ``prefetch_k``: candidates each retriever hands to fusion or rescoring
        (Qdrant returns at most the collection size). ``rrf_k``: RRF constant (``None`` = Qdrant's default,
        :data:`QDRANT_RRF_K`); ``rrf_weights``: ``(dense, sparse)`` weights of weighted RRF.
        ``wsum_weights``: ``(dense, sparse)`` weights of ``mode="wsum"`` (default ``(0.5, 0.5)``);
        ``sparse_scale``: what ``wsum`` divides the sparse scores by (``None``: min-max them).
        ``rescore="multivector"``: MaxSim second stage over the first stage's ``prefetch_k`` candidates.
        ``reranker``: an object with ``score(query, documents)`` (a cross-encoder) that re-orders the top
        ``rerank_k`` (default ``prefetch_k``) on the payload texts; needs ``text``.
        ``where``: a payload filter (a ``where`` dict of :func:`course_utils.qdrant_core.build_filter` or a
        ``models.Filter``), checked against the collection's fields and applied in every prefetch too, so fusion
        only sees matching candidates.
        """
        self._check_open()
        base = query if query is not None else QueryVectors()
        if not isinstance(base, QueryVectors):
            raise SearchInputError(f"query 는 QueryVectors 여야 합니다: {type(base).__name__}. "
                                   "벡터는 dense=/sparse=/multivector= 로도 줄 수 있습니다.")
        q = QueryVectors(dense=base.dense if dense is None else dense, sparse=base.sparse if sparse is None else sparse,
                         multivector=base.multivector if multivector is None else multivector,
                         text=base.text if text is None else text)
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
        if (wsum_weights is not None or sparse_scale is not None) and mode != "wsum":
            raise SearchInputError("wsum_weights, sparse_scale 은 mode='wsum' 에서만 씁니다.")
        if wsum_weights is not None and (len(wsum_weights) != 2 or min(wsum_weights) < 0):
            raise SearchInputError(f"wsum_weights={wsum_weights!r}: (dense 가중치, sparse 가중치) 두 개의 0 이상 값입니다.")
        if sparse_scale is not None and not sparse_scale > 0:
            raise SearchInputError(f"sparse_scale={sparse_scale!r}: 양수(질의의 BM25 최대 점수)여야 합니다.")
        if mode == "wsum" and rescore is not None:
            raise SearchInputError("mode='wsum' 은 rescore 와 함께 쓰지 않습니다: reranker= 로 재순위화 단계를 붙이세요.")
        k = self._check_k(k)
        if prefetch_k < 1:
            raise SearchInputError(f"prefetch_k={prefetch_k}: 1 이상이어야 합니다.")
        if reranker is not None and not q.text:
            raise SearchInputError("reranker 를 쓰려면 질의 원문 text= 가 필요합니다.")
        if rerank_k is not None and rerank_k < 1:
            raise SearchInputError(f"rerank_k={rerank_k}: 1 이상이어야 합니다.")
        flt = self._filter(where)
        # how many hits the Qdrant stage returns: k, or the reranker's candidate count (Qdrant caps both at the
        # number of points, so no count is needed here)
        stage_limit = k if reranker is None else max(rerank_k or prefetch_k, k)
        cand = max(prefetch_k, stage_limit)

        if mode == "wsum":
            lists = [self._call(lambda name=name: self.client.query_points(
                self.collection, query=self._query_for(name, q), using=name, limit=cand, with_payload=True,
                query_filter=flt)).points for name in (DENSE, SPARSE)]
            by_id = {h.doc_id: h for points in lists for h in self._to_hits(points)}
            fused = wsum([[(h.doc_id, h.score) for h in self._to_hits(points)] for points in lists],
                         [float(w) for w in (wsum_weights or (0.5, 0.5))],
                         norms=["min-max", "min-max" if sparse_scale is None else float(sparse_scale)],
                         limit=stage_limit)
            hits = [Hit(d, s, by_id[d].payload) for d, s in fused]
            if reranker is not None:
                hits = rerank_hits(q.text or "", hits, reranker, k=k)
            return hits[:k]
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
            first = [self._prefetch(DENSE, q, cand, flt), self._prefetch(SPARSE, q, cand, flt)]
            if rescore == MULTI:
                request = dict(prefetch=models.Prefetch(prefetch=first, query=fusion, limit=cand, filter=flt),
                               query=self._query_for(MULTI, q), using=MULTI)
            else:
                request = dict(prefetch=first, query=fusion)
        else:
            if rescore == MULTI:
                request = dict(prefetch=self._prefetch(mode, q, cand, flt), query=self._query_for(MULTI, q),
                               using=MULTI)
            else:
                request = dict(query=self._query_for(mode, q), using=mode)
        points = self._call(lambda: self.client.query_points(
            self.collection, limit=stage_limit, with_payload=True, query_filter=flt, **request)).points
        hits = self._to_hits(points)
        if reranker is not None:
            hits = rerank_hits(q.text or "", hits, reranker, k=k)
        return hits[:k]

    def run(self, queries: Mapping[str, QueryVectors], k: int = 10, **search_kw: Any) -> dict[str, dict[str, float]]:
        """``{query_id: {doc_id: score}}`` for many queries (the run format of :mod:`course_utils.evaluation`);
        ``search_kw`` are the options of :meth:`search` (``mode``, ``prefetch_k``, ...)."""
        return {qid: {h.doc_id: h.score for h in self.search(q, k, **search_kw)} for qid, q in queries.items()}

    def __repr__(self) -> str:
        parts = [f"dense={self.dense_dim}" if self.dense_dim else None,
                 f"sparse(idf={self.sparse_idf})" if self.sparse else None,
                 f"multivector={self.multivector_dim}" if self.multivector_dim else None]
        return f"HybridEngine({self.collection!r}, " + ", ".join(p for p in parts if p) + ")"
