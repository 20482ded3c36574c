"""One home for measurement (chapters 02, 03, 04, 07, 08, 09 and ``benchmarks/``): exact top-k, recall@k, runs from
vectors, throughput and timing.

- :func:`exact_search` is the course's one exact inner-product (or L2) top-k over vectors: the ground truth that
  approximate indexes (chapter 03) and quantized search (chapter 08) are measured against. It runs a flat FAISS
  index, the same computation every chapter's "exact" number comes from.
- :func:`top_k_rows` picks the best ``k`` entries of a score matrix that is already computed (ties keep the lower
  index first).
- :func:`recall_at_k`: the share of the exact top-k that a search found.
- :func:`vector_run`: exact top-k as a run ``{query_id: {doc_id: score}}`` for :mod:`course_utils.evaluation`.
- :func:`docs_per_second`, :func:`time_call`, :func:`time_each`, :func:`load_and_measure`: throughput, latency and
  load cost, measured side by side in one run; :func:`interleaved_rates` and :func:`ratio_spread`: several engines
  timed in turn, round after round, and the spread of their ratio over the rounds.
- :func:`principal_axes`: the principal axes of a set of vectors (PCA), largest variance first.
"""
from __future__ import annotations

import gc
import time
from typing import Any, Callable, Sequence, TypeVar

import numpy as np
import psutil

from .checks import as_matrix, check_k, check_pair, check_same_count
from .errors import SearchInputError

__all__ = [
    "METRICS", "exact_search", "top_k_rows", "recall_at_k", "vector_run", "docs_per_second", "time_call",
    "time_each", "load_and_measure", "interleaved_rates", "ratio_spread", "principal_axes",
]

T = TypeVar("T")
METRICS: tuple[str, ...] = ("ip", "l2")
"""``ip``: inner product (cosine on L2-normalised vectors, higher is closer); ``l2``: squared distance (lower)."""


# ------------------------------------------------------------------------------------------ exact top-k


