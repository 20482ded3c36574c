"""QdrantEngine on local mode: create/reuse, ids, payload filters, batch runs, persistence, and the errors."""
from __future__ import annotations

import numpy as np
import pytest
from qdrant_client import models

from course_utils.errors import SearchInputError
from course_utils.qdrant_engine import ID_FIELD, Hit, QdrantEngine, build_filter, filter_fields, point_id
from course_utils.qdrant_utils import get_client

DIM = 8
IDS = [f"doc-{i}" for i in range(12)]
CATS = ["health", "business", "technology"]


def _vectors(n: int = len(IDS), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _payloads() -> list[dict]:
    return [{"category": CATS[i % 3], "date": f"2025-0{1 + i % 9}-15", "year": 2024 + i % 3} for i in range(len(IDS))]


@pytest.fixture
def engine():
    eng = QdrantEngine("docs", dim=DIM)
    eng.add(IDS, _vectors(), _payloads())
    yield eng
    eng.close()


def test_add_search_returns_caller_ids_best_first(engine: QdrantEngine) -> None:
    vecs = _vectors()
    hits = engine.search(vecs[5], k=3)
    assert isinstance(hits[0], Hit) and hits[0].doc_id == hits[0].id == "doc-5"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].payload[ID_FIELD] == "doc-5" and hits[0].payload["category"] == CATS[5 % 3]
    # exact search: same order as brute force cosine
    order = np.argsort(-(vecs @ vecs[5]))[:3]
    assert [h.id for h in hits] == [IDS[i] for i in order]
    assert len(engine) == engine.count() == len(IDS)


def test_readd_is_idempotent_and_updates(engine: QdrantEngine) -> None:
    engine.add(IDS, _vectors(), _payloads())
    assert engine.count() == len(IDS)
    engine.add(["doc-0"], _vectors()[:1], [{"category": "sports", "date": "2026-01-01", "year": 2026}])
    assert engine.count() == len(IDS)
    assert engine.count(where={"category": "sports"}) == 1


def test_filters_match_any_range_date_and_not(engine: QdrantEngine) -> None:
    q = _vectors()[0]
    assert {h.payload["category"] for h in engine.search(q, k=12, where={"category": "health"})} == {"health"}
    assert engine.count(where={"category": ["health", "business"]}) == 8
    assert engine.count(where={"year": {"gte": 2025}}) == 8
    assert engine.count(where={"date": {"gte": "2025-05-01", "lt": "2025-08-01"}}) == sum(
        "2025-05-01" <= p["date"] < "2025-08-01" for p in _payloads())
    assert engine.count(where={"category": {"ne": "health"}}) == 8
    assert engine.count(where={"category": {"not_in": ["health", "business"]}}) == 4
    assert engine.count(where={"category": "health", "year": 2024}) == 4
    flt = models.Filter(should=[models.FieldCondition(key="category", match=models.MatchValue(value="health")),
                                models.FieldCondition(key="year", match=models.MatchValue(value=2026))])
    assert engine.count(where=flt) == 8


def test_bad_filters_say_what_is_wrong(engine: QdrantEngine) -> None:
    q = _vectors()[0]
    with pytest.raises(SearchInputError, match="categroy"):
        engine.search(q, where={"categroy": "health"})  # misspelt field would silently match nothing
    with pytest.raises(SearchInputError, match="연산자"):
        engine.search(q, where={"year": {"greater": 3}})
    with pytest.raises(SearchInputError, match="범위"):
        engine.count(where={"year": {"gte": "soon"}})
    with pytest.raises(SearchInputError, match="빈 목록"):
        engine.count(where={"category": []})
    with pytest.raises(SearchInputError, match="실수"):
        engine.count(where={"year": 2024.5})
    with pytest.raises(SearchInputError, match="dict"):
        engine.search(q, where="category == health")
    bad = models.Filter(must=[models.FieldCondition(key="catgory", match=models.MatchValue(value="x"))])
    with pytest.raises(SearchInputError, match="catgory"):
        engine.count(where=bad)


def test_a_field_that_only_some_points_have_is_found(engine: QdrantEngine) -> None:
    engine.client.set_payload("docs", {"featured": True}, points=[point_id("doc-3")])  # written outside the engine
    assert engine.count(where={"featured": True}) == 1
    assert "featured" in engine.payload_fields


def test_build_filter_alone_checks_known_fields() -> None:
    with pytest.raises(SearchInputError, match="colour"):
        build_filter({"colour": "red"}, known_fields=["color"])
    nested = models.Filter(must=[models.Filter(should=[models.FieldCondition(key="a.b", match=models.MatchValue(value=1))])])
    assert filter_fields(nested) == {"a.b"} and filter_fields({"x": 1, "y": 2}) == {"x", "y"}


def test_dimension_mismatch_errors(engine: QdrantEngine) -> None:
    with pytest.raises(SearchInputError, match="차원"):
        engine.search(np.ones(DIM + 1, dtype=np.float32))
    with pytest.raises(SearchInputError, match="차원"):
        engine.add(["x"], np.ones((1, 3), dtype=np.float32))
    with pytest.raises(SearchInputError, match="recreate=True"):
        QdrantEngine("docs", dim=DIM * 2, client=engine.client)


def test_missing_collection_and_missing_dim() -> None:
    client = get_client()
    try:
        with pytest.raises(SearchInputError, match="없습니다"):
            QdrantEngine("nope", client=client, create=False)
        with pytest.raises(SearchInputError, match="dim"):
            QdrantEngine("nope", client=client)
        eng = QdrantEngine("gone", dim=DIM, client=client)
        eng.add(IDS[:2], _vectors(2))
        client.delete_collection("gone")
        with pytest.raises(SearchInputError, match="없습니다"):
            eng.search(_vectors(1)[0], k=1)
        eng.close()
        assert client.collection_exists("x") is False  # a passed-in client stays open after engine.close()
    finally:
        client.close()


