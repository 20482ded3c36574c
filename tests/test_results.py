"""One search contract across the course's engines: search(query, k=10) -> list[Hit], run(queries, k) -> a run."""
from __future__ import annotations

import inspect
import zlib
from types import SimpleNamespace

import numpy as np
import pytest

from course_utils.faiss_engine import SemanticSearchEngine
from course_utils.hybrid import HybridEngine, QueryVectors
from course_utils.korean import BM25Index
from course_utils.qdrant_engine import QdrantEngine
from course_utils.qdrant_utils import get_client
from course_utils.results import Hit, Retriever, run_from_hits
from course_utils.search_system import NewsSearch

DIM = 16
TEXTS = ["apple banana fruit", "car engine wheel", "river lake water", "piano guitar music", "soccer goal team"]
IDS = [f"d{i}" for i in range(len(TEXTS))]


class HashEncoder:
    spec = SimpleNamespace(model_id="hash", dim=DIM)
    dim = DIM
    name = "hash"

    def _enc(self, texts):  # type: ignore[no-untyped-def]
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            for tok in t.split():
                out[i, zlib.crc32(tok.encode()) % DIM] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode_queries(self, texts):  # type: ignore[no-untyped-def]
        return self._enc(list(texts))

    def encode_documents(self, texts):  # type: ignore[no-untyped-def]
        return self._enc(list(texts))


@pytest.mark.parametrize("engine_class", [SemanticSearchEngine, QdrantEngine, HybridEngine, NewsSearch, BM25Index])
def test_every_search_takes_query_then_k_10(engine_class) -> None:  # type: ignore[no-untyped-def]
    params = list(inspect.signature(engine_class.search).parameters.values())
    assert [p.name for p in params[1:3]] == ["query", "k"] and params[2].default == 10
    run = inspect.signature(engine_class.run).parameters
    assert list(run)[1:3] == ["queries", "k"] and run["k"].default == 10
    assert issubclass(engine_class, Retriever)


def test_every_engine_returns_hits_and_runs() -> None:
    enc = HashEncoder()
    faiss_engine = SemanticSearchEngine(enc)
    faiss_engine.index_documents([{"_id": i, "text": t} for i, t in zip(IDS, TEXTS)])
    dense = QdrantEngine("c", encoder=enc)
    dense.add_texts(IDS, TEXTS)
    hybrid = HybridEngine(get_client(), "h", dense_dim=DIM, sparse=False)
    hybrid.upsert(IDS, dense=enc.encode_documents(TEXTS), texts=TEXTS)
    bm25 = BM25Index(TEXTS, tokenizer="whitespace", ids=IDS)
    try:
        q = "car wheel"
        qv = QueryVectors(dense=enc.encode_queries([q])[0], text=q)
        results = {
            "faiss": (faiss_engine.search(q, k=2), faiss_engine.run({"q": q}, k=2)),
            "qdrant": (dense.search(q, k=2), dense.run({"q": q}, k=2)),
            "hybrid": (hybrid.search(qv, k=2, mode="dense"), hybrid.run({"q": qv}, k=2, mode="dense")),
            "bm25": (bm25.search(q, k=2), bm25.run({"q": q}, k=2)),
        }
        for name, (hits, run) in results.items():
            assert all(isinstance(h, Hit) for h in hits), name
            assert hits[0].doc_id == "d1", name
            expected = run_from_hits(["q"], [hits])
            assert list(run["q"]) == list(expected["q"]), name
            assert list(run["q"].values()) == pytest.approx(list(expected["q"].values()), abs=1e-6), name
    finally:
        dense.close()
        hybrid.close()
