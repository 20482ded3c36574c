"""Hybrid engine on Qdrant local mode: fusion by hand equals Qdrant's, re-run safety, stages, clear errors."""
from __future__ import annotations

import numpy as np
import pytest
from qdrant_client import models

from course_utils.errors import SearchInputError
from course_utils.hybrid import HybridEngine, QueryVectors, dbsf, point_id, rrf
from course_utils.models import SparseVector
from course_utils.qdrant_utils import get_client

N, DIM, MDIM = 30, 8, 4
RNG = np.random.default_rng(0)
IDS = [f"doc{i:02d}" for i in range(N)]
DENSE = RNG.normal(size=(N, DIM)).astype(np.float32)
SPARSE = [SparseVector(np.array(sorted(RNG.choice(50, size=5, replace=False))), RNG.random(5).astype(np.float32) + 0.1)
          for _ in range(N)]
MULTI = [RNG.normal(size=(int(RNG.integers(2, 6)), MDIM)).astype(np.float32) for _ in range(N)]
TEXTS = [f"text {'x' * i}" for i in range(N)]
Q = QueryVectors(dense=RNG.normal(size=DIM).astype(np.float32),
                 sparse=SparseVector(np.array([1, 5, 7, 9, 11, 20, 33]), np.ones(7, dtype=np.float32)),
                 multivector=RNG.normal(size=(3, MDIM)).astype(np.float32), text="q")


@pytest.fixture()
def engine():
    eng = HybridEngine(get_client(), "t", dense_dim=DIM, sparse=True, multivector_dim=MDIM)
    eng.upsert(IDS, dense=DENSE, sparse=SPARSE, multivector=MULTI, texts=TEXTS)
    yield eng
    eng.close()


def _ids(hits):
    return [h.doc_id for h in hits]


def test_rrf_by_hand_equals_qdrant(engine: HybridEngine) -> None:
    kw = dict(dense=Q.dense, sparse=Q.sparse, k=10, prefetch_k=10)
    dense = engine.search(mode="dense", **kw)
    sparse = engine.search(mode="sparse", **kw)
    for rrf_k in (None, 2, 60):
        fused = engine.search(mode="rrf", rrf_k=rrf_k, **kw)
        mine = rrf([_ids(dense), _ids(sparse)], k=rrf_k or 2, limit=10)
        assert _ids(fused) == [d for d, _ in mine]
        assert [h.score for h in fused] == pytest.approx([s for _, s in mine])
    weighted = engine.search(mode="rrf", rrf_weights=(1.0, 0.3), **kw)
    mine = rrf([_ids(dense), _ids(sparse)], weights=[1.0, 0.3], limit=10)
    assert _ids(weighted) == [d for d, _ in mine]
    assert [h.score for h in weighted] == pytest.approx([s for _, s in mine])


def test_dbsf_by_hand_equals_qdrant(engine: HybridEngine) -> None:
    kw = dict(dense=Q.dense, sparse=Q.sparse, k=10, prefetch_k=10)
    lists = [[(h.doc_id, h.score) for h in engine.search(mode=m, **kw)] for m in ("dense", "sparse")]
    fused = engine.search(mode="dbsf", **kw)
    mine = dbsf(lists, limit=10)
    assert _ids(fused) == [d for d, _ in mine]
    assert [h.score for h in fused] == pytest.approx([s for _, s in mine], rel=1e-5)


def test_rrf_formula_small_example() -> None:
    fused = dict(rrf([["a", "b"], ["b", "c"]], k=2))
    assert fused["b"] == pytest.approx(1 / 3 + 1 / 2)  # rank 2 in list 1, rank 1 in list 2
    assert fused["a"] == pytest.approx(1 / 2) and fused["c"] == pytest.approx(1 / 3)
    assert dict(rrf([["a"], ["b"]], weights=[1.0, 0.0]))["b"] == 0.0
    assert dbsf([[("a", 1.0)]]) == [("a", 0.5)]


def test_upsert_twice_overwrites(engine: HybridEngine) -> None:
    engine.upsert(IDS, dense=DENSE, sparse=SPARSE, multivector=MULTI, texts=TEXTS)
    assert engine.count() == N
    again = HybridEngine(engine.client, "t", dense_dim=DIM, sparse=True, multivector_dim=MDIM)
    assert not again.created and again.count() == N
    assert point_id("doc01") == point_id("doc01") != point_id("doc02")


def test_multivector_rescore_only_sees_prefetched(engine: HybridEngine) -> None:
    first = set(_ids(engine.search(mode="dense", dense=Q.dense, k=5)))
    hits = engine.search(mode="dense", dense=Q.dense, multivector=Q.multivector, rescore="multivector", k=5,
                         prefetch_k=5)
    assert set(_ids(hits)) == first
    full = engine.search(mode="multivector", multivector=Q.multivector, k=5)
    assert [h.score for h in full] == sorted([h.score for h in full], reverse=True)
    nested = engine.search(mode="rrf", dense=Q.dense, sparse=Q.sparse, multivector=Q.multivector,
                           rescore="multivector", k=5, prefetch_k=8)
    assert len(nested) == 5


