"""The capstone system: build, search, filter, rerank wiring, save and reopen, clear errors."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import load_model
from course_utils.data import load_corpus_records
from course_utils.errors import SearchInputError
from course_utils.search_system import CONFIG_FILE, DEFAULT_PIPELINE, FORMAT_VERSION, NewsSearch


@pytest.fixture(scope="module")
def records():
    docs = load_corpus_records("ko_news")
    return [d for d in docs if d["category"] in ("경제", "음식")][:40] + [d for d in docs if d["category"] == "여행"][:20]


@pytest.fixture(scope="module")
def dense():
    return load_model("ko_dense", profile="offline", verbose=False)


@pytest.fixture(scope="module")
def system(tmp_path_factory, records, dense):
    s = NewsSearch.build(tmp_path_factory.mktemp("sys"), records, dense=dense)
    yield s
    s.close()


def test_build_and_search(system, records) -> None:
    assert system.count() == len(records)
    target = records[5]
    hits = system.search(target["title"], k=3)
    assert hits[0].doc_id == target["_id"]
    assert {"title", "category", "date", "text"} <= set(hits[0].payload)


def test_filters_restrict_category_and_date(system) -> None:
    hits = system.search("가격", k=10, category="여행")
    assert hits and all(h.payload["category"] == "여행" for h in hits)
    hits = system.search("가격", k=10, date_from="2025-01-01", date_to="2025-06-30")
    assert all("2025-01-01" <= h.payload["date"] <= "2025-06-30" for h in hits)
    hits = system.search("가격", k=10, category=["경제", "음식"], mode="dense")
    assert {h.payload["category"] for h in hits} <= {"경제", "음식"}


def test_every_mode_and_run(system, records) -> None:
    for mode in ("dense", "sparse", "rrf", "dbsf", "wsum"):
        assert len(system.search("금리", k=5, mode=mode)) >= 1
    run = system.run({"q1": records[0]["title"], "q2": records[1]["title"]}, k=5)
    assert set(run) == {"q1", "q2"} and records[0]["_id"] in run["q1"]


def test_default_is_the_recommended_pipeline(system, records) -> None:
    """search/run without options = DEFAULT_PIPELINE (wsum, BM25 divided by the query's ceiling), chosen in ch11."""
    assert DEFAULT_PIPELINE["mode"] == "wsum" and sum(DEFAULT_PIPELINE["wsum_weights"]) == pytest.approx(1.0)
    query = "가격 인상"
    ceiling = system.sparse.max_score(system.sparse.encode_query(query))
    explicit = system.search(query, k=5, mode="wsum", wsum_weights=DEFAULT_PIPELINE["wsum_weights"],
                             prefetch_k=DEFAULT_PIPELINE["prefetch_k"], sparse_scale=ceiling)
    default = system.search(query, k=5)
    assert [h.doc_id for h in default] == [h.doc_id for h in explicit]
    assert [h.score for h in default] == pytest.approx([h.score for h in explicit])
    assert [h.doc_id for h in system.search(query, k=5, mode="rrf")] != [] and ceiling > 0
    run = system.run({"q": query}, k=5)
    assert list(run["q"]) == [h.doc_id for h in default]
    # an override changes only what it names (the default weights stay)
    dense_only = system.search(query, k=5, wsum_weights=(1.0, 0.0))
    assert [h.doc_id for h in dense_only] == [h.doc_id for h in system.search(query, k=5, mode="dense")]


def test_reranker_stage_reorders_candidates(system) -> None:
    class LengthReranker:  # prefers the longest candidate: easy to check
        def score(self, query, documents):
            return np.array([len(d) for d in documents], dtype=np.float32)

    hits = system.search("가격", k=5, reranker=LengthReranker(), rerank_k=20)
    lengths = [len(h.payload["text"]) for h in hits]
    assert lengths == sorted(lengths, reverse=True)
    # one argument adds the stage to the default pipeline, in run() too; it only reorders that pipeline's candidates
    candidates = {h.doc_id for h in system.search("가격", k=20)}
    run = system.run({"q": "가격"}, k=5, reranker=LengthReranker(), rerank_k=20)
    assert list(run["q"]) == [h.doc_id for h in hits] and set(run["q"]) <= candidates


def test_save_and_reopen_gives_the_same_results(tmp_path, records, dense) -> None:
    folder = tmp_path / "persist"
    with NewsSearch.build(folder, records, dense=dense) as s:
        before = [h.doc_id for h in s.search("여행 수요", k=5)]
    assert (folder / CONFIG_FILE).exists()
    with NewsSearch.open(folder, dense=dense) as s:
        assert [h.doc_id for h in s.search("여행 수요", k=5)] == before


def test_saved_format_is_written_and_older_folders_are_refused(tmp_path, records, dense) -> None:
    import json

    folder = tmp_path / "fmt"
    NewsSearch.build(folder, records[:10], dense=dense).close()
    cfg = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    assert cfg["format"] == FORMAT_VERSION == 3
    # format 1 (other point ids), 2 (no BM25 document frequencies) and a config written before formats were recorded
    for old in (1, 2, None):
        cfg["format"] = old
        (folder / CONFIG_FILE).write_text(json.dumps(cfg), encoding="utf-8")
        with pytest.raises(SearchInputError, match="예전 형식") as err:
            NewsSearch.open(folder, dense=dense)
        assert "NewsSearch.build" in str(err.value) and "다시 색인" in str(err.value)
        with pytest.raises(SearchInputError, match="예전 형식"):  # adding to it would mix two id schemes
            NewsSearch.build(folder, records[:10], dense=dense, recreate=False)
    cfg["format"] = FORMAT_VERSION + 1
    (folder / CONFIG_FILE).write_text(json.dumps(cfg), encoding="utf-8")
    with pytest.raises(SearchInputError, match="더 새로운 형식"):
        NewsSearch.open(folder, dense=dense)
    with NewsSearch.build(folder, records[:10], dense=dense) as rebuilt:  # what the message says to do
        assert rebuilt.count() == 10
    with NewsSearch.open(folder, dense=dense) as reopened:
        assert reopened.count() == 10


def test_reopen_with_another_model_is_refused(tmp_path, records, dense) -> None:
    folder = tmp_path / "mismatch"
    NewsSearch.build(folder, records[:10], dense=dense).close()
    with pytest.raises(SearchInputError, match="다시 색인"):
        NewsSearch.open(folder, dense=load_model("en_dense", profile="offline", verbose=False))


def test_bad_inputs(tmp_path, system, dense) -> None:
    with pytest.raises(SearchInputError, match="빈 코퍼스"):
        NewsSearch.build(tmp_path / "empty", [], dense=dense)
    with pytest.raises(SearchInputError, match="build"):
        NewsSearch.open(tmp_path / "nothing-here", dense=dense)
    with pytest.raises(SearchInputError, match="빈 질의"):
        system.search("   ")
    with pytest.raises(SearchInputError):
        system.search("가격", date_from="yesterday")
    with pytest.raises(SearchInputError, match="k="):
        system.search("가격", k=10_000)
