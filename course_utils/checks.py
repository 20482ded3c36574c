"""Input checks shared by every engine, with one set of Korean messages that say what to do next (chapters 03, 05-11).

Each check raises :class:`course_utils.errors.SearchInputError` (a ``ValueError``) and returns the cleaned value::

    mat = as_matrix(vectors, "문서 벡터", dim=384, against="컬렉션 'news' 의")   # float32, 2-D, finite
    q, d = check_pair(query_vectors, doc_vectors)                              # same dimension
    k = check_k(k, n_docs, where="색인된 ")                                     # 1 <= k <= n
    text = check_query(query)                                                  # a non-blank string
    texts = check_texts(texts, "문서 목록")                                     # a non-empty list of str

Used by :mod:`~course_utils.faiss_engine`, :mod:`~course_utils.qdrant_core` (and both Qdrant engines),
:mod:`~course_utils.quantization`, :mod:`~course_utils.late_interaction`, :mod:`~course_utils.measure`,
:mod:`~course_utils.korean`, :mod:`~course_utils.korean_sparse`, :mod:`~course_utils.viz` and the capstone.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .errors import SearchInputError

__all__ = [
    "EMPTY_CORPUS", "EMPTY_QUERY", "SAME_MODEL", "as_matrix", "check_dim", "check_pair", "check_k", "check_query",
    "check_queries", "check_texts", "check_same_count", "check_unique_ids",
]

EMPTY_CORPUS = "빈 코퍼스입니다: 색인할 문서를 하나 이상 넘기세요."
EMPTY_QUERY = "빈 질의입니다: 검색어를 입력하세요."
SAME_MODEL = "같은 모델로 만든 벡터인지 확인하세요."


def check_dim(got: int, expected: int, *, what: str, against: str, hint: str = SAME_MODEL) -> None:
    """``got == expected`` or ``"{what}의 차원 {got} 이 {against} 차원 {expected} 과 다릅니다. {hint}"``.

    ``against`` carries its own possessive: ``"컬렉션 'news' 의"``, ``"인덱스의"``, ``"문서 벡터의"``.
    """
    if int(got) != int(expected):
        raise SearchInputError(f"{what}의 차원 {got} 이 {against} 차원 {expected} 과 다릅니다. {hint}")


def as_matrix(x: Any, what: str = "벡터", *, rows: str = "개수", dim: int | None = None, against: str = "",
              hint: str = SAME_MODEL, allow_1d: bool = False, nonzero: bool = False) -> np.ndarray:
    """``x`` as a C-contiguous float32 ``(n, d)`` array with ``n, d >= 1`` and finite values.

    ``allow_1d`` turns one vector into one row. ``dim`` (with ``against``, the thing whose dimension it must match)
    checks the width. ``nonzero`` rejects all-zero rows (cosine is undefined for them). ``rows`` names what a row
    is in the message (``"토큰 수"`` for a token-vector matrix).
    """
    try:
        arr = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise SearchInputError(f"{what}: 숫자 배열로 바꿀 수 없습니다 ({exc}).") from exc
    if allow_1d and arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise SearchInputError(f"{what}의 모양 {arr.shape}: ({rows} >= 1, 차원) 모양의 비어 있지 않은 2차원 배열이어야 "
                               "합니다.")
    if not np.isfinite(arr).all():
        raise SearchInputError(f"{what}에 NaN 또는 inf 가 있습니다. 임베딩을 다시 계산하세요.")
    if dim is not None:
        check_dim(arr.shape[1], dim, what=what, against=against or "기대한", hint=hint)
    if nonzero and (np.linalg.norm(arr, axis=1) == 0).any():
        raise SearchInputError(f"{what}에 길이 0인 벡터가 있습니다: 코사인 유사도를 정의할 수 없습니다.")
    return np.ascontiguousarray(arr)


def check_pair(queries: Any, docs: Any, *, hint: str = SAME_MODEL) -> tuple[np.ndarray, np.ndarray]:
    """Query and document matrices (:func:`as_matrix`, one vector allowed as a query) of the same dimension."""
    q = as_matrix(queries, "질의 벡터", allow_1d=True)
    d = as_matrix(docs, "문서 벡터")
    check_dim(q.shape[1], d.shape[1], what="질의 벡터", against="문서 벡터의", hint=hint)
    return q, d


def check_k(k: Any, n: int | None = None, *, where: str = "", empty: str | None = None) -> int:
    """``k`` as an int with ``1 <= k <= n`` (``n``: how many documents there are, if known).

    ``where`` qualifies the count (``"색인된 "``, ``"컬렉션의 "``); ``empty`` is the message when ``n == 0``.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise SearchInputError(f"k={k!r}: 1 이상의 정수여야 합니다.")
    if n is not None:
        if n == 0 and empty:
            raise SearchInputError(empty)
        if k > n:
            raise SearchInputError(f"k={k} 가 {where}문서 수 {n} 보다 큽니다. k 를 {n} 이하로 주세요.")
    return int(k)


def check_query(text: Any) -> str:
    """A non-blank query string."""
    if not isinstance(text, str) or not text.strip():
        raise SearchInputError(EMPTY_QUERY)
    return text


def check_queries(queries: Any) -> list[str]:
    """A non-empty list of non-blank query strings (a single string is refused: it is one query, not a list)."""
    if isinstance(queries, str):
        raise SearchInputError("질의 목록이 필요합니다: 질의 하나는 search(질의), 여러 개는 search_batch(['질의1', '질의2']).")
    items = list(queries)
    if not items:
        raise SearchInputError("질의 목록이 비어 있습니다.")
    for q in items:
        check_query(q)
    return items


def check_texts(texts: Any, what: str = "텍스트 목록", *, allow_blank: bool = True) -> list[str]:
    """A non-empty list of strings (``allow_blank=False`` also refuses blank ones)."""
    if isinstance(texts, str):
        texts = [texts]
    items = list(texts)
    if not items:
        raise SearchInputError(f"빈 {what}입니다: 텍스트를 하나 이상 넘기세요.")
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise SearchInputError(f"{what}에 str 이 아닌 값({type(t).__name__})이 있습니다 (위치 {i}).")
        if not allow_blank and not t.strip():
            raise SearchInputError(f"{what}에 빈 텍스트가 있습니다 (위치 {i}).")
    return items


def check_same_count(n_a: int, what_a: str, n_b: int, what_b: str) -> None:
    """``"{what_a} {n_a}개와 {what_b} {n_b}개의 수가 다릅니다."`` unless the counts agree."""
    if n_a != n_b:
        raise SearchInputError(f"{what_a} {n_a}개와 {what_b} {n_b}개의 수가 다릅니다.")


def check_unique_ids(ids: Iterable[Any]) -> list[Any]:
    """The ids as a list, refused if two are the same (compared as strings) or if there are none."""
    items = list(ids)
    if not items:
        raise SearchInputError(EMPTY_CORPUS)
    seen: set[str] = set()
    dups: list[Any] = []
    for i in items:
        key = str(i)
        if key in seen:
            dups.append(i)
        seen.add(key)
    if dups:
        raise SearchInputError(f"문서 id 에 중복이 있습니다({dups[:3]}). 문서마다 다른 id 를 주세요.")
    return items
