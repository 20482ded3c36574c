"""Metrics through ranx agree with hand-computed values; per-type tables add up."""
from __future__ import annotations

import math

import pytest

from course_utils.evaluation import ALL, evaluate_by_type, evaluate_run, per_query, random_run

QRELS = {"q1": {"d1": 2, "d2": 1, "d9": 0}, "q2": {"d3": 1}}


def test_ndcg_recall_mrr_by_hand() -> None:
    run = {"q1": {"d3": 0.9, "d1": 0.5}, "q2": {"d3": 1.0}}
    pq = per_query(run, QRELS)
    # ranx nDCG uses linear gains: DCG = 2/log2(3); IDCG = 2 + 1/log2(3)
    assert pq["ndcg@10"]["q1"] == pytest.approx((2 / math.log2(3)) / (2 + 1 / math.log2(3)))
    assert pq["recall@10"]["q1"] == 0.5 and pq["mrr@10"]["q1"] == 0.5
    assert pq["ndcg@10"]["q2"] == 1.0


def test_hard_negatives_do_not_count_and_missing_queries_score_zero() -> None:
    res = per_query({"q1": {"d9": 1.0}}, QRELS)
    assert res["ndcg@10"] == {"q1": 0.0, "q2": 0.0}


def test_by_type_table() -> None:
    run = {"q1": {"d1": 1.0}, "q2": {"d3": 1.0}}
    t = evaluate_by_type({"m": run}, QRELS, {"q1": "keyword", "q2": "semantic"})
    assert t.loc[("m", "recall@10"), "semantic"] == 1.0
    assert t.loc[("m", "recall@10"), ALL] == pytest.approx(0.75)
    assert t.attrs["n_queries"] == {"keyword": 1, "semantic": 1, ALL: 2}


def test_random_run_is_seeded_and_checks_k() -> None:
    a = random_run(["q1"], ["a", "b", "c"], k=2, seed=1)
    assert a == random_run(["q1"], ["a", "b", "c"], k=2, seed=1)
    with pytest.raises(ValueError, match="k=5"):
        random_run(["q1"], ["a"], k=5)
    assert 0 <= evaluate_run(a, {"q1": {"a": 1}})["ndcg@10"] <= 1