def test_reranker_stage_reorders_by_payload_text(engine: HybridEngine) -> None:
    class LongestFirst:
        def score(self, query, documents):
            return np.array([len(d) for d in documents], dtype=np.float32)

    hits = engine.search(mode="dense", dense=Q.dense, text="q", k=3, reranker=LongestFirst(), rerank_k=30)
    assert _ids(hits) == ["doc29", "doc28", "doc27"]  # all 30 reranked: the longest texts win


def test_run_format(engine: HybridEngine) -> None:
    run = engine.run({"q1": Q}, mode="rrf", k=5)
    assert list(run) == ["q1"] and len(run["q1"]) == 5


def test_clear_errors(engine: HybridEngine) -> None:
    with pytest.raises(SearchInputError, match="mode"):
        engine.search(mode="bm42", dense=Q.dense)
    with pytest.raises(SearchInputError, match="sparse"):
        engine.search(mode="sparse", dense=Q.dense)
    with pytest.raises(SearchInputError, match="차원"):
        engine.search(mode="dense", dense=np.zeros(DIM + 1, dtype=np.float32))
    with pytest.raises(SearchInputError, match="문서 수"):
        engine.search(mode="dense", dense=Q.dense, k=N + 1)
    with pytest.raises(SearchInputError, match="text"):
        engine.search(mode="dense", dense=Q.dense, reranker=object())
    with pytest.raises(SearchInputError, match="rrf_k"):
        engine.search(mode="dbsf", dense=Q.dense, sparse=Q.sparse, rrf_k=5)
    with pytest.raises(SearchInputError, match="rrf_weights"):
        engine.search(mode="rrf", dense=Q.dense, sparse=Q.sparse, rrf_weights=(1.0,))
    with pytest.raises(SearchInputError, match="차원"):
        engine.upsert(IDS, dense=DENSE[:, :4], sparse=SPARSE, multivector=MULTI)
    with pytest.raises(SearchInputError, match="수가 다릅니다"):
        engine.upsert(IDS, dense=DENSE[:5], sparse=SPARSE, multivector=MULTI)
    with pytest.raises(SearchInputError, match="중복"):
        engine.upsert(["a", "a"], dense=DENSE[:2], sparse=SPARSE[:2], multivector=MULTI[:2])
    with pytest.raises(SearchInputError, match="빈"):
        engine.upsert([], dense=DENSE[:0], sparse=[], multivector=[])
    with pytest.raises(SearchInputError, match="sparse"):
        HybridEngine(engine.client, "t", dense_dim=DIM, sparse=False, multivector_dim=MDIM)
    with pytest.raises(SearchInputError, match="recreate"):
        HybridEngine(engine.client, "t", dense_dim=DIM + 1, sparse=True, multivector_dim=MDIM)
    with pytest.raises(SearchInputError, match="하나 이상"):
        HybridEngine(engine.client, "none", dense_dim=None, sparse=False)


def test_empty_collection_says_upsert_first() -> None:
    eng = HybridEngine(get_client(), "empty", dense_dim=DIM, sparse=False)
    try:
        with pytest.raises(SearchInputError, match="upsert"):
            eng.search(mode="dense", dense=Q.dense)
        assert "sparse" not in repr(eng)
    finally:
        eng.close()


def test_sparse_only_collection_without_idf() -> None:
    eng = HybridEngine(get_client(), "splade", sparse=True, sparse_idf=False)
    try:
        eng.upsert(IDS, sparse=SPARSE)
        hits = eng.search(mode="sparse", sparse=Q.sparse, k=3)
        by_hand = sorted(((Q.sparse.dot(v), i) for i, v in zip(IDS, SPARSE)), key=lambda t: -t[0])[:3]
        assert [h.score for h in hits] == pytest.approx([s for s, _ in by_hand], rel=1e-5)
        cfg = eng.client.get_collection("splade").config.params.sparse_vectors["sparse"]
        assert cfg.modifier in (None, models.Modifier.NONE)
    finally:
        eng.close()


def test_wsum_by_hand_equals_engine(engine: HybridEngine) -> None:
    from course_utils.fusion import wsum

    kw = dict(dense=Q.dense, sparse=Q.sparse, k=10, prefetch_k=10)
    lists = [[(h.doc_id, h.score) for h in engine.search(mode=m, **kw)] for m in ("dense", "sparse")]
    for weights, scale in (((0.5, 0.5), None), ((0.45, 0.55), 5.0), ((1.0, 0.0), 5.0)):
        fused = engine.search(mode="wsum", wsum_weights=weights, sparse_scale=scale, **kw)
        mine = wsum(lists, weights, norms=["min-max", "min-max" if scale is None else scale], limit=10)
        assert _ids(fused) == [d for d, _ in mine]
        assert [h.score for h in fused] == pytest.approx([s for _, s in mine])
    assert _ids(engine.search(mode="wsum", wsum_weights=(1.0, 0.0), **kw)) == [d for d, _ in lists[0]]
    with pytest.raises(SearchInputError, match="mode='wsum'"):
        engine.search(mode="rrf", wsum_weights=(0.5, 0.5), **kw)
    with pytest.raises(SearchInputError, match="양수"):
        engine.search(mode="wsum", sparse_scale=0.0, **kw)
    with pytest.raises(SearchInputError, match="두 개"):
        engine.search(mode="wsum", wsum_weights=(1.0,), **kw)