def top_k_rows(scores: Any, k: int, *, largest: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` best entries of each row of ``scores``, best first.

    ``largest=False`` picks the smallest (distances). Ties keep the lower index first (a stable sort), so the result
    does not depend on the machine.
    """
    s = np.atleast_2d(np.asarray(scores))
    k = check_k(k, s.shape[1])
    order = np.argsort(-s if largest else s, axis=1, kind="stable")[:, :k]
    return order.astype(np.int64), np.take_along_axis(s, order, axis=1)


def exact_search(queries: Any, docs: Any, k: int = 10, *, metric: str = "ip") -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` of every query among ``docs`` with a flat FAISS index: ``(ids, scores)``, each
    ``(n_queries, k)``, best first.

    ``metric="ip"`` scores are inner products (cosine for unit vectors, higher is closer); ``"l2"`` scores are
    squared distances (lower is closer). Argument order: queries first, as in every search call of the course.
    """
    import faiss  # brings its own OpenMP runtime: loaded when an exact search runs, not by every importer of measure

    if metric not in METRICS:
        raise SearchInputError(f"metric={metric!r}: 'ip'(내적, 정규화된 벡터면 코사인) 또는 'l2' 를 쓰세요.")
    q, d = check_pair(queries, docs)
    k = check_k(k, d.shape[0])
    index = faiss.IndexFlatIP(d.shape[1]) if metric == "ip" else faiss.IndexFlatL2(d.shape[1])
    index.add(d)
    scores, ids = index.search(q, k)
    return ids.astype(np.int64), scores


def recall_at_k(found: Any, truth: Any, k: int | None = None) -> float:
    """Mean over queries of ``|found_i[:k] & truth_i[:k]| / k``: the share of the exact top-``k`` a search found.

    ``k`` defaults to the width of ``truth``. Order inside the top ``k`` does not matter; ``-1`` (FAISS's "no
    result") never matches.
    """
    f, t = np.atleast_2d(np.asarray(found)), np.atleast_2d(np.asarray(truth))
    if f.shape[0] != t.shape[0]:
        raise SearchInputError(f"질의 수가 다릅니다: 결과 {f.shape[0]}개, 정답 {t.shape[0]}개.")
    if t.shape[1] == 0:
        raise SearchInputError("정답 목록이 비어 있습니다.")
    k = t.shape[1] if k is None else check_k(k, t.shape[1], where="정답 목록의 ")
    hits = [len(set(a[:k].tolist()) & set(b[:k].tolist())) / k for a, b in zip(f, t)]
    return float(np.mean(hits))


def vector_run(query_ids: Sequence[str], query_vectors: Any, doc_ids: Sequence[str], doc_vectors: Any,
               k: int = 10) -> dict[str, dict[str, float]]:
    """Exact inner-product top-``k`` (:func:`exact_search`) as a run ``{query_id: {doc_id: score}}``
    (for :mod:`course_utils.evaluation`)."""
    q = as_matrix(query_vectors, "질의 벡터")
    d = as_matrix(doc_vectors, "문서 벡터")
    check_same_count(len(query_ids), "질의 id", len(q), "질의 벡터")
    check_same_count(len(doc_ids), "문서 id", len(d), "문서 벡터")
    ids, scores = exact_search(q, d, k)
    return {qid: {doc_ids[int(j)]: float(s) for j, s in zip(ids[i], scores[i])} for i, qid in enumerate(query_ids)}


# ------------------------------------------------------------------------------------------ speed


def docs_per_second(encode: Callable[[list[str]], Any], texts: Sequence[str], *, min_seconds: float = 0.5,
                    max_rounds: int = 200) -> float:
    """Throughput of ``encode(texts)`` in texts per second, repeating the whole list until ``min_seconds`` passed.

    One warm-up call is made first (not timed), so model loading and first-call caches are excluded. Fast
    encoders (static models) need many rounds for a stable figure; slow ones stop after one.
    """
    items = list(texts)
    if not items:
        raise SearchInputError("처리량을 재려면 텍스트가 하나 이상 필요합니다.")
    encode(items[: min(8, len(items))])
    rounds, start = 0, time.perf_counter()
    while True:
        encode(items)
        rounds += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds or rounds >= max_rounds:
            return rounds * len(items) / elapsed


def interleaved_rates(encoders: dict[str, Callable[[Sequence[str]], Any]], texts: Sequence[str], *,
                      rounds: int = 5) -> dict[str, np.ndarray]:
    """Texts per second of every ``encoders[name](texts)``, one pass each in turn, ``rounds`` times: ``{name: rates}``.

    One untimed warm-up call each on the first few texts comes first. Taking turns within every round means a burst of other load on a shared
    machine slows all engines of that round alike, so the ratio of two engines in the same round (:func:`ratio_spread`)
    moves much less than either throughput does.
    """
    items = list(texts)
    if not items:
        raise SearchInputError("처리량을 재려면 텍스트가 하나 이상 필요합니다.")
    if not encoders:
        raise SearchInputError("잴 엔진이 없습니다: {이름: encode 함수} 를 하나 이상 주세요.")
    if rounds < 1:
        raise SearchInputError(f"rounds={rounds}: 1 이상이어야 합니다.")
    for encode in encoders.values():
        encode(items[: min(8, len(items))])
    rates: dict[str, list[float]] = {name: [] for name in encoders}
    for _ in range(rounds):
        for name, encode in encoders.items():
            start = time.perf_counter()
            encode(items)
            rates[name].append(len(items) / (time.perf_counter() - start))
    return {name: np.asarray(r) for name, r in rates.items()}


def ratio_spread(rates: dict[str, np.ndarray], numerator: str, denominator: str) -> dict[str, float]:
    """Median, minimum and maximum over the rounds of ``rates[numerator] / rates[denominator]`` (same-round ratios)."""
    for name in (numerator, denominator):
        if name not in rates:
            raise SearchInputError(f"{name!r} 의 측정이 없습니다. 있는 것: {sorted(rates)}")
    r = np.asarray(rates[numerator]) / np.asarray(rates[denominator])
    return {"median": float(np.median(r)), "min": float(r.min()), "max": float(r.max())}


def time_call(fn: Callable[[], Any], *, repeats: int = 3, warmup: int = 1, reduce: str = "median") -> float:
    """Seconds of one ``fn()`` call: ``warmup`` untimed calls, then the ``median`` (or ``best``, ``mean``) of
    ``repeats`` timed ones."""
    if reduce not in ("median", "best", "mean"):
        raise SearchInputError(f"reduce={reduce!r}: 'median', 'best', 'mean' 중 하나를 쓰세요.")
    for _ in range(max(0, warmup)):
        fn()
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float({"median": np.median, "best": np.min, "mean": np.mean}[reduce](times))


def time_each(fn: Callable[[Any], T], items: Sequence[Any]) -> tuple[np.ndarray, list[T]]:
    """``fn(item)`` for every item, one at a time: the milliseconds of each call and the results."""
    out, times = [], []
    for item in items:
        start = time.perf_counter()
        out.append(fn(item))
        times.append(time.perf_counter() - start)
    return np.asarray(times) * 1000, out


def load_and_measure(load: Callable[[], T], sample: Sequence[str], *, batch_size: int = 32) -> tuple[T, dict[str, float]]:
    """Load a model (timed), embed ``sample`` once with ``encode_documents`` (documents per second), and the growth
    of the process's resident memory over both (psutil RSS after minus before: not a peak).

    Returns ``(model, {"load_s", "docs_per_s", "rss_delta_mb"})``.
    """
    items = list(sample)
    if not items:
        raise SearchInputError("처리량을 재려면 텍스트가 하나 이상 필요합니다.")
    process = psutil.Process()
    gc.collect()
    rss_before = process.memory_info().rss
    start = time.perf_counter()
    model = load()
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    model.encode_documents(items, batch_size=batch_size)  # type: ignore[attr-defined]
    docs_per_s = len(items) / (time.perf_counter() - start)
    rss_mb = (process.memory_info().rss - rss_before) / 2**20
    return model, {"load_s": load_s, "docs_per_s": docs_per_s, "rss_delta_mb": rss_mb}


# ------------------------------------------------------------------------------------------ vector statistics


def principal_axes(vectors: Any) -> np.ndarray:
    """The principal axes of ``vectors`` as the rows of an orthonormal ``(dim, dim)`` float64 matrix, largest
    variance first: eigenvectors of the centred scatter matrix (signs as the solver returns them).

    The mean is subtracted in the input's precision (float32 stays float32 until the scatter matrix), so callers
    that centred by hand before get the same numbers.
    """
    arr = np.asarray(vectors)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise SearchInputError(f"벡터의 모양 {arr.shape}: (개수, 차원) 모양의 2차원 배열이어야 합니다.")
    if arr.shape[0] < 2:
        raise SearchInputError("PCA 에는 벡터가 2개 이상 필요합니다.")
    if not np.isfinite(arr).all():
        raise SearchInputError("벡터에 NaN 또는 inf 가 있습니다. 임베딩을 다시 계산하세요.")
    centered = (arr - arr.mean(axis=0, keepdims=True)).astype(np.float64)
    _, eigvecs = np.linalg.eigh(centered.T @ centered)  # dim x dim: cheap even for many vectors
    return np.ascontiguousarray(eigvecs[:, ::-1].T)
