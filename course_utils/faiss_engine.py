"""FAISS indexes, their measured trade-offs, and a semantic search engine over ``datasets`` + FAISS (chapter 03).

Three layers, each usable alone:

- :func:`make_index` / :func:`build_index`: the course's four index types (``flat``, ``ivf``, ``hnsw``, ``ivfpq``)
  with the metric spelled out. For cosine similarity use ``metric="ip"`` (inner product) on L2-normalised vectors;
  FAISS's and ``datasets``' default is L2, whose scores are *squared distances* (lower is closer, ``2 - 2cos`` for
  unit vectors).
- :func:`benchmark_indexes`: build time, index size, per-query latency and recall@k against exact search, measured
  side by side on the same vectors (what ``benchmarks/faiss_index_table.py`` prints).
- :class:`SemanticSearchEngine`: index documents into a ``datasets.Dataset`` with a FAISS index, search, save, load.
  It follows the search contract of every course engine (:mod:`course_utils.results`): ``search(query, k=10) ->
  list[Hit]``, ``search_batch``, ``run(queries, k=10) -> {query_id: {doc_id: score}}``.

Exact search (the recall truth) and recall@k are :func:`course_utils.measure.exact_search` and
:func:`course_utils.measure.recall_at_k` (``recall_at_k`` is importable from here as before).

>>> engine = SemanticSearchEngine(load_model("ko_dense"), index_type="hnsw")   # doctest: +SKIP
>>> engine.index_documents(records, text_field="text")                         # doctest: +SKIP
>>> engine.search("전기차 배터리", k=3)   # [Hit(doc_id='...', score=0.87), ...]   # doctest: +SKIP
"""
from __future__ import annotations

import inspect
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .checks import EMPTY_CORPUS, as_matrix, check_dim, check_k, check_pair, check_queries, check_query
from .embed_cache import encode_cached
from .errors import DataError, SearchInputError
from . import measure
from .measure import recall_at_k
from .results import Hit

__all__ = [
    "INDEX_TYPES", "METRICS", "IndexConfig", "make_index", "build_index", "set_search_params", "index_nbytes",
    "default_nlist", "default_pq", "recall_at_k", "benchmark_indexes", "DEFAULT_SWEEP",
    "SemanticSearchEngine",
]

INDEX_TYPES: tuple[str, ...] = ("flat", "ivf", "hnsw", "ivfpq")
"""``flat`` exact search; ``ivf`` inverted lists (k-means cells, needs training); ``hnsw`` a navigable graph (no
training); ``ivfpq`` inverted lists with product-quantised codes (needs training, smallest)."""
METRICS: tuple[str, ...] = ("ip", "l2")
MIN_POINTS_PER_CENTROID = 39
"""FAISS's k-means wants at least 39 training points per centroid (it prints a warning below that)."""


def _faiss():  # type: ignore[no-untyped-def]
    import faiss  # brings its own OpenMP runtime: loaded on first use, not when the module is imported

    return faiss


def _metric(metric: str) -> int:
    faiss = _faiss()
    if metric not in METRICS:
        raise SearchInputError(f"metric={metric!r}: 'ip'(내적, 정규화된 벡터면 코사인) 또는 'l2' 를 쓰세요.")
    return faiss.METRIC_INNER_PRODUCT if metric == "ip" else faiss.METRIC_L2


def _check_type(index_type: str) -> None:
    if index_type not in INDEX_TYPES:
        raise SearchInputError(
            f"알 수 없는 인덱스 종류 {index_type!r}. 쓸 수 있는 종류: {', '.join(INDEX_TYPES)} "
            "(flat=정확 검색, ivf=클러스터, hnsw=그래프, ivfpq=클러스터+압축)."
        )


def _quiet_datasets() -> None:
    """``datasets`` draws progress bars for map/save/add_faiss_index; the engine keeps notebooks' outputs clean."""
    import datasets  # heavy (pyarrow, pandas): only the search engine needs it

    datasets.disable_progress_bars()


