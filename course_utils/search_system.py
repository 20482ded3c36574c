"""The capstone: a Korean news search system built from the course's parts, saved to a folder, reopened later (chapters 07, 11).

Ingest -> Kiwi BM25 sparse vectors + dense vectors -> one hybrid Qdrant collection on a folder (local mode) or a
server (``QDRANT_URL``) -> search with fusion, filters (category, date) and an optional reranking stage.

>>> system = NewsSearch.build(work_dir("capstone"), load_corpus_records("ko_news"))   # doctest: +SKIP
>>> system.search("전기차 배터리 화재", k=5, category="IT·과학", date_from="2025-01-01")  # doctest: +SKIP
>>> system.close()                                                                    # doctest: +SKIP
>>> system = NewsSearch.open(work_dir("capstone"))   # another process, another day    # doctest: +SKIP

The folder holds Qdrant's storage (``qdrant/``) and ``system.json``: the folder format (:data:`FORMAT_VERSION`),
which dense model built the vectors and the BM25 encoder's settings (its token ids are a stable hash, so no
vocabulary needs saving). Reopening with a different dense model, or a folder saved in an older format (format 1
used other Qdrant point ids), is refused with a clear error instead of returning nonsense.
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
FORMAT_VERSION = 2
"""2: point ids from :func:`course_utils.qdrant_core.point_id` (format 1 used the hybrid engine's own UUID scheme)."""
PAYLOAD_FIELDS = ("title", "category", "date", "text", "doc_id")

__all__ = ["NewsSearch", "Hit", "CONFIG_FILE", "FORMAT_VERSION"]


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
                  "bm25": {"tokenizer": sparse.tokenizer, "k1": sparse.k1, "b": sparse.b, "avg_len": sparse.avg_len}}
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
        sparse = KoreanBM25Encoder(bm["tokenizer"], k1=bm["k1"], b=bm["b"], avg_len=bm["avg_len"])
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

    def search(self, query: str, k: int = 10, *, mode: str = "rrf", category: str | Sequence[str] | None = None,
               date_from: str | None = None, date_to: str | None = None, reranker: Any = None,
               rerank_k: int = 30, prefetch_k: int = 50, **fusion: Any) -> list[Hit]:
        """Top-``k`` documents for ``query`` (``mode``: dense, sparse, rrf or dbsf), optionally filtered/reranked.

        ``fusion``: ``rrf_k`` / ``rrf_weights`` for ``mode="rrf"`` (see :meth:`HybridEngine.search`).
        """
        check_query(query)
        where = build_filter(self.where(category, date_from, date_to), known_fields=PAYLOAD_FIELDS)
        dense = self.dense.encode_queries([query])[0] if mode in ("dense", "rrf", "dbsf") else None
        sparse = self.sparse.encode_query(query) if mode in ("sparse", "rrf", "dbsf") else None
        return self.engine.search(dense=dense, sparse=sparse, text=query, mode=mode, k=k, prefetch_k=prefetch_k,
                                  reranker=reranker, rerank_k=rerank_k if reranker is not None else None,
                                  where=where, **fusion)

    def run(self, queries: Mapping[str, str], k: int = 10, *, mode: str = "rrf", reranker: Any = None,
            rerank_k: int = 30, **fusion: Any) -> dict[str, dict[str, float]]:
        """``{query_id: {doc_id: score}}`` for evaluation (queries encoded in one batch)."""
        qids = list(queries)
        texts = [queries[q] for q in qids]
        dense = self.dense.encode_queries(texts) if mode in ("dense", "rrf", "dbsf") else [None] * len(qids)
        sparse = self.sparse.encode_queries(texts) if mode in ("sparse", "rrf", "dbsf") else [None] * len(qids)
        vecs = {q: QueryVectors(dense=dense[i], sparse=sparse[i], text=texts[i]) for i, q in enumerate(qids)}
        kw: dict[str, Any] = {"mode": mode, **fusion}
        if reranker is not None:
            kw.update(reranker=reranker, rerank_k=rerank_k)
        return self.engine.run(vecs, k, **kw)

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
