"""Load the course benchmarks (BEIR layout) from ``data/`` (chapters 02-11).

Each dataset is a folder with ``corpus.jsonl`` (``_id``, ``title``, ``text``, ``category``, ``date``),
``queries.jsonl`` (``_id``, ``text``, ``type``, ``category``) and ``qrels/<split>.tsv``
(``query-id``, ``corpus-id``, ``score`` with a header line; graded 0/1/2).

>>> corpus = load_corpus("ko_news")          # a datasets.Dataset  # doctest: +SKIP
>>> queries = load_queries("ko_news", split="dev")  # {query_id: Query}  # doctest: +SKIP
>>> qrels = load_qrels("ko_news", "dev")      # {query_id: {doc_id: grade}}  # doctest: +SKIP
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import data_dir
from .errors import DataError

DATASETS = ("ko_news", "en_news")
SPLITS = ("dev", "test")
CORPUS_FIELDS = ("_id", "title", "text", "category", "date")


@dataclass(frozen=True)
class Query:
    """One benchmark query."""

    id: str
    text: str
    type: str
    category: str


def dataset_dir(name: str) -> Path:
    """Folder of dataset ``name`` (``ko_news`` or ``en_news``), with a clear error if it is missing."""
    path = data_dir() / name
    if not path.is_dir():
        known = sorted(p.name for p in data_dir().iterdir() if (p / "corpus.jsonl").exists())
        raise DataError(f"데이터셋 {name!r} 폴더가 없습니다({path}). 있는 데이터셋: {known or '없음'}.")
    return path


def _need(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"파일이 없습니다: {path}. 저장소를 다시 clone 하거나 git checkout -- data/ 로 복구하세요.")
    return path


def _read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    with _need(path).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{n}: JSON 한 줄로 읽을 수 없습니다 ({exc.msg}).") from exc
            missing = [k for k in required if k not in row]
            if missing:
                raise DataError(f"{path}:{n}: 필드 {missing} 가 없습니다 (필요: {list(required)}).")
            rows.append(row)
    if not rows:
        raise DataError(f"{path} 가 비어 있습니다.")
    return rows


def corpus_path(name: str = "ko_news") -> Path:
    return _need(dataset_dir(name) / "corpus.jsonl")


def load_corpus(name: str = "ko_news"):  # type: ignore[no-untyped-def]
    """The corpus as a Hugging Face ``datasets.Dataset`` (via ``load_dataset("json", data_files=...)``)."""
    from datasets import load_dataset

    path = corpus_path(name)
    _read_jsonl(path, CORPUS_FIELDS)  # validate first: datasets' own errors on bad JSON are hard to read
    import datasets as hfds

    hfds.disable_progress_bars()
    ds = load_dataset("json", data_files=str(path), split="train")
    return ds


def load_corpus_records(name: str = "ko_news") -> list[dict[str, Any]]:
    """The corpus as a plain list of dicts (no ``datasets`` needed)."""
    return _read_jsonl(corpus_path(name), CORPUS_FIELDS)


def load_qrels(name: str = "ko_news", split: str = "dev") -> dict[str, dict[str, int]]:
    """Graded judgments ``{query_id: {doc_id: grade}}`` of a split (``dev`` or ``test``)."""
    if split not in SPLITS:
        raise DataError(f"split={split!r}: {SPLITS} 중 하나를 쓰세요.")
    path = _need(dataset_dir(name) / "qrels" / f"{split}.tsv")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if header != ["query-id", "corpus-id", "score"]:
            raise DataError(f"{path}: 첫 줄은 'query-id<TAB>corpus-id<TAB>score' 헤더여야 합니다 (읽은 값: {header}).")
        for n, row in enumerate(reader, 2):
            if len(row) != 3:
                raise DataError(f"{path}:{n}: 탭으로 나뉜 3개 열이 필요합니다 (읽은 값: {row}).")
            try:
                grade = int(row[2])
            except ValueError as exc:
                raise DataError(f"{path}:{n}: score {row[2]!r} 는 정수(0/1/2)여야 합니다.") from exc
            qrels.setdefault(row[0], {})[row[1]] = grade
    return qrels


def load_queries(name: str = "ko_news", split: str | None = None) -> dict[str, Query]:
    """Queries ``{id: Query}``; with ``split`` only those judged in that split's qrels."""
    rows = _read_jsonl(dataset_dir(name) / "queries.jsonl", ("_id", "text", "type"))
    queries = {r["_id"]: Query(r["_id"], r["text"], r["type"], r.get("category", "")) for r in rows}
    if split is None:
        return queries
    keep = load_qrels(name, split)
    return {qid: q for qid, q in queries.items() if qid in keep}


def relevant_only(qrels: dict[str, dict[str, int]], min_grade: int = 1) -> dict[str, dict[str, int]]:
    """Drop listed hard negatives (grade 0): what metric libraries should see as relevant."""
    return {q: {d: g for d, g in docs.items() if g >= min_grade} for q, docs in qrels.items()}
