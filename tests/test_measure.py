"""course_utils.measure: exact top-k against brute force, recall@k, runs, throughput and timing helpers."""
from __future__ import annotations

import time

import numpy as np
import pytest

from course_utils import faiss_engine, quantization
from course_utils.errors import SearchInputError
from course_utils.measure import (
    docs_per_second, exact_search, load_and_measure, principal_axes, recall_at_k, time_call, time_each, top_k_rows,
    vector_run,
)


def _unit(n: int, d: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_one_exact_search_and_one_recall_for_every_module() -> None:
    assert quantization.exact_search is exact_search
    assert quantization.recall_at_k is faiss_engine.recall_at_k is recall_at_k
    assert not hasattr(faiss_engine, "exact_search")  # the old (base, queries) order is gone, not silently swapped


@pytest.mark.parametrize("metric", ["ip", "l2"])
def test_exact_search_equals_brute_force_queries_first(metric: str) -> None:
    docs, queries = _unit(300), _unit(7, seed=1)
    ids, scores = exact_search(queries, docs, 5, metric=metric)
    assert ids.shape == scores.shape == (7, 5) and ids.dtype == np.int64
    if metric == "ip":
        full = queries @ docs.T
        expected = np.argsort(-full, axis=1, kind="stable")[:, :5]
    else:
        full = ((queries[:, None, :] - docs[None, :, :]) ** 2).sum(-1)
        expected = np.argsort(full, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(full, expected, axis=1), atol=1e-5)
    one, _ = exact_search(queries[0], docs, 3)  # one vector is one query
    np.testing.assert_array_equal(one[0], ids[0, :3])
    with pytest.raises(SearchInputError, match="k="):
        exact_search(queries, docs[:4], 5)
    with pytest.raises(SearchInputError, match="차원"):
        exact_search(queries[:, :8], docs, 5)
    with pytest.raises(SearchInputError, match="metric"):
        exact_search(queries, docs, 5, metric="cosine")


def test_top_k_rows_is_stable_for_ties() -> None:
    scores = np.array([[0.5, 0.9, 0.5, 0.9], [1.0, 0.0, 2.0, 2.0]], dtype=np.float32)
    idx, val = top_k_rows(scores, 3)
    assert idx.tolist() == [[1, 3, 0], [2, 3, 0]]
    np.testing.assert_array_equal(val, np.take_along_axis(scores, idx, axis=1))
    low, _ = top_k_rows(scores, 2, largest=False)
    assert low.tolist() == [[0, 2], [1, 0]]
    assert top_k_rows(np.array([3.0, 1.0, 2.0]), 2)[0].tolist() == [[0, 2]]


def test_recall_at_k() -> None:
    truth = np.array([[1, 2, 3], [4, 5, 6]])
    assert recall_at_k(truth, truth) == 1.0
    assert recall_at_k(truth[:, ::-1], truth) == 1.0  # order inside the top k does not count
    assert recall_at_k(np.array([[1, 9, 9], [9, 9, 9]]), truth) == pytest.approx(1 / 6)
    assert recall_at_k(np.array([[2, 1, 0], [4, 0, 0]]), truth, 2) == pytest.approx((1.0 + 0.5) / 2)
    assert recall_at_k(np.full_like(truth, -1), truth) == 0.0
    with pytest.raises(SearchInputError, match="질의 수"):
        recall_at_k(truth[:1], truth)
    with pytest.raises(SearchInputError, match="k="):
        recall_at_k(truth, truth, 4)
    with pytest.raises(SearchInputError, match="정답"):
        recall_at_k(np.zeros((2, 0)), np.zeros((2, 0)))


def test_vector_run_ranks_by_inner_product() -> None:
    docs = np.eye(3, dtype=np.float32)
    queries = np.array([[0.1, 0.9, 0.0], [1.0, 0.0, 0.5]], dtype=np.float32)
    run = vector_run(["q1", "q2"], queries, ["a", "b", "c"], docs, k=2)
    assert list(run["q1"]) == ["b", "a"] and list(run["q2"]) == ["a", "c"]
    assert run["q1"]["b"] == pytest.approx(0.9) and all(isinstance(s, float) for s in run["q2"].values())
    with pytest.raises(SearchInputError):
        vector_run(["q1"], queries, ["a", "b", "c"], docs)  # ids and vectors disagree
    with pytest.raises(SearchInputError):
        vector_run(["q1", "q2"], queries[:, :2], ["a", "b", "c"], docs)
    with pytest.raises(SearchInputError):
        vector_run(["q1", "q2"], queries, ["a", "b", "c"], docs, k=4)
    with pytest.raises(SearchInputError):
        vector_run(["q1", "q2"], queries, [], np.zeros((0, 3)))


def test_docs_per_second_counts_texts_per_second() -> None:
    calls = []

    def fake_encode(texts: list[str]) -> None:
        calls.append(len(texts))

    rate = docs_per_second(fake_encode, ["a"] * 10, min_seconds=0.01, max_rounds=5)
    assert rate > 0 and calls[0] <= 8 and calls[1:] == [10] * (len(calls) - 1)
    with pytest.raises(SearchInputError):
        docs_per_second(fake_encode, [])


def test_time_call_and_time_each() -> None:
    calls = []
    seconds = time_call(lambda: calls.append(time.sleep(0.001)), repeats=3, warmup=2)
    assert len(calls) == 5 and 0.0005 < seconds < 1.0
    assert time_call(lambda: None, reduce="best", warmup=0) >= 0
    with pytest.raises(SearchInputError, match="reduce"):
        time_call(lambda: None, reduce="p99")
    ms, out = time_each(lambda x: x * 2, [1, 2, 3])
    assert out == [2, 4, 6] and ms.shape == (3,) and (ms >= 0).all()


def test_load_and_measure_reports_load_rate_and_memory() -> None:
    class Fake:
        def encode_documents(self, texts, batch_size=32):  # type: ignore[no-untyped-def]
            return np.zeros((len(texts), 2))

    model, cost = load_and_measure(Fake, ["a", "b", "c"], batch_size=2)
    assert isinstance(model, Fake) and set(cost) == {"load_s", "docs_per_s", "rss_delta_mb"}
    assert cost["load_s"] >= 0 and cost["docs_per_s"] > 0
    with pytest.raises(SearchInputError):
        load_and_measure(Fake, [])


def test_principal_axes_are_orthonormal_and_ordered() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 6)) * np.array([5.0, 1.0, 3.0, 0.1, 2.0, 0.5])
    axes = principal_axes(x)
    assert np.allclose(axes @ axes.T, np.eye(6), atol=1e-8)
    var = (x @ axes.T).var(axis=0)
    assert list(np.argsort(-var)) == list(range(6))
    assert np.allclose(np.abs(axes[0]), [1, 0, 0, 0, 0, 0], atol=0.05)
    with pytest.raises(SearchInputError):
        principal_axes(x[:1])
    with pytest.raises(SearchInputError):
        principal_axes(np.full((3, 2), np.nan))


def test_interleaved_rates_take_turns_and_ratio_spread() -> None:
    from course_utils.measure import interleaved_rates, ratio_spread

    calls: list[str] = []

    def make(name: str, seconds: float):
        def encode(items):
            calls.append(name)
            time.sleep(seconds)
            return items
        return encode

    rates = interleaved_rates({"slow": make("slow", 0.02), "fast": make("fast", 0.005)}, ["a"] * 4, rounds=3)
    assert calls == ["slow", "fast"] * 4            # one warm-up each, then turns, round after round
    assert {k: len(v) for k, v in rates.items()} == {"slow": 3, "fast": 3}
    spread = ratio_spread(rates, "fast", "slow")
    assert spread["min"] <= spread["median"] <= spread["max"] and spread["min"] > 1.5
    with pytest.raises(SearchInputError):
        ratio_spread(rates, "fast", "missing")
    with pytest.raises(SearchInputError):
        interleaved_rates({"x": make("x", 0)}, [])
    with pytest.raises(SearchInputError):
        interleaved_rates({}, ["a"])