def default_nlist(n: int) -> int:
    """IVF cells: ``4 * sqrt(n)`` (a common FAISS rule of thumb), capped so each cell gets >= 39 training points."""
    return max(1, min(int(4 * math.sqrt(n)), n // MIN_POINTS_PER_CENTROID))


def default_pq(dim: int, n: int) -> tuple[int, int]:
    """``(m, nbits)`` for product quantisation: 8 dimensions per sub-quantiser, 8 bits when there are enough
    training points (256 x 39), fewer bits for small sets so k-means is not starved."""
    m = max(d for d in range(1, dim + 1) if dim % d == 0 and d <= max(1, dim // 8))
    nbits = 8
    while nbits > 1 and n < (2 ** nbits) * MIN_POINTS_PER_CENTROID:
        nbits -= 1
    return m, nbits


@dataclass(frozen=True)
class IndexConfig:
    """What :func:`make_index` built, in words and numbers."""

    index_type: str
    metric: str
    dim: int
    params: dict = field(default_factory=dict, hash=False, compare=False)

    def label(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.index_type}({inner})" if inner else self.index_type


def make_index(dim: int, index_type: str = "flat", *, metric: str = "ip", n_train: int | None = None,
               nlist: int | None = None, hnsw_m: int = 32, ef_construction: int = 40, pq_m: int | None = None,
               pq_nbits: int | None = None):  # type: ignore[no-untyped-def]
    """An empty FAISS index and its :class:`IndexConfig`.

    ``n_train`` (the number of vectors it will be trained on) sets the defaults of ``nlist`` and ``pq_nbits``;
    ``ivf``/``ivfpq`` must then be trained (``index.train(x)``) before ``add``.
    """
    faiss = _faiss()
    _check_type(index_type)
    if not isinstance(dim, (int, np.integer)) or dim < 1:
        raise SearchInputError(f"dim={dim!r}: 1 이상의 정수여야 합니다.")
    mt = _metric(metric)
    params: dict[str, Any] = {}
    if index_type == "flat":
        index = faiss.IndexFlat(dim, mt)
    elif index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, mt)
        index.hnsw.efConstruction = ef_construction
        params = {"M": hnsw_m, "efConstruction": ef_construction}
    else:
        n = n_train or 0
        nlist = nlist or default_nlist(max(n, 1))
        if n and n < nlist * MIN_POINTS_PER_CENTROID:
            raise SearchInputError(
                f"IVF nlist={nlist} 에는 학습 벡터가 {nlist * MIN_POINTS_PER_CENTROID}개 이상 필요합니다(지금 {n}개). "
                "nlist 를 줄이거나, 문서가 이렇게 적으면 flat(정확 검색) 또는 hnsw 를 쓰세요.")
        quantizer = faiss.IndexFlat(dim, mt)
        if index_type == "ivf":
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, mt)
            params = {"nlist": nlist}
        else:
            m_def, nbits_def = default_pq(dim, max(n, 1))
            m = pq_m or m_def
            nbits = pq_nbits or nbits_def
            if dim % m:
                raise SearchInputError(f"PQ m={m} 는 차원 {dim} 의 약수여야 합니다.")
            if n and n < (2 ** nbits) * MIN_POINTS_PER_CENTROID:
                raise SearchInputError(
                    f"PQ nbits={nbits} 의 코드북 학습에는 벡터가 {(2 ** nbits) * MIN_POINTS_PER_CENTROID}개 이상 필요합니다"
                    f"(지금 {n}개). pq_nbits 를 줄이거나, 문서가 이렇게 적으면 flat 또는 hnsw 를 쓰세요.")
            index = faiss.IndexIVFPQ(quantizer, dim, nlist, m, nbits, mt)
            params = {"nlist": nlist, "m": m, "nbits": nbits}
    return index, IndexConfig(index_type, metric, int(dim), params)


def build_index(vectors: Any, index_type: str = "flat", *, metric: str = "ip", **kw: Any):  # type: ignore[no-untyped-def]
    """Make, train (where needed) and fill an index with ``vectors``; returns ``(index, config)``."""
    x = as_matrix(vectors, "벡터")
    index, cfg = make_index(x.shape[1], index_type, metric=metric, n_train=x.shape[0], **kw)
    if not index.is_trained:
        index.train(x)
    index.add(x)
    return index, cfg


def set_search_params(index: Any, *, nprobe: int | None = None, ef_search: int | None = None) -> None:
    """``nprobe`` (IVF cells visited) or ``efSearch`` (HNSW candidate list): the speed/recall dial."""
    faiss = _faiss()
    if nprobe is not None:
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = int(nprobe)
    if ef_search is not None:
        faiss.downcast_index(index).hnsw.efSearch = int(ef_search)


def index_nbytes(index: Any) -> int:
    """Size of the serialised index in bytes (vectors or codes + the structure: graph links, centroids)."""
    return int(_faiss().serialize_index(index).size)


DEFAULT_SWEEP: tuple[tuple[str, dict, dict], ...] = (
    ("flat", {}, {}),
    ("ivf", {}, {"nprobe": 1}), ("ivf", {}, {"nprobe": 4}), ("ivf", {}, {"nprobe": 16}), ("ivf", {}, {"nprobe": 64}),
    ("hnsw", {}, {"ef_search": 16}), ("hnsw", {}, {"ef_search": 32}), ("hnsw", {}, {"ef_search": 64}),
    ("hnsw", {}, {"ef_search": 128}),
    ("ivfpq", {}, {"nprobe": 4}), ("ivfpq", {}, {"nprobe": 16}), ("ivfpq", {}, {"nprobe": 64}),
)
"""(index type, build parameters, search parameters) rows of the course's index table."""


def benchmark_indexes(base: Any, queries: Any, *, k: int = 10, sweep: Iterable[tuple[str, dict, dict]] = DEFAULT_SWEEP,
                      metric: str = "ip", threads: int | None = 1, repeats: int = 1):  # type: ignore[no-untyped-def]
    """Measure each ``(index type, build params, search params)`` of ``sweep`` on the same vectors.

    Returns a pandas DataFrame with one row per setting: ``index``, ``params``, ``build_s`` (train + add),
    ``size_mb`` (serialised index), ``ms_per_query`` (one query at a time, mean over the queries and ``repeats``),
    ``recall@k`` against exact (flat) search. An index is built once per (type, build params) and re-used for
    its search settings. ``threads`` sets FAISS's OpenMP threads for the whole measurement (restored after).
    """
    import pandas as pd  # heavy: only the table needs it

    faiss = _faiss()
    q, x = check_pair(queries, base)
    k = check_k(k, x.shape[0])
    before = faiss.omp_get_max_threads()
    if threads:
        faiss.omp_set_num_threads(int(threads))
    try:
        truth, _ = measure.exact_search(q, x, k, metric=metric)
        built: dict[tuple[str, str], tuple[Any, IndexConfig, float]] = {}
        rows = []
        for index_type, build_kw, search_kw in sweep:
            key = (index_type, json.dumps(build_kw, sort_keys=True))
            if key not in built:
                t0 = time.perf_counter()
                index, cfg = build_index(x, index_type, metric=metric, **build_kw)
                built[key] = (index, cfg, time.perf_counter() - t0)
            index, cfg, build_s = built[key]
            set_search_params(index, **search_kw)
            found = np.empty((q.shape[0], k), dtype=np.int64)
            t0 = time.perf_counter()
            for _ in range(repeats):
                for i in range(q.shape[0]):
                    _, found[i:i + 1] = index.search(q[i:i + 1], k)
            ms = (time.perf_counter() - t0) * 1000 / (q.shape[0] * repeats)
            search_txt = ", ".join(f"{'efSearch' if a == 'ef_search' else a}={b}" for a, b in search_kw.items())
            rows.append({
                "index": cfg.label(), "search": search_txt or "-", "build_s": build_s,
                "size_mb": index_nbytes(index) / 1e6, "ms_per_query": ms, f"recall@{k}": recall_at_k(found, truth, k),
            })
    finally:
        faiss.omp_set_num_threads(before)
    table = pd.DataFrame(rows)
    table.attrs.update({"n_base": int(x.shape[0]), "n_queries": int(q.shape[0]), "dim": int(x.shape[1]),
                        "threads": threads or before, "metric": metric, "k": k})
    return table


# ------------------------------------------------------------------------------------------ search engine


class SemanticSearchEngine:
    """Semantic search over a ``datasets.Dataset`` with a FAISS index (``add_faiss_index``/``get_nearest_examples``).

    ``encoder`` is a :class:`~course_utils.models.DenseEncoder` (or anything with ``encode_queries`` and
    ``encode_documents`` returning L2-normalised ``(n, dim)`` arrays). Scores are inner products of normalised
    vectors, i.e. cosine similarities (higher is closer), for every ``index_type``.

    Results are :class:`~course_utils.results.Hit` objects: ``doc_id`` is the row's ``id_field`` (``"_id"``; the
    row number when the documents have no such field), ``payload`` the row's other fields.

    Indexing embeds the documents shortest first (by token count when the encoder's tokenizer is reachable, by
    characters otherwise) in batches of ``batch_size``, so each batch pads to nearly its own length; the vectors are
    the same as one ``encode_documents`` call over the list, returned in the documents' order.

    >>> engine = SemanticSearchEngine(encoder, index_type="ivf")             # doctest: +SKIP
    >>> engine.index_documents([{"_id": "d1", "text": "..."}, ...])           # doctest: +SKIP
    >>> engine.search("질의", k=3)   # [Hit(doc_id='d1', score=0.87), ...]; hit.payload["text"]  # doctest: +SKIP
    >>> engine.save(work_dir("engine")); SemanticSearchEngine.load(work_dir("engine"), encoder)  # doctest: +SKIP
    """

    COLUMN = "embeddings"
    INDEX_FILE = "index.faiss"
    DATASET_DIR = "dataset"
    CONFIG_FILE = "engine.json"

    def __init__(self, encoder: Any, *, index_type: str = "flat", text_field: str = "text", id_field: str = "_id",
                 index_params: Mapping[str, Any] | None = None, use_cache: bool = False,
                 batch_size: int = 16) -> None:
        _check_type(index_type)
        for name in ("encode_queries", "encode_documents"):
            if not callable(getattr(encoder, name, None)):
                raise SearchInputError(f"encoder 에 {name}() 메서드가 없습니다. load_model('ko_dense') 같은 dense 인코더를 넘기세요.")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise SearchInputError(f"batch_size={batch_size!r}: 1 이상의 정수여야 합니다.")
        self.encoder = encoder
        self.index_type = index_type
        self.text_field = text_field
        self.id_field = id_field
        self.index_params = dict(index_params or {})
        self.use_cache = use_cache
        self.batch_size = batch_size
        self.dataset = None
        self.config: IndexConfig | None = None

    # -------------------------------------------------------------- helpers
    @property
    def model_id(self) -> str:
        spec = getattr(self.encoder, "spec", None)
        return str(getattr(spec, "model_id", type(self.encoder).__name__))

    def __len__(self) -> int:
        return 0 if self.dataset is None else len(self.dataset)

    def __repr__(self) -> str:
        what = self.config.label() if self.config else self.index_type
        return f"SemanticSearchEngine(model={self.model_id!r}, index={what}, documents={len(self)})"

    def _require_index(self) -> None:
        if self.dataset is None:
            raise SearchInputError("아직 색인된 문서가 없습니다: 먼저 index_documents(...) 또는 load(...) 를 호출하세요.")

    @property
    def dim(self) -> int:
        self._require_index()
        return int(self.faiss_index.d)

    @property
    def faiss_index(self):  # type: ignore[no-untyped-def]
        """The FAISS index object inside the dataset (for ``nprobe``/``efSearch`` and inspection)."""
        self._require_index()
        return self.dataset.get_index(self.COLUMN).faiss_index  # type: ignore[union-attr]

    def _embed_documents(self, texts: list[str]) -> np.ndarray:
        """Passage vectors of ``texts`` in their order: through the disk cache (``use_cache``), else shortest
        first in batches of ``batch_size``."""
        if self.use_cache and hasattr(self.encoder, "spec"):
            return encode_cached(self.encoder, texts, kind="passage")
        order = _length_order(self.encoder, texts)
        kw = {"batch_size": self.batch_size} if _takes_batch_size(self.encoder.encode_documents) else {}
        out: np.ndarray | None = None
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            vecs = np.asarray(self.encoder.encode_documents([texts[i] for i in rows], **kw), dtype=np.float32)
            if out is None:
                out = np.empty((len(texts),) + vecs.shape[1:], dtype=np.float32)
            out[rows] = vecs
        assert out is not None
        return out

    # -------------------------------------------------------------- index
    def index_documents(self, documents: Any, *, text_field: str | None = None, embeddings: Any = None):  # type: ignore[no-untyped-def]
        """Embed ``documents`` (a list of dicts or a ``datasets.Dataset``) and build the FAISS index.

        Pass ``embeddings`` (``(n, dim)``, same order) to skip embedding, e.g. vectors from
        :func:`course_utils.embed_cache.encode_cached`. Returns the indexed dataset.
        """
        from datasets import Dataset  # heavy (pyarrow, pandas): only the search engine needs it

        _quiet_datasets()
        field_name = text_field or self.text_field
        if isinstance(documents, Dataset):
            ds = documents
        else:
            docs = list(documents or [])
            if not docs:
                raise SearchInputError(EMPTY_CORPUS)
            if not all(isinstance(d, Mapping) for d in docs):
                raise SearchInputError("문서는 dict 여야 합니다 (예: {'_id': 'd1', 'text': '...'}).")
            ds = Dataset.from_list([dict(d) for d in docs])
        if len(ds) == 0:
            raise SearchInputError(EMPTY_CORPUS)
        if field_name not in ds.column_names:
            raise SearchInputError(f"문서에 텍스트 필드 {field_name!r} 가 없습니다. 있는 필드: {ds.column_names}. "
                                   "text_field= 로 지정하세요.")
        texts = ds[field_name]
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
        if bad:
            raise SearchInputError(f"{len(bad)}개 문서의 {field_name!r} 가 비어 있습니다 (첫 위치: {bad[0]}).")
        if self.COLUMN in ds.column_names:
            ds = ds.remove_columns(self.COLUMN)
        vectors = self._embed_documents(texts) if embeddings is None else embeddings
        x = as_matrix(vectors, "임베딩")
        if x.shape[0] != len(ds):
            raise SearchInputError(f"임베딩 {x.shape[0]}개와 문서 {len(ds)}개의 수가 다릅니다.")
        enc_dim = getattr(getattr(self.encoder, "spec", None), "dim", None)
        if enc_dim:
            check_dim(x.shape[1], enc_dim, what="임베딩", against=f"인코더 {self.model_id} 의")
        x = x.copy()
        _faiss().normalize_L2(x)  # cosine = inner product of unit vectors
        ds = ds.add_column(self.COLUMN, list(x))
        index, cfg = make_index(x.shape[1], self.index_type, metric="ip", n_train=len(ds), **self.index_params)
        ds.add_faiss_index(column=self.COLUMN, custom_index=index,
                           train_size=None if index.is_trained else len(ds), faiss_verbose=False)
        self.dataset, self.config = ds, cfg
        return ds

    def set_search_params(self, *, nprobe: int | None = None, ef_search: int | None = None) -> None:
        """Speed/recall dial of approximate indexes (``nprobe`` for ivf/ivfpq, ``ef_search`` for hnsw)."""
        if nprobe is not None and self.index_type not in ("ivf", "ivfpq"):
            raise SearchInputError(f"nprobe 는 ivf/ivfpq 인덱스에만 있습니다 (지금 {self.index_type}).")
        if ef_search is not None and self.index_type != "hnsw":
            raise SearchInputError(f"ef_search 는 hnsw 인덱스에만 있습니다 (지금 {self.index_type}).")
        set_search_params(self.faiss_index, nprobe=nprobe, ef_search=ef_search)

    # -------------------------------------------------------------- search
    def _check_k(self, k: int) -> int:
        self._require_index()
        return check_k(k, len(self), where="색인된 ")

    def _query_vectors(self, queries: Sequence[str]) -> np.ndarray:
        qs = check_queries(queries)
        qv = as_matrix(self.encoder.encode_queries(qs), "질의 벡터").copy()
        check_dim(qv.shape[1], self.dim, what="질의 벡터", against="인덱스의",
                  hint="색인할 때와 같은 모델로 질의를 인코딩하세요.")
        _faiss().normalize_L2(qv)
        return qv

    def _hits(self, scores: np.ndarray, ids: np.ndarray) -> list[Hit]:
        keep = [(float(s), int(i)) for s, i in zip(scores, ids) if i >= 0]
        if not keep:
            return []
        ds = self.dataset  # type: ignore[union-attr]
        rows = ds.select_columns([c for c in ds.column_names if c != self.COLUMN])[[i for _, i in keep]]
        has_id = self.id_field in rows
        out = []
        for n, (score, i) in enumerate(keep):
            payload = {c: rows[c][n] for c in rows}
            out.append(Hit(payload[self.id_field] if has_id else i, score, payload))
        return out

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """Top-``k`` documents for ``query``, best first: :class:`Hit` with the cosine ``score`` and the row's
        fields as ``payload``."""
        check_query(query)
        return self.search_batch([query], k=k)[0]

    def search_batch(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """:meth:`search` for many queries at once (one encoder call, one FAISS call)."""
        k = self._check_k(k)
        qv = self._query_vectors(queries)
        res = self.dataset.search_batch(self.COLUMN, qv, k=k)  # type: ignore[union-attr]
        return [self._hits(np.asarray(s), np.asarray(i)) for s, i in zip(res.total_scores, res.total_indices)]

    def run(self, queries: Mapping[str, str], k: int = 10, id_field: str | None = None) -> dict[str, dict[str, float]]:
        """A ranx-style run ``{query_id: {doc_id: score}}`` for ``{query_id: text}`` (for course_utils.evaluation).

        ``id_field`` (default: the engine's ``id_field``) names the column that holds the document ids.
        """
        self._require_index()
        field_name = id_field or self.id_field
        if field_name not in self.dataset.column_names:  # type: ignore[union-attr]
            raise SearchInputError(f"id 필드 {field_name!r} 가 없습니다. 있는 필드: {self.dataset.column_names}.")  # type: ignore[union-attr]
        qids = list(queries)
        hits = self.search_batch([queries[q] for q in qids], k=k)
        return {q: {h.payload[field_name]: h.score for h in hs} for q, hs in zip(qids, hits)}

    # -------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``index.faiss`` (``save_faiss_index``), ``dataset/`` (``save_to_disk``) and ``engine.json`` into
        folder ``path`` (replaced atomically if it exists)."""
        self._require_index()
        _quiet_datasets()
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        ds = self.dataset
        ds.save_faiss_index(self.COLUMN, str(tmp / self.INDEX_FILE))  # type: ignore[union-attr]
        ds.drop_index(self.COLUMN)  # type: ignore[union-attr]  # save_to_disk refuses datasets with attached indexes
        try:
            ds.save_to_disk(str(tmp / self.DATASET_DIR))  # type: ignore[union-attr]
        finally:
            ds.load_faiss_index(self.COLUMN, str(tmp / self.INDEX_FILE))  # type: ignore[union-attr]  # re-attach
        cfg = {"model_id": self.model_id, "index_type": self.index_type, "text_field": self.text_field,
               "id_field": self.id_field, "index_params": self.index_params, "config": self.config.params if self.config else {},
               "dim": self.dim, "documents": len(self), "metric": "ip"}
        (tmp / self.CONFIG_FILE).write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")
        if target.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
            target.rename(trash / "old")
            shutil.rmtree(trash, ignore_errors=True)
        tmp.rename(target)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str], encoder: Any) -> "SemanticSearchEngine":
        """Rebuild an engine saved by :meth:`save` (``load_from_disk`` + ``load_faiss_index``)."""
        from datasets import load_from_disk  # heavy (pyarrow, pandas): only the search engine needs it

        _quiet_datasets()
        folder = Path(path)
        needed = [folder / cls.CONFIG_FILE, folder / cls.INDEX_FILE, folder / cls.DATASET_DIR]
        missing = [p.name for p in needed if not p.exists()]
        if missing:
            raise DataError(f"저장된 엔진이 아닙니다: {folder.name}/ 에 {missing} 가 없습니다. 먼저 engine.save(path) 를 호출하세요.")
        cfg = json.loads((folder / cls.CONFIG_FILE).read_text(encoding="utf-8"))
        engine = cls(encoder, index_type=cfg["index_type"], text_field=cfg["text_field"],
                     id_field=cfg.get("id_field", "_id"), index_params=cfg.get("index_params"))
        if engine.model_id != cfg["model_id"]:
            raise SearchInputError(
                f"이 인덱스는 {cfg['model_id']} 로 만들었는데 지금 인코더는 {engine.model_id} 입니다. "
                "모델이 다르면 벡터 공간이 달라 검색이 무의미합니다: 같은 모델을 넘기세요.")
        ds = load_from_disk(str(folder / cls.DATASET_DIR))
        ds.load_faiss_index(cls.COLUMN, str(folder / cls.INDEX_FILE))
        engine.dataset = ds
        engine.config = IndexConfig(cfg["index_type"], cfg.get("metric", "ip"), int(cfg["dim"]), cfg.get("config", {}))
        return engine


# ------------------------------------------------------------------------------------------ indexing order


def _length_order(encoder: Any, texts: Sequence[str]) -> np.ndarray:
    """Positions of ``texts`` shortest first (stable): by token count when the encoder's Hugging Face tokenizer is
    reachable (``encoder.model.tokenizer``, as sentence-transformers models have it), else by characters."""
    model = getattr(encoder, "model", None)
    tokenizer = getattr(model, "tokenizer", None)
    lengths: list[int] | None = None
    if callable(tokenizer):
        limit = getattr(model, "max_seq_length", None) or 512
        try:
            ids = tokenizer(list(texts), truncation=True, max_length=int(limit))["input_ids"]
            lengths = [len(t) for t in ids]
        except Exception:  # noqa: BLE001 - another kind of tokenizer: fall back to characters
            lengths = None
    if lengths is None:
        lengths = [len(t) for t in texts]
    return np.argsort(np.asarray(lengths), kind="stable")


def _takes_batch_size(fn: Any) -> bool:
    """Whether ``fn`` accepts a ``batch_size`` keyword (course encoders do; a minimal test encoder may not)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "batch_size" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
