"""Rank fusion by hand (course_utils.fusion): the formulas, their errors, and the hybrid module's re-export."""
from __future__ import annotations

import pytest

from course_utils import fusion, hybrid
from course_utils.errors import SearchInputError
from course_utils.fusion import QDRANT_RRF_K, dbsf, normalize, rrf, wsum


def test_hybrid_reexports_the_same_functions() -> None:
    assert hybrid.rrf is fusion.rrf and hybrid.dbsf is fusion.dbsf
    assert hybrid.QDRANT_RRF_K == QDRANT_RRF_K == 2 and hybrid.FUSIONS == fusion.FUSIONS == ("rrf", "dbsf")


def test_rrf_formula_weights_and_limit() -> None:
    fused = dict(rrf([["a", "b"], ["b", "c"]]))  # Qdrant's k=2: 1 / (rank + 1)
    assert fused == pytest.approx({"b": 1 / 3 + 1 / 2, "a": 1 / 2, "c": 1 / 3})
    assert [d for d, _ in rrf([["a", "b"], ["b", "c"]], k=60)] == ["b", "a", "c"]
    weighted = dict(rrf([["a"], ["b"]], weights=[2.0, 0.5]))
    assert weighted["a"] == pytest.approx(1 / (1 / 2.0 + 1)) and weighted["b"] == pytest.approx(1 / (1 / 0.5 + 1))
    assert dict(rrf([["a"], ["b"]], weights=[1.0, 0.0]))["b"] == 0.0  # weight 0 ignores a list
    assert [d for d, _ in rrf([["x", "y", "z"]], limit=2)] == ["x", "y"]
    assert rrf([["a", "b"], ["b", "a"]])[0][0] == "a"  # a tie keeps the order of first appearance


def test_rrf_errors() -> None:
    with pytest.raises(SearchInputError, match="1 이상"):
        rrf([["a"]], k=0)
    with pytest.raises(SearchInputError, match="weights"):
        rrf([["a"], ["b"]], weights=[1.0])


def test_dbsf_normalises_each_list_by_mean_and_3_sd() -> None:
    assert dbsf([[("a", 1.0)]]) == [("a", 0.5)]
    assert dict(dbsf([[("a", 2.0), ("b", 2.0)]])) == {"a": 0.5, "b": 0.5}  # constant list
    scores = [3.0, 2.0, 1.0]
    mean, sd = 2.0, 1.0  # sample standard deviation
    got = dict(dbsf([list(zip("abc", scores)), [("c", 10.0)]]))
    assert got["a"] == pytest.approx((3.0 - (mean - 3 * sd)) / (6 * sd))
    assert got["c"] == pytest.approx((1.0 - (mean - 3 * sd)) / (6 * sd) + 0.5)
    assert [d for d, _ in dbsf([list(zip("abc", scores))], limit=1)] == ["a"]
    assert dbsf([[], [("z", 1.0)]]) == [("z", 0.5)]


def test_wsum_is_ranx_weighted_sum_with_min_max() -> None:
    import warnings

    from ranx import Run, fuse

    a = [("x", 0.9), ("y", 0.7), ("z", 0.5)]
    b = [("z", 8.0), ("w", 2.0)]
    mine = wsum([a, b], [0.4, 0.6])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba type-safety chatter from ranx
        theirs = fuse([Run({"q": dict(a)}), Run({"q": dict(b)})], norm="min-max", method="wsum",
                      params={"weights": [0.4, 0.6]}).to_dict()["q"]
    assert dict(mine) == pytest.approx(theirs)
    assert [d for d, _ in mine] == ["z", "x", "y", "w"]  # z: 0.4*0 + 0.6*1; a doc missing from a list gets 0 there
    assert [d for d, _ in wsum([a, b], [0.4, 0.6], limit=2)] == ["z", "x"]


def test_wsum_divides_by_a_fixed_scale_so_weak_matches_stay_weak() -> None:
    dense = [("x", 0.9), ("y", 0.8)]
    weak_bm25 = [("y", 1.0), ("z", 0.5)]  # one common word matched, out of a query whose ceiling is 20
    # min-max makes any list's best a 1, so the weak match overturns dense; the ceiling keeps it at 1/20
    assert wsum([dense, weak_bm25], [0.4, 0.6])[0][0] == "y"
    by_ceiling = wsum([dense, weak_bm25], [0.4, 0.6], norms=["min-max", 20.0])
    assert by_ceiling[0] == ("x", pytest.approx(0.4)) and dict(by_ceiling)["y"] == pytest.approx(0.03)
    assert normalize([("a", 3.0)], "none") == [("a", 3.0)] and normalize([("a", 3.0)]) == [("a", 0.0)]
    assert normalize([]) == []


def test_wsum_errors() -> None:
    with pytest.raises(SearchInputError, match="weights"):
        wsum([[("a", 1.0)]], [0.5, 0.5])
    with pytest.raises(SearchInputError, match="norms"):
        wsum([[("a", 1.0)]], [1.0], norms=["min-max", "min-max"])
    with pytest.raises(SearchInputError, match="0 이상"):
        wsum([[("a", 1.0)]], [-1.0])
    with pytest.raises(SearchInputError, match="min-max"):
        normalize([("a", 1.0)], "z-score")
    with pytest.raises(SearchInputError, match="양수"):
        normalize([("a", 1.0)], 0.0)
