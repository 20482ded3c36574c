"""The capstone: a Korean news search system built from the course's parts, saved to a folder, reopened later (chapters 06, 07, 11).

Ingest -> Kiwi BM25 sparse vectors + dense vectors -> one hybrid Qdrant collection on a folder (local mode) or a
server (``QDRANT_URL``) -> search with fusion, filters (category, date) and an optional reranking stage.

:meth:`NewsSearch.search` and :meth:`NewsSearch.run` use :data:`DEFAULT_PIPELINE` unless told otherwise: the
setting chapter 11 chose on the ko_news **dev** queries (a weighted score sum, ``mode="wsum"``: dense cosine min-max
normalised per query, plus Kiwi BM25 divided by the highest score the query could reach, with weights tuned by
``ranx.optimize_fusion``). A reranking stage is one argument: ``search(query, reranker=...)``.

>>> system = NewsSearch.build(work_dir("capstone"), load_corpus_records("ko_news"))   # doctest: +SKIP
>>> system.search("전기차 배터리 화재", k=5, category="IT·과학", date_from="2025-01-01")  # doctest: +SKIP
>>> system.close()                                                                    # doctest: +SKIP
>>> system = NewsSearch.open(work_dir("capstone"))   # another process, another day    # doctest: +SKIP

The folder holds Qdrant's storage (``qdrant/``) and ``system.json``: the folder format (:data:`FORMAT_VERSION`),
which dense model built the vectors and the BM25 encoder's settings (its token ids are a stable hash, so no
vocabulary needs saving). Reopening with a different dense model, or a folder saved in an older format (format 1
used other Qdrant point ids, format 2 lacked the BM25 document frequencies), is refused with a clear error instead
of returning nonsense.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from .checks import EMPTY_CORPUS, check_query
from .embed_cache import encode_cached
from .errors import SearchInputError
from .hybrid import HybridEngine, QueryVectors
from .models import load_model
from .qdrant_core import Hit, build_filter
from .qdrant_utils import get_client
from .korean_sparse import KoreanBM25Encoder
from .text import passage_text

CONFIG_FILE = "system.json"
FORMAT_VERSION = 3
"""3: ``system.json`` also holds the BM25 document frequencies (the default fusion divides BM25 by the query's
highest reachable score); 2: point ids from :func:`course_utils.qdrant_core.point_id` (format 1 used the hybrid
engine's own UUID scheme)."""
DEFAULT_PIPELINE: dict[str, Any] = {"mode": "wsum", "wsum_weights": (0.45, 0.55), "prefetch_k": 50}
"""What ``search``/``run`` do when no ``mode`` is given: chosen on ko_news dev in chapter 11 (the notebook checks that
its dev sweep picks exactly these weights). ``wsum_weights`` = (dense, BM25)."""
DEFAULT_RERANK_K = 30
PAYLOAD_FIELDS = ("title", "category", "date", "text", "doc_id")

__all__ = ["NewsSearch", "Hit", "CONFIG_FILE", "FORMAT_VERSION", "DEFAULT_PIPELINE"]


@dataclass
class NewsSearch:
    """A hybrid (dense + Kiwi BM25) Korean news search over one Qdrant collection."""

    folder: Path
    engine: HybridEngine
    dense: Any
    sparse: KoreanBM25Encoder
    config: dict[str, Any]

    # ------------------------------------------------------------------ building and opening

    @classmethod
    def build(cls, folder: str | Path, records: Sequence[Mapping[str, Any]], *, dense: Any = None,
              collection: str = "news", recreate: bool = True) -> "NewsSearch":
        """Index ``records`` (dicts with ``_id``, ``title``, ``text``, ``category``, ``date``) into ``folder``."""
        records = list(records)
        if not records:
            raise SearchInputError(EMPTY_CORPUS)
        missing = [k for k in ("_id", "title", "text", "category", "date") if k not in records[0]]
        if missing:
            raise SearchInputError(f"문서에 {missing} 필드가 없습니다 (load_corpus_records 형식이 필요합니다).")
        folder = Path(folder)
        if not recreate and (folder / CONFIG_FILE).is_file():  # adding to a saved index: it must be this format
            _check_format(folder, json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8")).get("format"))
        folder.mkdir(parents=True, exist_ok=True)
        dense = dense or load_model("ko_dense")
        texts = [passage_text(r) for r in records]
        sparse = KoreanBM25Encoder("kiwi").fit(texts)
        dense_vecs = encode_cached(dense, texts, kind="passage")
        client = get_client(folder / "qdrant")
        try:
            engine = HybridEngine(client, collection, dense_dim=int(dense_vecs.shape[1]), sparse=True,
                                  recreate=recreate)
            engine.upsert([r["_id"] for r in records], dense=dense_vecs, sparse=sparse.encode_documents(texts),
                          texts=texts,
                          payloads=[{"title": r["title"], "category": r["category"], "date": r["date"]}
                                    for r in records])
        except Exception:
            client.close()
            raise
        config = {"format": FORMAT_VERSION, "collection": collection, "documents": len(records),
                  "dense_model": dense.spec.model_id, "dense_backend": dense.spec.backend,
                  "dense_profile": dense.profile, "dense_dim": int(dense_vecs.shape[1]),
                  "bm25": {"tokenizer": sparse.tokenizer, "k1": sparse.k1, "b": sparse.b, "avg_len": sparse.avg_len,
                           "n_docs": sparse.n_docs,
                           "doc_freq": {str(t): c for t, c in sorted((sparse.doc_freq or {}).items())}}}
        (folder / CONFIG_FILE).write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
        return cls(folder, engine, dense, sparse, config)

    @classmethod
    def open(cls, folder: str | Path, *, dense: Any = None) -> "NewsSearch":
        """Reopen a system saved by :meth:`build` (in this or another process).

        A folder saved in another format (:data:`FORMAT_VERSION`) is refused: build it again.
        """
        folder = Path(folder)
        cfg_path = folder / CONFIG_FILE
        if not cfg_path.is_file():
            raise SearchInputError(f"{folder.name}/{CONFIG_FILE} 이 없습니다: 먼저 NewsSearch.build(...) 로 색인을 만드세요.")
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
        _check_format(folder, config.get("format"))
        dense = dense or load_model("ko_dense")
        if (dense.spec.model_id, dense.spec.backend) != (config["dense_model"], config["dense_backend"]):
            raise SearchInputError(
                f"이 색인은 {config['dense_model']} ({config['dense_backend']}) 로 만들었는데 지금 모델은 "
                f"{dense.spec.model_id} ({dense.spec.backend}) 입니다. 같은 프로필로 열거나 build 로 다시 색인하세요.")
        bm = config["bm25"]
        sparse = KoreanBM25Encoder(bm["tokenizer"], k1=bm["k1"], b=bm["b"], avg_len=bm["avg_len"],
                                   doc_freq={int(t): c for t, c in bm["doc_freq"].items()}, n_docs=bm["n_docs"])
        client = get_client(folder / "qdrant")
        if not client.collection_exists(config["collection"]):
            client.close()
            raise SearchInputError(f"컬렉션 {config['collection']!r} 이 저장 폴더에 없습니다: build 로 다시 만드세요.")
        try:
            engine = HybridEngine(client, config["collection"], dense_dim=config["dense_dim"], sparse=True)
        except Exception:
            client.close()
            raise
        return cls(folder, engine, dense, sparse, config)

    # ------------------------------------------------------------------ searching

    @staticmethod
    def where(category: str | Sequence[str] | None = None, date_from: str | None = None,
              date_to: str | None = None) -> dict[str, Any] | None:
        """The payload filter for a category (or several) and an inclusive date range (``YYYY-MM-DD``)."""
        where: dict[str, Any] = {}
        if category:
            where["category"] = category if isinstance(category, str) else list(category)
        bounds = {}
        if date_from:
            bounds["gte"] = date_from
        if date_to:
            bounds["lte"] = date_to
        if bounds:
            where["date"] = bounds
        return where or None

    def _settings(self, mode: str | None, fusion: Mapping[str, Any]) -> dict[str, Any]:
        """The search options: :data:`DEFAULT_PIPELINE` when ``mode`` is None (``fusion`` may override its values)."""
        if mode is None:
            return {**DEFAULT_PIPELINE, **fusion}
        return {"mode": mode, **fusion}

    def _vectors(self, texts: Sequence[str], mode: str) -> tuple[list[Any], list[Any], list[float | None]]:
        n = len(texts)
        dense = list(self.dense.encode_queries(list(texts))) if mode in ("dense", "rrf", "dbsf", "wsum") else [None] * n
        sparse = self.sparse.encode_queries(list(texts)) if mode in ("sparse", "rrf", "dbsf", "wsum") else [None] * n
        scale: list[float | None] = [None] * n
        if mode == "wsum":  # a query with no BM25 term has nothing to divide: its (empty) list is min-maxed
            scale = [(self.sparse.max_score(v) or None) for v in sparse]
        return dense, sparse, scale

    def search(self, query: str, k: int = 10, *, mode: str | None = None, category: str | Sequence[str] | None = None,
               date_from: str | None = None, date_to: str | None = None, reranker: Any = None,
               rerank_k: int = DEFAULT_RERANK_K, **fusion: Any) -> list[Hit]:
        """Top-``k`` documents for ``query``, optionally filtered and reranked.

        With no ``mode`` the recommended pipeline :data:`DEFAULT_PIPELINE` runs. ``mode``: dense, sparse, rrf,
        dbsf or wsum; ``fusion``: ``prefetch_k``, ``rrf_k`` / ``rrf_weights`` (rrf), ``wsum_weights`` (wsum; the
        BM25 scale is the query's :meth:`~course_utils.korean_sparse.KoreanBM25Encoder.max_score`), see
        :meth:`HybridEngine.search`. ``reranker``: a cross-encoder (``score(query, documents)``) that re-orders the
        top ``rerank_k`` candidates of that pipeline.
        """
        check_query(query)
        where = build_filter(self.where(category, date_from, date_to), known_fields=PAYLOAD_FIELDS)
        kw = self._settings(mode, fusion)
        dense, sparse, scale = self._vectors([query], kw["mode"])
        if scale[0] is not None:
            kw.setdefault("sparse_scale", scale[0])
        return self.engine.search(dense=dense[0], sparse=sparse[0], text=query, k=k, reranker=reranker,
                                  rerank_k=rerank_k if reranker is not None else None, where=where, **kw)

    def run(self, queries: Mapping[str, str], k: int = 10, *, mode: str | None = None, reranker: Any = None,
            rerank_k: int = DEFAULT_RERANK_K, **fusion: Any) -> dict[str, dict[str, float]]:
        """``{query_id: {doc_id: score}}`` for evaluation (queries encoded in one batch); options as :meth:`search`."""
        qids = list(queries)
        texts = [queries[q] for q in qids]
        kw = self._settings(mode, fusion)
        if reranker is not None:
            kw.update(reranker=reranker, rerank_k=rerank_k)
        dense, sparse, scale = self._vectors(texts, kw["mode"])
        out: dict[str, dict[str, float]] = {}
        for i, qid in enumerate(qids):
            q_kw = dict(kw)
            if scale[i] is not None:
                q_kw.setdefault("sparse_scale", scale[i])
            hits = self.engine.search(QueryVectors(dense=dense[i], sparse=sparse[i], text=texts[i]), k, **q_kw)
            out[qid] = {h.doc_id: h.score for h in hits}
        return out

    def count(self) -> int:
        return self.engine.count()

    def close(self) -> None:
        """Release the folder (local mode locks it while open)."""
        self.engine.close()

    def __enter__(self) -> "NewsSearch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_format(folder: Path, found: Any) -> None:
    """Refuse a folder saved in another format: its Qdrant point ids were made another way."""
    if found == FORMAT_VERSION:
        return
    if isinstance(found, int) and found > FORMAT_VERSION:
        raise SearchInputError(
            f"{folder.name}/ 는 더 새로운 형식(format {found})으로 저장된 색인입니다. 이 course_utils 는 format "
            f"{FORMAT_VERSION} 까지 읽습니다: course_utils 를 업데이트하거나 NewsSearch.build(...) 로 다시 색인하세요.")
    raise SearchInputError(
        f"{folder.name}/ 는 예전 형식(format {found})으로 저장된 색인입니다. 지금 코드(format {FORMAT_VERSION})는 "
        "Qdrant 점 id 를 다른 방식으로 만들기 때문에 이 폴더를 그대로 열면 결과가 틀릴 수 있습니다. "
        "NewsSearch.build(폴더, 문서) 로 다시 색인해 저장한 뒤 여세요.")
