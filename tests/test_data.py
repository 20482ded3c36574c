"""The course benchmarks: schema, ids, judgments, splits, Unicode; loaders and their errors."""
from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from course_utils import data
from course_utils.errors import DataError

REPO = Path(__file__).resolve().parent.parent
KO_TYPES = {"keyword", "semantic", "mixed", "morph", "english"}
KO_CATEGORIES = {"경제", "IT·과학", "스포츠", "건강·의학", "문화", "정치·법", "사회", "환경·날씨", "여행", "음식"}


@pytest.fixture(scope="module", params=data.DATASETS)
def dataset(request):
    name = request.param
    docs = data.load_corpus_records(name)
    queries = data.load_queries(name)
    qrels = {s: data.load_qrels(name, s) for s in data.SPLITS}
    return name, docs, queries, qrels


def test_sizes_and_categories() -> None:
    ko = data.load_corpus_records("ko_news")
    assert len(ko) >= 600 and {d["category"] for d in ko} == KO_CATEGORIES
    assert len(data.load_queries("ko_news")) >= 150
    assert len(data.load_corpus_records("en_news")) >= 200 and len(data.load_queries("en_news")) >= 40


def test_schema_unique_ids_nfc_no_empty_text(dataset) -> None:
    name, docs, queries, _ = dataset
    ids = [d["_id"] for d in docs]
    assert len(ids) == len(set(ids))
    for d in docs:
        assert set(data.CORPUS_FIELDS) <= set(d)
        assert d["title"].strip() and d["text"].strip(), d["_id"]
        assert len(d["date"]) == 10 and d["date"][:2] == "20"
        for field in ("title", "text"):
            assert unicodedata.is_normalized("NFC", d[field]), d["_id"]
    for q in queries.values():
        assert q.text.strip() and unicodedata.is_normalized("NFC", q.text)


def test_qrels_are_graded_point_at_real_ids_and_every_query_is_judged(dataset) -> None:
    name, docs, queries, qrels = dataset
    doc_ids = {d["_id"] for d in docs}
    judged = set()
    for split, qr in qrels.items():
        for qid, docs_ in qr.items():
            assert qid in queries, f"{split}: unknown query {qid}"
            assert set(docs_) <= doc_ids, f"{qid}: judged ids not in corpus"
            assert set(docs_.values()) <= {0, 1, 2}
            assert max(docs_.values()) >= 1, f"{qid} has no relevant document"
        judged |= set(qr)
    assert judged == set(queries), "every query is judged in exactly one split"


def test_splits_are_disjoint_and_cover_every_type(dataset) -> None:
    name, _, queries, qrels = dataset
    assert not set(qrels["dev"]) & set(qrels["test"])
    for split in data.SPLITS:
        assert {queries[q].type for q in qrels[split]} == {q.type for q in queries.values()}


def test_korean_query_types_are_labelled() -> None:
    queries = data.load_queries("ko_news")
    counts = Counter(q.type for q in queries.values())
    assert set(counts) == KO_TYPES and min(counts.values()) >= 10


def test_built_files_match_the_sources() -> None:
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "build_data.py"), "--check"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_load_corpus_through_datasets() -> None:
    ds = data.load_corpus("ko_news")
    assert ds.num_rows == len(data.load_corpus_records("ko_news"))
    assert set(data.CORPUS_FIELDS) <= set(ds.column_names)


def test_relevant_only_drops_hard_negatives() -> None:
    qrels = data.load_qrels("ko_news", "dev")
    rel = data.relevant_only(qrels)
    assert all(g >= 1 for docs in rel.values() for g in docs.values())
    assert sum(map(len, rel.values())) < sum(map(len, qrels.values()))  # the data has listed hard negatives


# ------------------------------------------------------------------------------------------- errors


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    root = tmp_path / "data"
    (root / "tiny" / "qrels").mkdir(parents=True)
    monkeypatch.setenv("COURSE_DATA_DIR", str(root))
    return root / "tiny"


def test_missing_dataset_lists_what_exists(fake_data) -> None:
    with pytest.raises(DataError, match="없습니다"):
        data.load_corpus_records("nope")


def test_missing_file_says_how_to_restore(fake_data) -> None:
    with pytest.raises(DataError, match="git checkout"):
        data.load_corpus_records("tiny")


def test_malformed_jsonl_names_the_line(fake_data) -> None:
    (fake_data / "corpus.jsonl").write_text('{"_id": "a", "title": "t", "text": "x", "category": "c", "date": "2025-01-01"}\n{broken\n')
    with pytest.raises(DataError, match=r"corpus.jsonl:2"):
        data.load_corpus_records("tiny")


def test_missing_field_is_named(fake_data) -> None:
    (fake_data / "corpus.jsonl").write_text(json.dumps({"_id": "a", "title": "t"}) + "\n")
    with pytest.raises(DataError, match="text"):
        data.load_corpus_records("tiny")


def test_qrels_header_and_grades_are_checked(fake_data) -> None:
    (fake_data / "qrels" / "dev.tsv").write_text("q\td\ts\n")
    with pytest.raises(DataError, match="헤더"):
        data.load_qrels("tiny", "dev")
    (fake_data / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\thigh\n")
    with pytest.raises(DataError, match="정수"):
        data.load_qrels("tiny", "dev")
    with pytest.raises(DataError, match="split"):
        data.load_qrels("tiny", "train")
