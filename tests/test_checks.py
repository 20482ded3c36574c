"""course_utils.checks: one set of input checks and Korean messages (chapters 03, 05 and 11 print some of them)."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import (
    EMPTY_CORPUS, EMPTY_QUERY, as_matrix, check_dim, check_k, check_pair, check_queries, check_query,
    check_same_count, check_texts, check_unique_ids,
)
from course_utils.errors import SearchInputError


def test_as_matrix_returns_contiguous_float32_and_refuses_bad_shapes() -> None:
    x = as_matrix(np.arange(6, dtype=np.float64).reshape(2, 3)[:, ::-1])
    assert x.dtype == np.float32 and x.flags["C_CONTIGUOUS"] and x.shape == (2, 3)
    assert as_matrix([1.0, 2.0], allow_1d=True).shape == (1, 2)
    for bad in (np.zeros(3), np.zeros((0, 3)), np.zeros((2, 0)), np.zeros((2, 2, 2))):
        with pytest.raises(SearchInputError, match="모양"):
            as_matrix(bad, "문서 벡터")
    with pytest.raises(SearchInputError, match="NaN"):
        as_matrix([[np.nan, 1.0]])
    with pytest.raises(SearchInputError, match="숫자 배열"):
        as_matrix([["a", "b"]])
    with pytest.raises(SearchInputError, match="길이 0"):
        as_matrix([[0.0, 0.0]], nonzero=True)


def test_dimension_message_is_the_one_chapter_05_prints() -> None:
    with pytest.raises(SearchInputError) as err:
        as_matrix(np.ones((1, 385)), "질의 벡터", dim=384, against="컬렉션 'en_news_engine' 의",
                  hint="컬렉션을 만들 때와 같은 모델로 임베딩했는지 확인하세요(다른 모델이면 새 컬렉션이나 recreate=True).")
    assert str(err.value) == ("질의 벡터의 차원 385 이 컬렉션 'en_news_engine' 의 차원 384 과 다릅니다. 컬렉션을 만들 때와 같은 "
                              "모델로 임베딩했는지 확인하세요(다른 모델이면 새 컬렉션이나 recreate=True).")
    check_dim(4, 4, what="x", against="y의")
    q, d = check_pair([1.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])
    assert q.shape == (1, 2) and d.shape == (2, 2)
    with pytest.raises(SearchInputError, match="질의 벡터의 차원 3 이 문서 벡터의 차원 2"):
        check_pair(np.ones((1, 3)), np.ones((2, 2)))


def test_k_messages() -> None:
    assert check_k(np.int64(3), 5) == 3 and isinstance(check_k(3), int)
    for bad in (0, -1, 2.0, True, "3"):
        with pytest.raises(SearchInputError, match="1 이상의 정수"):
            check_k(bad)  # type: ignore[arg-type]
    with pytest.raises(SearchInputError) as err:
        check_k(1000, 600, where="색인된 ")
    assert str(err.value) == "k=1000 가 색인된 문서 수 600 보다 큽니다. k 를 600 이하로 주세요."  # chapter 03's output
    with pytest.raises(SearchInputError, match="비어"):
        check_k(1, 0, empty="컬렉션이 비어 있습니다.")


def test_queries_texts_counts_and_ids() -> None:
    assert EMPTY_QUERY == "빈 질의입니다: 검색어를 입력하세요."  # chapters 03 and 11 print it
    assert check_query("q") == "q"
    for bad in ("", "   ", None, 3):
        with pytest.raises(SearchInputError, match="빈 질의"):
            check_query(bad)
    assert check_queries(("a", "b")) == ["a", "b"]
    with pytest.raises(SearchInputError, match="질의 목록"):
        check_queries("a")
    with pytest.raises(SearchInputError, match="비어"):
        check_queries([])
    assert check_texts("one") == ["one"] and check_texts(["a", " "]) == ["a", " "]
    with pytest.raises(SearchInputError, match="빈 코퍼스"):
        check_texts([], "코퍼스")
    with pytest.raises(SearchInputError, match="str 이 아닌"):
        check_texts(["a", 1])
    with pytest.raises(SearchInputError, match="빈 텍스트"):
        check_texts(["a", " "], allow_blank=False)
    check_same_count(2, "a", 2, "b")
    with pytest.raises(SearchInputError, match="a 2개와 b 3개의 수가 다릅니다"):
        check_same_count(2, "a", 3, "b")
    assert check_unique_ids(iter(["a", 1])) == ["a", 1]
    with pytest.raises(SearchInputError, match="중복"):
        check_unique_ids(["a", "b", "a"])
    with pytest.raises(SearchInputError) as err:
        check_unique_ids([])
    assert str(err.value) == EMPTY_CORPUS
