"""A dense search engine on one Qdrant collection (chapter 05): the same code on local mode and on a Qdrant server.

The engine wraps the few qdrant-client calls a search application needs, with the checks a learner needs
(clear Korean errors instead of a stack trace from deep inside the client)::

    from course_utils.qdrant_engine import QdrantEngine

    engine = QdrantEngine("en_news", dim=384)                              # local mode, in memory
    engine = QdrantEngine("en_news", dim=384, path=work_dir("qdrant"))     # local mode, a folder (persists)
    engine = QdrantEngine("en_news", dim=384, url="http://localhost:6333") # a server (or set QDRANT_URL)

    engine.add(doc_ids, vectors, payloads)                  # idempotent upsert, in batches
    hits = engine.search(query_vector, k=5, where={"category": "health", "date": {"gte": "2025-01-01"}})
    hits[0].doc_id, hits[0].score, hits[0].payload          # the caller's document id, not Qdrant's point id
    run = engine.run({"q1": vec1, "q2": vec2}, k=10)        # {query_id: {doc_id: score}} for ranx / evaluation
    engine.count(where={"category": "health"})
    engine.delete(ids=["en_health-001"])                    # or where={...}
    engine.close()                                          # or: with QdrantEngine(...) as engine: ...

What it does for you
--------------------
- **Create or reuse** the collection (:func:`course_utils.qdrant_utils.ensure_collection`): re-running a notebook
  cell reuses it; a collection built with another vector size raises :class:`SearchInputError` (``recreate=True``).
- **Ids, filters, plumbing** come from :mod:`course_utils.qdrant_core`, shared with the hybrid engine of chapters
  06-07: string ids become deterministic UUIDs (:func:`point_id`) and come back as :attr:`Hit.doc_id`; ``where`` is
  the dict language of :func:`build_filter` (a ``models.Filter`` is also accepted), and a field that no point of
  the collection has raises :class:`SearchInputError` (a misspelt field would otherwise match nothing, silently).
- **Text queries**: give ``encoder=`` (a :class:`course_utils.models.DenseEncoder`) and ``search``/``run``/
  ``add_texts`` accept strings; the encoder's query/passage prefixes are applied.
- **Server extras**: ``payload_indexes={"category": "keyword", "date": "datetime"}`` creates payload indexes on a
  server. Local mode has no payload indexes (it would warn and ignore them), so the engine skips them there.

The search contract of every course engine (:mod:`course_utils.results`): ``search(query, k=10, ...) ->
list[Hit]``, ``search_batch(queries, k=10, ...) -> list[list[Hit]]``, ``run(queries, k=10) -> {query_id: {doc_id:
score}}``. ``Hit``, ``build_filter``, ``filter_fields``, ``point_id`` and ``ID_FIELD`` are importable from here as
before; they live in :mod:`course_utils.qdrant_core`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from qdrant_client import models

from .checks import as_matrix, check_queries, check_query, check_same_count, check_texts, check_unique_ids
from .errors import SearchInputError
from .qdrant_core import (
    DISTANCES, ID_FIELD, PAYLOAD_INDEX_TYPES, Hit, QdrantCollection, build_filter, filter_fields, point_id,
)
from .qdrant_core import distance as qdrant_distance
from .qdrant_utils import ensure_collection, get_client

__all__ = ["Hit", "QdrantEngine", "build_filter", "filter_fields", "point_id", "DISTANCES", "PAYLOAD_INDEX_TYPES",
           "ID_FIELD"]

_DIM_HINT = "컬렉션을 만들 때와 같은 모델로 임베딩했는지 확인하세요(다른 모델이면 새 컬렉션이나 recreate=True)."


class QdrantEngine(QdrantCollection):
    """Dense vector search over one Qdrant collection (named vector ``vector_name``), local or server.

    Parameters
    ----------
    collection:
        Collection name. Created if missing (``create=True``), reused if present with the same vector size.
    dim:
        Vector size. May be omitted when ``encoder`` is given (its ``dim``) or the collection already exists.
    encoder:
        Optional :class:`~course_utils.models.DenseEncoder`; lets ``search``/``run`` take strings and enables
        :meth:`add_texts`.
    path, url, api_key:
        Where the data lives: ``url`` (or the ``QDRANT_URL`` environment variable) -> a server; else ``path`` ->
        local mode on that folder; else local mode in memory. Ignored when ``client`` is given.
    local:
        ``True`` keeps the engine in local mode even when ``QDRANT_URL`` is set (see
        :func:`~course_utils.qdrant_utils.get_client`).
    client:
        An open ``QdrantClient`` to use; the engine then does **not** close it in :meth:`close` (its owner does).
    distance:
        ``"cosine"`` (default), ``"dot"``, ``"euclid"`` or ``"manhattan"``; used only when creating.
    vector_name:
        Name of the dense vector in the collection (``"dense"``), so other named vectors can sit beside it.
    create, recreate:
        ``create=False`` raises :class:`SearchInputError` if the collection does not exist. ``recreate=True``
        deletes an existing collection first.
    payload_indexes:
        ``{field: type}`` with types from :data:`PAYLOAD_INDEX_TYPES`; created on a server only.
    """

    WRITE_METHOD = "add"

    def __init__(self, collection: str, dim: int | None = None, *, encoder: Any = None,
                 path: str | Path | None = None, url: str | None = None, api_key: str | None = None,
                 client: Any = None, distance: str = "cosine", vector_name: str = "dense", create: bool = True,
                 recreate: bool = False, payload_indexes: Mapping[str, str] | None = None,
                 local: bool = False) -> None:
        if not isinstance(collection, str) or not collection.strip():
            raise SearchInputError("컬렉션 이름이 비어 있습니다. 예: QdrantEngine('en_news', dim=384)")
        if dim is None and encoder is not None:
            dim = int(encoder.dim)
        if dim is not None and encoder is not None and int(encoder.dim) != int(dim):
            raise SearchInputError(f"dim={dim} 이 인코더 {encoder.name} 의 차원 {encoder.dim} 과 다릅니다.")
        if dim is not None and (isinstance(dim, bool) or int(dim) < 1):
            raise SearchInputError(f"dim 은 1 이상의 정수여야 합니다: {dim!r}")
        if payload_indexes:
            unknown = {f: k for f, k in payload_indexes.items() if k not in PAYLOAD_INDEX_TYPES}
            if unknown:
                raise SearchInputError(
                    f"payload 인덱스 종류 {unknown} 를 알 수 없습니다. 고를 수 있는 값: {list(PAYLOAD_INDEX_TYPES)}")
        metric = qdrant_distance(distance)
        owns = client is None
        super().__init__(client if client is not None else get_client(path, url=url, api_key=api_key, local=local),
                         collection, owns_client=owns)
        self.vector_name = vector_name
        self.encoder = encoder
        self._distance = metric
        try:
            exists = self._call(lambda: self.client.collection_exists(collection))
            if not exists and not create:
                raise SearchInputError(
                    f"컬렉션 {collection!r} 이 없습니다. 있는 컬렉션: {self._collection_names() or '없음'}. "
                    "create=True 로 만들거나 이름을 확인하세요(path= 로 연 폴더가 맞는지도)."
                )
            if dim is None:
                if not exists or recreate:
                    raise SearchInputError(
                        f"컬렉션 {collection!r} 을 만들려면 벡터 차원이 필요합니다: dim=384 처럼 주거나 encoder= 를 주세요."
                    )
                dim = self._existing_dim()
            self.dim = int(dim)
            self.created = ensure_collection(
                self.client, collection, recreate=recreate,
                vectors_config={vector_name: models.VectorParams(size=self.dim, distance=self._distance)},
                **self._collection_kwargs())
            if not self.created:
                self._distance = self._existing_distance()
            if payload_indexes:
                self._create_payload_indexes(payload_indexes)
            self._opened(self.created)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ extension point

    def _collection_kwargs(self) -> dict[str, Any]:
        """Extra ``create_collection`` arguments (a subclass adds e.g. ``sparse_vectors_config``)."""
        return {}

    # ------------------------------------------------------------------ info

    @property
    def distance(self) -> str:
        return str(getattr(self._distance, "value", self._distance)).lower()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"points={self._count}, mode={self.mode}"
        return (f"QdrantEngine(collection={self.collection!r}, dim={getattr(self, 'dim', None)}, "
                f"distance={self.distance}, {state})")

    def __enter__(self) -> "QdrantEngine":
        return self

    # ------------------------------------------------------------------ writing

    def add(self, ids: Sequence[str | int], vectors: Any, payloads: Sequence[Mapping[str, Any]] | None = None, *,
            batch_size: int = 256) -> int:
        """Upsert documents: ``ids[i]`` with ``vectors[i]`` (shape ``(n, dim)``) and ``payloads[i]``.

        Existing ids are overwritten. The document id is stored in the payload as ``doc_id``. Uploads in batches
        of ``batch_size`` with ``upload_points``. Returns the number of points written.
        """
        self._check_open()
        ids = check_unique_ids(ids)
        mat = self._as_matrix(vectors, what="문서 벡터")
        check_same_count(len(ids), "ids", len(mat), "벡터")
        payloads = [{} for _ in ids] if payloads is None else list(payloads)
        check_same_count(len(ids), "ids", len(payloads), "payload")
        points = []
        for doc_id, vec, payload in zip(ids, mat, payloads):
            if not isinstance(payload, Mapping):
                raise SearchInputError(f"payload 는 dict 여야 합니다: {type(payload).__name__} (id={doc_id!r})")
            body = {**payload, ID_FIELD: doc_id}
            points.append(models.PointStruct(id=point_id(doc_id), vector={self.vector_name: vec.tolist()}, payload=body))
        return self._upload(points, {k for p in payloads for k in p}, batch_size=batch_size)

    def add_texts(self, ids: Sequence[str | int], texts: Sequence[str],
                  payloads: Sequence[Mapping[str, Any]] | None = None, *, text_field: str = "text",
                  batch_size: int = 256) -> int:
        """Embed ``texts`` with the engine's encoder (passage side) and :meth:`add` them; the text goes to the
        payload under ``text_field``."""
        enc = self._need_encoder()
        texts = check_texts(texts, "add_texts 의 텍스트 목록", allow_blank=False)
        base = list(payloads) if payloads is not None else [{} for _ in texts]
        check_same_count(len(texts), "texts", len(base), "payload")
        vecs = enc.encode_documents(texts)
        return self.add(ids, vecs, [{**p, text_field: t} for p, t in zip(base, texts)], batch_size=batch_size)

    def delete(self, ids: Sequence[str | int] | None = None, where: Mapping[str, Any] | Any | None = None) -> int:
        """Delete documents by id or by filter (exactly one of the two). Returns how many points are left."""
        self._check_open()
        if (ids is None) == (where is None):
            raise SearchInputError("delete 에는 ids= 또는 where= 중 하나만 주세요.")
        if ids is not None:
            selector: Any = models.PointIdsList(points=[point_id(i) for i in ids])
        else:
            flt = self._filter(where)
            if flt is None:
                raise SearchInputError("빈 where 로 지우면 전부 지워집니다. 컬렉션을 통째로 지우려면 "
                                       "client.delete_collection(...) 을 쓰세요.")
            selector = models.FilterSelector(filter=flt)
        self._call(lambda: self.client.delete(self.collection, points_selector=selector, wait=True))
        return self.count()

    # ------------------------------------------------------------------ reading

    def search(self, query: str | Sequence[float] | np.ndarray, k: int = 10, *,
               where: Mapping[str, Any] | Any | None = None, score_threshold: float | None = None) -> list[Hit]:
        """The ``k`` nearest documents to ``query`` (a vector, or a string when the engine has an encoder),
        optionally only among those matching ``where`` (see :func:`build_filter`). Best first."""
        self._check_open()
        vec = self._query_vector(query)
        k = self._check_k(k)
        flt = self._filter(where)
        res = self._call(lambda: self.client.query_points(
            self.collection, query=vec.tolist(), using=self.vector_name, query_filter=flt, limit=k,
            with_payload=True, score_threshold=score_threshold))
        return self._to_hits(res.points)

    def search_batch(self, queries: Sequence[str] | Any, k: int = 10, *,
                     where: Mapping[str, Any] | Any | None = None) -> list[list[Hit]]:
        """:meth:`search` for many queries in one ``query_batch_points`` call (strings need an encoder)."""
        self._check_open()
        mats = self._query_matrix(queries)
        k = self._check_k(k)
        flt = self._filter(where)
        reqs = [models.QueryRequest(query=v.tolist(), using=self.vector_name, filter=flt, limit=k, with_payload=True)
                for v in mats]
        res = self._call(lambda: self.client.query_batch_points(self.collection, requests=reqs))
        return [self._to_hits(r.points) for r in res]

    def run(self, queries: Mapping[str, Any], k: int = 10, *,
            where: Mapping[str, Any] | Any | None = None) -> dict[str, dict[str, float]]:
        """A run for :mod:`course_utils.evaluation`: ``{query_id: {doc_id: score}}`` from ``{query_id: text|vector}``."""
        if not isinstance(queries, Mapping) or not queries:
            raise SearchInputError("run 에는 {질의 id: 질의} dict 를 주세요(비어 있지 않게).")
        qids = list(queries)
        values = [queries[q] for q in qids]
        if all(isinstance(v, str) for v in values):
            batch: Any = values
        else:
            batch = np.stack([self._query_vector(v) for v in values])
        results = self.search_batch(batch, k=k, where=where)
        return {qid: {h.doc_id: h.score for h in hits} for qid, hits in zip(qids, results)}

    # ------------------------------------------------------------------ helpers

    def _need_encoder(self) -> Any:
        if self.encoder is None:
            raise SearchInputError("문자열 질의·문서를 쓰려면 엔진에 encoder= 를 주세요(예: encoder=load_model('en_dense')). "
                                   "아니면 벡터를 직접 넘기세요.")
        return self.encoder

    def _as_matrix(self, vectors: Any, *, what: str) -> np.ndarray:
        return as_matrix(vectors, what, allow_1d=True, dim=self.dim, against=f"컬렉션 {self.collection!r} 의",
                         hint=_DIM_HINT, nonzero=self.distance == "cosine")

    def _query_vector(self, query: Any) -> np.ndarray:
        if isinstance(query, str):
            check_query(query)
            return np.asarray(self._need_encoder().encode_queries([query])[0], dtype=np.float32)
        mat = self._as_matrix(query, what="질의 벡터")
        if len(mat) != 1:
            raise SearchInputError(f"search 는 질의 하나를 받습니다({len(mat)}개가 들어옴). 여러 개는 search_batch 를 쓰세요.")
        return mat[0]

    def _query_matrix(self, queries: Any) -> np.ndarray:
        if isinstance(queries, np.ndarray):
            return self._as_matrix(queries, what="질의 벡터")
        items = queries if isinstance(queries, str) else list(queries)
        if isinstance(items, str) or all(isinstance(q, str) for q in items):
            texts = check_queries(items)
            return np.asarray(self._need_encoder().encode_queries(texts), dtype=np.float32)
        return self._as_matrix(items, what="질의 벡터")

    def _vector_params(self) -> Any:
        vectors = self._call(lambda: self.client.get_collection(self.collection)).config.params.vectors
        if isinstance(vectors, Mapping):
            if self.vector_name not in vectors:
                raise SearchInputError(
                    f"컬렉션 {self.collection!r} 에 벡터 {self.vector_name!r} 가 없습니다. 있는 벡터: {sorted(vectors)}. "
                    "vector_name= 을 맞추세요."
                )
            return vectors[self.vector_name]
        raise SearchInputError(
            f"컬렉션 {self.collection!r} 은 이름 없는 벡터 하나로 만들어졌습니다. 이 엔진은 이름 있는 벡터"
            f"({self.vector_name!r})를 씁니다: recreate=True 로 다시 만들거나 다른 컬렉션 이름을 쓰세요."
        )

    def _existing_dim(self) -> int:
        return int(self._vector_params().size)

    def _existing_distance(self) -> Any:
        return self._vector_params().distance
