"""The one Qdrant core under both engines: one Hit, one id scheme, the misspelt-field check and the cached count."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from qdrant_client import models

from course_utils import hybrid, qdrant_core, qdrant_engine, results, search_system
from course_utils.errors import SearchInputError
from course_utils.hybrid import HybridEngine
from course_utils.models import SparseVector
from course_utils.qdrant_core import ID_FIELD, Hit, point_id
from course_utils.qdrant_engine import QdrantEngine
from course_utils.qdrant_utils import get_client

DIM = 8
IDS = [f"doc-{i}" for i in range(12)]
CATS = ["health", "business", "technology"]


def _vectors(n: int = len(IDS), seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _sparse(n: int = len(IDS)) -> list[SparseVector]:
    rng = np.random.default_rng(1)
    return [SparseVector(np.array(sorted(rng.choice(40, size=4, replace=False))), rng.random(4).astype(np.float32) + 0.1)
            for _ in range(n)]


def _payloads() -> list[dict]:
    return [{"category": CATS[i % 3], "year": 2024 + i % 3} for i in range(len(IDS))]


class CountingClient:
    """Wraps a QdrantClient and counts its ``count`` calls (the engines must not count on every search)."""

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        self._inner = client
        self.count_calls = 0

    def count(self, *args, **kw):  # type: ignore[no-untyped-def]
        self.count_calls += 1
        return self._inner.count(*args, **kw)

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self._inner, name)


@pytest.fixture
def hybrid_engine():
    eng = HybridEngine(get_client(), "h", dense_dim=DIM, sparse=True)
    eng.upsert(IDS, dense=_vectors(), sparse=_sparse(), texts=[f"t{i}" for i in range(len(IDS))], payloads=_payloads())
    yield eng
    eng.close()


def test_one_hit_class_everywhere() -> None:
    assert hybrid.Hit is qdrant_engine.Hit is qdrant_core.Hit is search_system.Hit is results.Hit
    hit = Hit("d1", 0.5, {"doc_id": "d1"})
    assert hit.id == hit.doc_id == "d1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.score = 1.0  # type: ignore[misc]


def test_one_point_id_scheme_for_both_engines(hybrid_engine: HybridEngine) -> None:
    assert hybrid.point_id is qdrant_engine.point_id is qdrant_core.point_id
    with QdrantEngine("d", dim=DIM) as dense:
        dense.add(IDS, _vectors(), _payloads())
        for engine in (dense, hybrid_engine):
            got = engine.client.retrieve(engine.collection, ids=[point_id("doc-3")], with_payload=True)
            assert [p.payload[ID_FIELD] for p in got] == ["doc-3"]


def test_hybrid_filter_checks_fields_like_the_dense_engine(hybrid_engine: HybridEngine) -> None:
    q = _vectors(1, seed=5)[0]
    hits = hybrid_engine.search(dense=q, mode="dense", k=12, where={"category": "health"})
    assert len(hits) == 4 and {h.payload["category"] for h in hits} == {"health"}
    fused = hybrid_engine.search(dense=q, sparse=_sparse(1)[0], k=3, where={"year": {"gte": 2025}})
    assert fused and all(h.payload["year"] >= 2025 for h in fused)
    with pytest.raises(SearchInputError, match="categroy"):  # misspelt: would silently match nothing
        hybrid_engine.search(dense=q, mode="dense", where={"categroy": "health"})
    bad = models.Filter(must=[models.FieldCondition(key="catgory", match=models.MatchValue(value="x"))])
    with pytest.raises(SearchInputError, match="catgory"):
        hybrid_engine.search(dense=q, mode="dense", where=bad)
    hybrid_engine.client.set_payload("h", {"featured": True}, points=[point_id("doc-3")])  # written outside
    assert [h.doc_id for h in hybrid_engine.search(dense=q, mode="dense", where={"featured": True})] == ["doc-3"]
    assert hybrid_engine.count(where={"category": "health"}) == 4


def test_a_reused_hybrid_collection_knows_its_fields(hybrid_engine: HybridEngine) -> None:
    again = HybridEngine(hybrid_engine.client, "h", dense_dim=DIM, sparse=True)
    assert not again.created and {"category", "year", "text", ID_FIELD} <= set(again.payload_fields)


@pytest.mark.parametrize("kind", ["dense", "hybrid"])
def test_the_point_count_is_cached_and_refreshed_when_needed(kind: str) -> None:
    client = CountingClient(get_client())
    if kind == "dense":
        engine = QdrantEngine("c", dim=DIM, client=client)
        engine.add(IDS, _vectors(), _payloads())
        search = lambda k: engine.search(_vectors(1, seed=9)[0], k=k)  # noqa: E731
    else:
        engine = HybridEngine(client, "c", dense_dim=DIM, sparse=False)
        engine.upsert(IDS, dense=_vectors(), payloads=_payloads())
        search = lambda k: engine.search(dense=_vectors(1, seed=9)[0], mode="dense", k=k)  # noqa: E731
    try:
        before = client.count_calls
        for _ in range(5):
            assert len(search(5)) == 5
        assert client.count_calls == before  # no count() per search
        extra = [f"new-{i}" for i in range(3)]
        client.upsert("c", points=[models.PointStruct(id=point_id(d), vector={"dense": v.tolist()},
                                                      payload={ID_FIELD: d})
                                   for d, v in zip(extra, _vectors(3, seed=3))])  # another writer
        assert len(search(len(IDS) + 3)) == len(IDS) + 3  # k above the cached count: counted once, then found
        assert client.count_calls == before + 1
        with pytest.raises(SearchInputError, match="k="):
            search(len(IDS) + 4)
    finally:
        engine.close()
        client._inner.close()


def test_closed_hybrid_engine_says_so() -> None:
    eng = HybridEngine(get_client(), "x", dense_dim=DIM, sparse=False)
    eng.close()
    eng.close()  # idempotent
    with pytest.raises(SearchInputError, match="닫혔"):
        eng.search(dense=_vectors(1)[0], mode="dense")


def test_query_vectors_or_keywords_give_the_same_hits(hybrid_engine: HybridEngine) -> None:
    q = hybrid.QueryVectors(dense=_vectors(1, seed=4)[0], sparse=_sparse(1)[0])
    by_object = hybrid_engine.search(q, 5, mode="rrf")
    by_keyword = hybrid_engine.search(dense=q.dense, sparse=q.sparse, k=5, mode="rrf")
    assert by_object == by_keyword and len(by_object) == 5
    assert list(hybrid_engine.run({"q": q}, 5)["q"]) == [h.doc_id for h in by_object]
    with pytest.raises(SearchInputError, match="QueryVectors"):
        hybrid_engine.search(q.dense)  # type: ignore[arg-type]


def test_deleted_collection_is_a_clear_error(hybrid_engine: HybridEngine) -> None:
    hybrid_engine.client.delete_collection("h")
    with pytest.raises(SearchInputError, match="없습니다"):
        hybrid_engine.search(dense=_vectors(1)[0], mode="dense", k=1)
