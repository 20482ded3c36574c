"""MaxSim by hand equals Qdrant's multivector MAX_SIM; alignment, memory and the token-vector cache."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from qdrant_client import models

from course_utils.errors import SearchInputError
from course_utils.late_interaction import (
    MaxSimIndex, encode_multivectors_cached, maxsim, maxsim_alignment, maxsim_scores, memory_per_document, multivector_bytes,
    rank_maxsim,
)
from course_utils.qdrant_utils import get_client

RNG = np.random.default_rng(1)
DOCS = [RNG.normal(size=(int(n), 6)).astype(np.float32) for n in RNG.integers(2, 9, size=12)]
QUERY = RNG.normal(size=(4, 6)).astype(np.float32)


def test_maxsim_by_definition() -> None:
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    d = np.array([[1.0, 0.0], [1.0, 1.0]])
    # token 1 matches d[0] exactly (1.0); token 2 best matches d[1] (cos 45 deg)
    assert maxsim(q, d) == pytest.approx(1.0 + np.sqrt(0.5))
    assert maxsim(q, q) == pytest.approx(2.0)  # a text against itself: one per query token
    assert maxsim(2 * q, d, normalize=False) == pytest.approx(2.0 + 2.0)


def test_equals_qdrant_multivector_scores() -> None:
    client = get_client()
    try:
        client.create_collection("mv", vectors_config=models.VectorParams(
            size=6, distance=models.Distance.COSINE,
            multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM)))
        client.upsert("mv", [models.PointStruct(id=i, vector=m.tolist()) for i, m in enumerate(DOCS)])
        hits = client.query_points("mv", query=QUERY.tolist(), limit=len(DOCS)).points
        mine = maxsim_scores(QUERY, DOCS)
        for h in hits:
            assert h.score == pytest.approx(float(mine[h.id]), abs=1e-4)
        assert [i for i, _ in rank_maxsim(QUERY, DOCS, k=5)] == [h.id for h in hits[:5]]
    finally:
        client.close()


def test_maxsim_index_equals_the_loop_and_qdrant_rescoring() -> None:
    ids = [f"d{i}" for i in range(len(DOCS))]
    index = MaxSimIndex(DOCS, ids=ids)
    assert np.allclose(index.scores(QUERY), maxsim_scores(QUERY, DOCS), atol=1e-5)
    assert [ids[i] for i, _ in rank_maxsim(QUERY, DOCS, k=5)] == [d for d, _ in index.search(QUERY, 5)]
    # a second stage sees only the candidates it is given
    cands = ["d3", "d7", "d1", "d9"]
    got = index.search(QUERY, 3, candidates=cands)
    assert {d for d, _ in got} <= set(cands) and len(got) == 3
    best = sorted(cands, key=lambda d: -maxsim(QUERY, DOCS[ids.index(d)]))[:3]
    assert [d for d, _ in got] == best
    # the same as Qdrant's prefetch -> MaxSim query on those candidates
    client = get_client()
    try:
        client.create_collection("mv2", vectors_config={
            "d": models.VectorParams(size=6, distance=models.Distance.COSINE),
            "mv": models.VectorParams(size=6, distance=models.Distance.COSINE, multivector_config=models.MultiVectorConfig(
                comparator=models.MultiVectorComparator.MAX_SIM))})
        client.upsert("mv2", [models.PointStruct(id=i, vector={"d": m.mean(axis=0).tolist(), "mv": m.tolist()})
                              for i, m in enumerate(DOCS)])
        q_dense = QUERY.mean(axis=0).tolist()
        first = client.query_points("mv2", query=q_dense, using="d", limit=4).points
        hits = client.query_points("mv2", prefetch=models.Prefetch(query=q_dense, using="d", limit=4),
                                   query=QUERY.tolist(), using="mv", limit=3).points
        mine = index.search(QUERY, 3, candidates=[ids[p.id] for p in first])
        assert [ids[h.id] for h in hits] == [d for d, _ in mine]
        assert np.allclose([h.score for h in hits], [s for _, s in mine], atol=1e-4)
    finally:
        client.close()
    run = index.run({"q1": QUERY}, k=2, candidates={"q1": {"d3": 1.0, "d7": 0.5}})
    assert set(run["q1"]) == {"d3", "d7"}
    assert "12 documents" in repr(index)


def test_maxsim_index_clear_errors() -> None:
    with pytest.raises(SearchInputError, match="비어"):
        MaxSimIndex([])
    with pytest.raises(SearchInputError, match="차원"):
        MaxSimIndex([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(SearchInputError, match="중복"):
        MaxSimIndex(DOCS[:2], ids=["a", "a"])
    index = MaxSimIndex(DOCS)
    with pytest.raises(SearchInputError, match="차원"):
        index.scores(np.ones((3, 5)))
    with pytest.raises(SearchInputError, match="후보 id"):
        index.search(QUERY, 2, candidates=[99])
    with pytest.raises(SearchInputError, match="1단계 결과에 없는"):
        index.run({"q": QUERY}, candidates={})


def test_alignment_explains_the_score() -> None:
    al = maxsim_alignment(QUERY, DOCS[0], [f"q{i}" for i in range(4)], [f"d{j}" for j in range(len(DOCS[0]))])
    assert al.score == pytest.approx(maxsim(QUERY, DOCS[0]), abs=1e-5)
    rows = al.rows()
    assert len(rows) == 4 and all(r[1].startswith("d") for r in rows)


def test_memory() -> None:
    assert multivector_bytes([np.zeros((3, 4)), np.zeros((5, 4))]) == 8 * 4 * 4
    assert multivector_bytes([np.zeros((3, 4))], bytes_per_value=2) == 24
    m = memory_per_document([10, 30], multivector_dim=128, dense_dim=384)
    assert m["mean_tokens"] == 20 and m["ratio"] == pytest.approx(20 * 128 / 384)


def test_clear_errors() -> None:
    with pytest.raises(SearchInputError, match="차원"):
        maxsim(QUERY, np.zeros((3, 5)))
    with pytest.raises(SearchInputError):
        maxsim(np.zeros((0, 6)), DOCS[0])
    with pytest.raises(SearchInputError, match="NaN"):
        maxsim(np.full((2, 6), np.nan), DOCS[0])
    with pytest.raises(SearchInputError):
        maxsim_scores(QUERY, [])
    with pytest.raises(SearchInputError, match="문서 수"):
        rank_maxsim(QUERY, DOCS, k=len(DOCS) + 1)
    with pytest.raises(SearchInputError):
        memory_per_document([], 4, 4)
    with pytest.raises(SearchInputError, match="토큰 이름"):
        maxsim_alignment(QUERY, DOCS[0], ["a"], ["b"])


def test_cache_round_trip(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    calls = []

    def encode(texts, kind="passage"):
        calls.append(list(texts))
        return [np.full((len(t), 3), float(len(t)), dtype=np.float32) for t in texts]

    enc = SimpleNamespace(spec=SimpleNamespace(model_id="fake", backend="test"), profile="offline", encode=encode)
    first = encode_multivectors_cached(enc, ["ab", "abcd"])
    second = encode_multivectors_cached(enc, ["ab", "abcd"])
    assert len(calls) == 1 and [m.shape for m in second] == [(2, 3), (4, 3)]
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    with pytest.raises(SearchInputError):
        encode_multivectors_cached(enc, [])


def test_cache_reads_files_in_the_format_it_always_wrote(tmp_path, monkeypatch) -> None:
    """multivectors/<key>.npz with ``vectors`` and ``offsets`` (what earlier runs cached) is read as is."""
    from course_utils.embed_cache import cache_key

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    enc = SimpleNamespace(spec=SimpleNamespace(model_id="fake", backend="test"), profile="offline",
                          encode=lambda texts, kind="passage": pytest.fail("should come from the cache"))
    key = cache_key("fake", "offline", "passage", ["ab", "abc"], "test")
    (tmp_path / "multivectors").mkdir()
    np.savez(tmp_path / "multivectors" / f"{key}.npz", vectors=np.arange(15, dtype=np.float32).reshape(5, 3),
             offsets=np.array([0, 2, 5]))
    mats = encode_multivectors_cached(enc, ["ab", "abc"])
    assert [m.shape for m in mats] == [(2, 3), (3, 3)] and mats[1][0, 0] == 6.0