def test_bad_inputs(engine: QdrantEngine) -> None:
    q = _vectors()[0]
    with pytest.raises(SearchInputError, match="k="):
        engine.search(q, k=100)
    with pytest.raises(SearchInputError, match="k"):
        engine.search(q, k=0)
    with pytest.raises(SearchInputError, match="encoder"):
        engine.search("a text query")
    with pytest.raises(SearchInputError, match="빈 코퍼스"):
        engine.add([], np.zeros((0, DIM)))
    with pytest.raises(SearchInputError, match="수가 다릅니다"):
        engine.add(["a", "b"], _vectors(1))
    with pytest.raises(SearchInputError, match="길이 0"):
        engine.search(np.zeros(DIM, dtype=np.float32))
    with pytest.raises(SearchInputError, match="distance"):
        QdrantEngine("other", dim=DIM, client=engine.client, distance="hamming")
    with pytest.raises(SearchInputError, match="중복"):
        engine.add(["a", "a"], _vectors(2))
    with pytest.raises(SearchInputError, match="ids= 또는 where="):
        engine.delete()


def test_empty_collection_search_says_add_first() -> None:
    with QdrantEngine("empty", dim=DIM) as eng:
        with pytest.raises(SearchInputError, match="add"):
            eng.search(_vectors(1)[0], k=1)


def test_search_batch_and_run_agree_with_search(engine: QdrantEngine) -> None:
    vecs = _vectors()
    many = engine.search_batch(vecs[:3], k=4, where={"year": {"gte": 2024}})
    assert [[h.id for h in hits] for hits in many] == [[h.id for h in engine.search(v, k=4)] for v in vecs[:3]]
    run = engine.run({"q0": vecs[0], "q1": vecs[1]}, k=2)
    assert list(run) == ["q0", "q1"] and next(iter(run["q0"])) == "doc-0" and len(run["q1"]) == 2


def test_delete_by_id_and_filter(engine: QdrantEngine) -> None:
    assert engine.delete(ids=["doc-0", "doc-1"]) == len(IDS) - 2
    assert engine.delete(where={"category": "technology"}) == len(IDS) - 2 - 4
    assert engine.count(where={"category": "technology"}) == 0


def test_point_ids_are_deterministic() -> None:
    assert point_id(7) == 7
    assert point_id("en_news-001") == point_id("en_news-001") != point_id("en_news-002")
    uid = "6f1c2f0e-5b8a-4c1e-9a57-0c0ff5e4e11a"
    assert point_id(uid) == uid
    for bad in (-1, "", 1.5, True):
        with pytest.raises(SearchInputError):
            point_id(bad)  # type: ignore[arg-type]


def test_build_filter_shapes() -> None:
    assert build_filter(None) is None and build_filter({}) is None
    flt = build_filter({"category": "health", "date": {"gte": "2025-01-01"}, "year": {"ne": 2024}})
    assert len(flt.must) == 2 and len(flt.must_not) == 1
    assert isinstance(flt.must[1].range, models.DatetimeRange)


def test_path_mode_persists_and_reopens(tmp_path) -> None:
    with QdrantEngine("docs", dim=DIM, path=tmp_path / "q") as eng:
        assert eng.mode == "local-path"
        eng.add(IDS, _vectors(), _payloads())
    with QdrantEngine("docs", path=tmp_path / "q", create=False) as again:  # dim read from the collection
        assert again.dim == DIM and again.count() == len(IDS) and not again.created
        assert again.payload_fields == sorted({"category", "date", "year", ID_FIELD})
        with pytest.raises(SearchInputError, match="categroy"):
            again.count(where={"categroy": "x"})


class _FakeEncoder:
    """Stands in for a DenseEncoder: a bag of characters, enough to test the text path without a model."""

    name = "fake"
    dim = DIM

    def _enc(self, texts):
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            for ch in t.lower():
                out[i, ord(ch) % DIM] += 1
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode_queries(self, texts):
        return self._enc(texts)

    def encode_documents(self, texts):
        return self._enc(texts)


def test_text_path_with_an_encoder() -> None:
    texts = ["aaaa", "bbbb", "abab"]
    with QdrantEngine("t", encoder=_FakeEncoder()) as eng:
        assert eng.dim == DIM
        eng.add_texts(["a", "b", "ab"], texts, [{"n": 1}, {"n": 2}, {"n": 3}])
        assert eng.search("aaa", k=1)[0].id == "a"
        assert eng.search("aaa", k=1)[0].payload["text"] == "aaaa"
        assert next(iter(eng.run({"q": "bbb"}, k=1)["q"])) == "b"
        with pytest.raises(SearchInputError, match="빈 질의"):
            eng.search("  ")


def test_payload_indexes_are_skipped_on_local_mode(recwarn) -> None:
    with QdrantEngine("pi", dim=DIM, payload_indexes={"category": "keyword"}) as eng:
        assert eng.mode == "local-memory"
    assert not [w for w in recwarn if "Payload indexes" in str(w.message)]
    with pytest.raises(SearchInputError, match="인덱스"):
        QdrantEngine("pi2", dim=DIM, payload_indexes={"category": "btree"})


def test_closed_engine_says_so() -> None:
    eng = QdrantEngine("c", dim=DIM)
    eng.close()
    eng.close()  # idempotent
    with pytest.raises(SearchInputError, match="닫혔"):
        eng.count()
