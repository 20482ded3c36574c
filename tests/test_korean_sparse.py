"""Korean BM25 sparse vectors: the formula by hand, Qdrant's IDF gives bm25s' ranking, clear errors."""
from __future__ import annotations

import numpy as np
import pytest
from qdrant_client import models

from course_utils.errors import SearchInputError
from course_utils.korean import BM25Index
from course_utils.qdrant_utils import get_client
from course_utils.korean_sparse import KoreanBM25Encoder, token_id

DOCS = [
    "헌법은 국가의 최고 규범이다. 헌법의 개정은 국민투표로 정한다.",
    "법률의 제정 절차를 설명한다.",
    "오늘은 날씨가 맑고 기온이 높다.",
    "국회는 법률을 제정하고 예산을 심의한다.",
]


@pytest.fixture(scope="module")
def encoder() -> KoreanBM25Encoder:
    return KoreanBM25Encoder().fit(DOCS)


def test_token_id_is_fastembeds_stable_hash() -> None:
    import mmh3

    assert token_id("헌법") == abs(mmh3.hash("헌법")) == token_id("헌법")
    assert 0 <= token_id("x") < 2**31


def test_document_weights_follow_the_bm25_formula(encoder: KoreanBM25Encoder) -> None:
    toks = encoder.tokenize(DOCS[0])
    assert toks.count("헌법") == 2 and "은" not in toks
    vec = encoder.encode_documents([DOCS[0]])[0]
    weights = dict(encoder.top_terms(vec, k=len(vec)))
    k1, b, avg = encoder.k1, encoder.b, encoder.avg_len
    expected = 2 * (k1 + 1) / (2 + k1 * (1 - b + b * len(toks) / avg))
    assert weights["헌법"] == pytest.approx(expected, rel=1e-5)
    assert encoder.avg_len == pytest.approx(np.mean([len(encoder.tokenize(d)) for d in DOCS]))


def test_query_is_distinct_terms_with_weight_one(encoder: KoreanBM25Encoder) -> None:
    q = encoder.encode_query("헌법과 헌법의 개정")
    assert len(q) == 2 and np.all(q.values == 1.0)
    assert sorted(q.indices.tolist()) == q.indices.tolist()


def test_whitespace_tokenizer_keeps_particles() -> None:
    ws = KoreanBM25Encoder("whitespace").fit(DOCS)
    assert "헌법은" in ws.tokenize(DOCS[0])
    assert token_id("헌법") not in ws.encode_documents([DOCS[0]])[0].indices


def test_qdrant_idf_reproduces_bm25s_scores_times_k1_plus_1(encoder: KoreanBM25Encoder) -> None:
    client = get_client()
    try:
        client.create_collection("bm25", vectors_config={},
                                 sparse_vectors_config={"bm25": encoder.sparse_vector_params()})
        client.upsert("bm25", [models.PointStruct(id=i, vector={"bm25": v.to_qdrant()})
                               for i, v in enumerate(encoder.encode_documents(DOCS))])
        ref = BM25Index(DOCS, tokenizer="kiwi", k1=encoder.k1, b=encoder.b)
        for query in ("헌법 개정", "법률 제정", "국회의 예산"):
            hits = client.query_points("bm25", query=encoder.encode_query(query).to_qdrant(), using="bm25",
                                       limit=4).points
            scores = ref.scores(query)
            assert hits, query
            for h in hits:
                assert h.score == pytest.approx(scores[h.id] * (encoder.k1 + 1), rel=1e-4)
    finally:
        client.close()


def test_idf_helper_matches_qdrant_formula(encoder: KoreanBM25Encoder) -> None:
    assert encoder.idf(1, 4) == pytest.approx(np.log(1 + 3.5 / 1.5))


def test_clear_errors() -> None:
    with pytest.raises(SearchInputError, match="fit"):
        KoreanBM25Encoder().encode_documents(DOCS)
    with pytest.raises(SearchInputError, match="빈"):
        KoreanBM25Encoder().fit([])
    with pytest.raises(SearchInputError, match="tokenizer"):
        KoreanBM25Encoder("mecab")  # type: ignore[arg-type]
    with pytest.raises(SearchInputError):
        KoreanBM25Encoder(k1=-1)
    with pytest.raises(SearchInputError):
        KoreanBM25Encoder(avg_len=0)
    enc = KoreanBM25Encoder(avg_len=5.0)
    with pytest.raises(SearchInputError, match="빈 질의"):
        enc.encode_queries(["  "])
    with pytest.raises(SearchInputError):
        enc.encode_documents([1, 2])  # type: ignore[list-item]
    assert len(enc.encode_query("!!!")) == 0  # no content morpheme: an empty (valid) query vector


def test_repr_and_unseen_ids() -> None:
    enc = KoreanBM25Encoder(avg_len=3.0)
    assert "avg_len=3.0" in repr(enc)
    from course_utils.models import SparseVector

    assert enc.top_terms(SparseVector(np.array([7]), np.array([1.0], dtype=np.float32))) == [("#7", 1.0)]


def test_sparse_cache_round_trip(tmp_path, monkeypatch) -> None:
    from types import SimpleNamespace

    from course_utils.models import SparseVector
    from course_utils.korean_sparse import encode_sparse_cached

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    calls = []

    def encode(texts, kind="passage"):
        calls.append(kind)
        return [SparseVector(np.arange(len(t)), np.full(len(t), 0.5, dtype=np.float32)) for t in texts]

    enc = SimpleNamespace(spec=SimpleNamespace(model_id="fake-splade", backend="test"), profile="offline",
                          encode=encode)
    first = encode_sparse_cached(enc, ["ab", "abc"])
    second = encode_sparse_cached(enc, ["ab", "abc"])
    assert calls == ["passage"]
    assert [len(v) for v in second] == [2, 3] and second[1].dot(first[1]) == pytest.approx(0.75)


def test_max_score_bounds_every_document_score(encoder: KoreanBM25Encoder) -> None:
    assert encoder.n_docs == len(DOCS) and encoder.doc_freq[token_id("법률")] == 2
    client = get_client()
    try:
        client.create_collection("bm25max", vectors_config={},
                                 sparse_vectors_config={"bm25": encoder.sparse_vector_params()})
        client.upsert("bm25max", [models.PointStruct(id=i, vector={"bm25": v.to_qdrant()})
                                  for i, v in enumerate(encoder.encode_documents(DOCS))])
        for query in ("헌법 개정", "법률 제정", "국회의 예산", "헌법 우주선"):
            q = encoder.encode_query(query)
            ceiling = encoder.max_score(q)
            expected = (encoder.k1 + 1) * sum(encoder.idf(encoder.doc_freq.get(t, 0), len(DOCS))
                                              for t in q.indices.tolist())
            assert ceiling == pytest.approx(expected)
            hits = client.query_points("bm25max", query=q.to_qdrant(), using="bm25", limit=4).points
            assert all(0 < h.score < ceiling for h in hits)
    finally:
        client.close()
    # reopened from saved statistics: the same ceiling
    saved = KoreanBM25Encoder(avg_len=encoder.avg_len, doc_freq=encoder.doc_freq, n_docs=encoder.n_docs)
    q = encoder.encode_query("법률 제정")
    assert saved.max_score(q) == pytest.approx(encoder.max_score(q))
    with pytest.raises(SearchInputError, match="fit"):
        KoreanBM25Encoder(avg_len=10.0).max_score(q)
