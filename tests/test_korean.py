"""Kiwi morphemes find what whitespace tokens miss; BM25 errors are clear."""
from __future__ import annotations

import pytest

from course_utils.errors import SearchInputError
from course_utils.korean import BM25Index, morphemes, morphemes_batch, whitespace_tokens

DOCS = ["헌법은 국가의 최고 규범이다.", "법률의 제정 절차를 설명한다.", "오늘은 날씨가 맑다."]


def test_whitespace_keeps_particles_and_strips_punctuation() -> None:
    assert whitespace_tokens("헌법은 국가의 최고 규범이다.") == ["헌법은", "국가의", "최고", "규범이다"]


def test_morphemes_drop_particles() -> None:
    toks = morphemes("헌법은 국가의 최고 규범이다.")
    assert "헌법" in toks and "국가" in toks and "은" not in toks
    assert morphemes_batch(DOCS)[0] == toks


def test_kiwi_bm25_finds_the_particle_variant_whitespace_misses() -> None:
    assert BM25Index(DOCS, tokenizer="whitespace").search("헌법", k=3) == []
    hits = BM25Index(DOCS, tokenizer="kiwi").search("헌법", k=3)
    assert hits and hits[0].doc_id == 0 and hits[0].score > 0


def test_search_returns_no_zero_score_padding_and_caps_k() -> None:
    hits = BM25Index(DOCS).search("날씨", k=10)
    assert [h.doc_id for h in hits] == [2]


def test_ids_name_the_hits_and_the_run() -> None:
    index = BM25Index(DOCS, ids=["a", "b", "c"])
    assert [h.doc_id for h in index.search("헌법", k=3)] == ["a"]
    run = index.run({"q1": "헌법", "q2": "날씨"}, k=10)
    assert list(run["q1"]) == ["a"] and list(run["q2"]) == ["c"]
    with pytest.raises(SearchInputError, match="수가 다릅니다"):
        BM25Index(DOCS, ids=["a"])
    with pytest.raises(SearchInputError, match="k="):
        index.search("헌법", k=0)


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_query_is_rejected(bad: str) -> None:
    with pytest.raises(SearchInputError, match="빈 질의"):
        BM25Index(DOCS).search(bad)


def test_empty_corpus_and_bad_tokenizer_are_rejected() -> None:
    with pytest.raises(SearchInputError, match="빈 코퍼스"):
        BM25Index([])
    with pytest.raises(SearchInputError, match="kiwi"):
        BM25Index(DOCS, tokenizer="mecab")  # type: ignore[arg-type]
