"""Retrieval evaluation on top of ranx (chapters 02-11): nDCG, Recall, MRR per query, per query type and overall.

A *run* is ``{query_id: {doc_id: score}}`` (higher is better), *qrels* are ``{query_id: {doc_id: grade}}``.
Grades of 0 (listed hard negatives) count as not relevant. Every engine's ``run(queries, k)`` returns a run
(:class:`course_utils.results.Retriever`).

>>> table = evaluate_by_type({"bm25": run}, qrels, query_types)   # doctest: +SKIP
"""
from __future__ import annotations

import random
import warnings
from typing import Mapping, Sequence

import numpy as np

from .errors import SearchInputError

Run = Mapping[str, Mapping[str, float]]
Qrels = Mapping[str, Mapping[str, int]]

DEFAULT_METRICS: tuple[str, ...] = ("ndcg@10", "recall@10", "mrr@10")
ALL = "전체"


def _ranx_objects(run: Run, qrels: Qrels):  # type: ignore[no-untyped-def]
    from ranx import Qrels as RQrels  # heavy (numba): loaded when a run is scored
    from ranx import Run as RRun

    rel = {q: {d: int(g) for d, g in docs.items() if g > 0} for q, docs in qrels.items()}
    rel = {q: d for q, d in rel.items() if d}
    if not rel:
        raise SearchInputError("qrels 에 관련 문서(grade >= 1)가 하나도 없습니다.")
    # ranx needs every judged query in the run; a query with no result gets one dummy doc with score 0
    filled = {q: ({d: float(s) for d, s in run[q].items()} if run.get(q) else {"__none__": 0.0}) for q in rel}
    return RQrels(rel), RRun(filled)


def per_query(run: Run, qrels: Qrels, metrics: Sequence[str] = DEFAULT_METRICS) -> dict[str, dict[str, float]]:
    """``{metric: {query_id: value}}`` for every judged query."""
    from ranx import evaluate  # heavy (numba): loaded when a run is scored

    rq, rr = _ranx_objects(run, qrels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba type-safety chatter from ranx
        evaluate(rq, rr, list(metrics), make_comparable=True)
    return {m: {q: float(v) for q, v in rr.scores[m].items()} for m in metrics}


def evaluate_run(run: Run, qrels: Qrels, metrics: Sequence[str] = DEFAULT_METRICS) -> dict[str, float]:
    """Mean of each metric over the judged queries."""
    pq = per_query(run, qrels, metrics)
    return {m: float(np.mean(list(v.values()))) for m, v in pq.items()}


def evaluate_by_type(runs: Mapping[str, Run], qrels: Qrels, query_types: Mapping[str, str],
                     metrics: Sequence[str] = DEFAULT_METRICS):  # type: ignore[no-untyped-def]
    """A pandas table: one row per (method, metric), one column per query type plus ``전체`` (all)."""
    import pandas as pd  # heavy: only the table needs it

    rows = []
    for name, run in runs.items():
        pq = per_query(run, qrels, metrics)
        for m in metrics:
            vals = pq[m]
            row = {"method": name, "metric": m}
            for t in sorted({query_types[q] for q in vals}):
                row[t] = float(np.mean([v for q, v in vals.items() if query_types[q] == t]))
            row[ALL] = float(np.mean(list(vals.values())))
            rows.append(row)
    table = pd.DataFrame(rows).set_index(["method", "metric"])
    counts = pd.Series({t: sum(1 for q in qrels if query_types.get(q) == t) for t in table.columns if t != ALL})
    counts[ALL] = len([q for q in qrels if any(g > 0 for g in qrels[q].values())])
    table.attrs["n_queries"] = counts.to_dict()
    return table


def run_from_ranked(ranked: Mapping[str, Sequence[tuple[str, float]]]) -> dict[str, dict[str, float]]:
    """Turn ``{qid: [(doc_id, score), ...]}`` into a run dict."""
    return {q: {d: float(s) for d, s in hits} for q, hits in ranked.items()}


def random_run(query_ids: Sequence[str], doc_ids: Sequence[str], k: int = 10, seed: int = 0) -> dict[str, dict[str, float]]:
    """A random ranking (the floor every method must beat)."""
    if k > len(doc_ids):
        raise SearchInputError(f"k={k} 가 문서 수 {len(doc_ids)} 보다 큽니다.")
    rng = random.Random(seed)
    return {q: {d: float(k - i) for i, d in enumerate(rng.sample(list(doc_ids), k))} for q in query_ids}
