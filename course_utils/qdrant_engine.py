"""A dense search engine on one Qdrant collection: the same code on local mode and on a Qdrant server.

The engine wraps the few qdrant-client calls a search application needs, with the checks a learner needs
(clear Korean errors instead of a stack trace from deep inside the client)::

    from course_utils.qdrant_engine import QdrantEngine

    engine = QdrantEngine("en_news", dim=384)                              # local mode, in memory
    engine = QdrantEngine("en_news", dim=384, path=work_dir("qdrant"))     # local mode, a folder (persists)
    engine = QdrantEngine("en_news", dim=384, url="http://localhost:6333") # a server (or set QDRANT_URL)

    engine.add(doc_ids, vectors, payloads)                  # idempotent upsert, in batches
    hits = engine.search(query_vector, k=5, where={"category": "health", "date": {"gte": "2025-01-01"}})
    hits[0].id, hits[0].score, hits[0].payload              # the caller's document id, not Qdrant's point id
    run = engine.run({"q1": vec1, "q2": vec2}, k=10)        # {query_id: {doc_id: score}} for ranx / evaluation
    engine.count(where={"category": "health"})
    engine.delete(ids=["en_health-001"])                    # or where={...}
    engine.close()                                          # or: with QdrantEngine(...) as engine: ...

What it does for you
--------------------
- **Create or reuse** the collection (:func:`course_utils.qdrant_utils.ensure_collection`): re-running a notebook
  cell reuses it; a collection built with another vector size raises :class:`SearchInputError` (``recreate=True``).
- **Ids**: Qdrant point ids must be unsigned integers or UUIDs. String ids such as ``"en_health-003"`` are mapped to a
  deterministic UUID (:func:`point_id`), and the original id is kept in the payload under ``doc_id``; hits report it.
  Adding the same ids again overwrites those points (upsert), so re-running is safe.
- **Filters**: ``where`` is a small dict language turned into a :class:`qdrant_client.models.Filter` by
  :func:`build_filter` (a ``models.Filter`` is also accepted as is). Unknown operators and bad values raise
  :class:`SearchInputError`, and so does a field that no point of the collection has (a misspelt field would
  otherwise match nothing, silently).
- **Text queries**: give ``encoder=`` (a :class:`course_utils.models.DenseEncoder`) and ``search``/``run``/
  ``add_texts`` accept strings; the encoder's query/passage prefixes are applied.
- **Server extras**: ``payload_indexes={"category": "keyword", "date": "datetime"}`` creates payload indexes on a
  server. Local mode has no payload indexes (it would warn and ignore them), so the engine skips them there.

Extending (chapters 06-07 build a hybrid engine on this class)
---------------------------------------------------------------
A subclass adds named vectors by overriding :meth:`QdrantEngine._collection_kwargs` (extra arguments for
``create_collection``, e.g. ``sparse_vectors_config``) and reuses :meth:`_filter` (``where`` -> checked
``models.Filter``), :meth:`_to_hits` (scored points -> :class:`Hit`), :meth:`_check_k`, :meth:`_query_vector`,
:meth:`_call` (Qdrant "not found" -> :class:`SearchInputError`) and :func:`point_id`. Points written by a subclass
should carry the caller's id in the payload under :data:`ID_FIELD`. The dense vector is the named vector
``vector_name`` (default ``"dense"``).
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

import numpy as np

from .errors import SearchInputError
from .qdrant_utils import client_mode, ensure_collection, get_client

__all__ = ["Hit", "QdrantEngine", "build_filter", "filter_fields", "point_id", "DISTANCES", "PAYLOAD_INDEX_TYPES",
           "ID_FIELD"]

T = TypeVar("T")

ID_FIELD = "doc_id"
"""Payload key that stores the caller's document id (hits report it as :attr:`Hit.id`)."""

DISTANCES = ("cosine", "dot", "euclid", "manhattan")
PAYLOAD_INDEX_TYPES = ("keyword", "integer", "float", "bool", "datetime", "text")
_RANGE_OPS = ("gt", "gte", "lt", "lte")
_OPS = _RANGE_OPS + ("eq", "ne", "in", "not_in")
_NAMESPACE = uuid.UUID("6f1c2f0e-5b8a-4c1e-9a57-0c0ff5e4e11a")  # fixed: the same doc id always maps to the same UUID


@dataclass(frozen=True)
class Hit:
    """One search result: the caller's document ``id``, the similarity ``score`` and the stored ``payload``."""

    id: str | int
    score: float
    payload: dict[str, Any] = field(default_factory=dict, repr=False)


def point_id(doc_id: str | int) -> int | str:
    """The Qdrant point id for a document id: non-negative ints and UUID strings as they are, other strings as a
    deterministic UUID5 (so the same document always lands on the same point)."""
    if isinstance(doc_id, bool):
        raise SearchInputError(f"문서 id 로 bool 은 쓸 수 없습니다: {doc_id!r}. 문자열이나 0 이상의 정수를 쓰세요.")
    if isinstance(doc_id, (int, np.integer)):
        if doc_id < 0:
            raise SearchInputError(f"정수 문서 id 는 0 이상이어야 합니다: {doc_id}. 문자열 id 를 쓰면 UUID 로 바꿔 줍니다.")
        return int(doc_id)
    if isinstance(doc_id, str):
        if not doc_id:
            raise SearchInputError("빈 문자열은 문서 id 가 될 수 없습니다.")
        try:
            return str(uuid.UUID(doc_id))
        except ValueError:
            return str(uuid.uuid5(_NAMESPACE, doc_id))
    raise SearchInputError(f"문서 id 는 str 또는 int 여야 합니다: {type(doc_id).__name__} 가 들어왔습니다.")


# --------------------------------------------------------------------------------------------- filters


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        from datetime import datetime

        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def _check_match_value(key: str, value: Any) -> Any:
    if isinstance(value, (bool, str)) or (isinstance(value, (int, np.integer)) and not isinstance(value, bool)):
        return value.item() if isinstance(value, np.integer) else value
    raise SearchInputError(
        f"필터 {key!r}: 일치 조건에는 문자열·정수·bool 만 쓸 수 있습니다({value!r}, {type(value).__name__}). "
        "실수는 범위로 거르세요: {'" + key + "': {'gte': 0.5}}"
    )


def _match(key: str, value: Any) -> Any:
    from qdrant_client import models

    if isinstance(value, (list, tuple, set)):
        values = [_check_match_value(key, v) for v in value]
        if not values:
            raise SearchInputError(f"필터 {key!r}: 빈 목록은 아무것도 고르지 않습니다. 값을 하나 이상 넣으세요.")
        return models.FieldCondition(key=key, match=models.MatchAny(any=values))
    return models.FieldCondition(key=key, match=models.MatchValue(value=_check_match_value(key, value)))


def _range(key: str, bounds: Mapping[str, Any]) -> Any:
    from qdrant_client import models

    values = list(bounds.values())
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values):
        if any(not math.isfinite(float(v)) for v in values):
            raise SearchInputError(f"필터 {key!r}: 범위 경계에 NaN/inf 는 쓸 수 없습니다.")
        return models.FieldCondition(key=key, range=models.Range(**{k: float(v) for k, v in bounds.items()}))
    if all(_is_date(v) for v in values):
        return models.FieldCondition(key=key, range=models.DatetimeRange(**dict(bounds)))
    raise SearchInputError(
        f"필터 {key!r}: 범위(gt/gte/lt/lte)의 경계는 모두 숫자이거나 모두 ISO 날짜 문자열('2025-01-31')이어야 합니다: "
        f"{dict(bounds)!r}"
    )


def build_filter(where: Mapping[str, Any] | Any | None, known_fields: Iterable[str] | None = None) -> Any:
    """Turn a ``where`` dict into a :class:`qdrant_client.models.Filter` (``None`` -> ``None``).

    Every entry is one condition and all must hold (AND):

    ==========================================  =================================================
    ``{"category": "health"}``                  equals (str, int or bool)
    ``{"category": ["health", "business"]}``    any of (``MatchAny``)
    ``{"year": {"gte": 2024, "lt": 2026}}``     numeric range (``Range``)
    ``{"date": {"gte": "2025-01-01"}}``         date range on ISO strings (``DatetimeRange``)
    ``{"category": {"ne": "health"}}``          not equal (goes to ``must_not``); ``not_in`` takes a list
    ``{"category": {"eq": ...}}``/``{"in": [...]}``  explicit forms of equals / any of
    ==========================================  =================================================

    For OR (``should``) and nested logic pass a ``models.Filter`` instead; it is returned unchanged after its
    field names are checked. With ``known_fields`` (the payload keys of the collection), a field that is not among
    them raises :class:`SearchInputError`: a misspelt field would otherwise match nothing, silently.
    """
    from qdrant_client import models

    known = set(known_fields) if known_fields is not None else None

    def check_key(key: Any) -> str:
        if not isinstance(key, str) or not key:
            raise SearchInputError(f"필터의 필드 이름은 비어 있지 않은 문자열이어야 합니다: {key!r}")
        root = key.split(".")[0].split("[")[0]
        if known is not None and root not in known:
            raise SearchInputError(
                f"필터 필드 {key!r} 가 이 컬렉션의 payload 에 없습니다. 있는 필드: {sorted(known)}. "
                "철자를 확인하세요(없는 필드로 거르면 결과가 조용히 0건이 됩니다)."
            )
        return key

    if where is None:
        return None
    if isinstance(where, models.Filter):
        for part in (where.must, where.should, where.must_not):
            for cond in part if isinstance(part, list) else ([part] if part is not None else []):
                if isinstance(cond, models.FieldCondition):
                    check_key(cond.key)
                elif isinstance(cond, models.Filter):
                    build_filter(cond, known)
        return where
    if not isinstance(where, Mapping):
        raise SearchInputError(
            f"where 는 dict 또는 qdrant_client.models.Filter 여야 합니다: {type(where).__name__} 가 들어왔습니다. "
            "예: where={'category': 'health'}"
        )
    if not where:
        return None
    must: list[Any] = []
    must_not: list[Any] = []
    for key, cond in where.items():
        key = check_key(key)
        if isinstance(cond, Mapping):
            unknown = [op for op in cond if op not in _OPS]
            if unknown or not cond:
                raise SearchInputError(
                    f"필터 {key!r}: 알 수 없는 연산자 {unknown or '(빈 dict)'}. 쓸 수 있는 연산자: {list(_OPS)}"
                )
            bounds = {op: v for op, v in cond.items() if op in _RANGE_OPS}
            if bounds:
                must.append(_range(key, bounds))
            if "eq" in cond:
                must.append(_match(key, cond["eq"]))
            if "in" in cond:
                must.append(_match(key, list(cond["in"]) if isinstance(cond["in"], (list, tuple, set)) else [cond["in"]]))
            if "ne" in cond:
                must_not.append(_match(key, cond["ne"]))
            if "not_in" in cond:
                vals = cond["not_in"]
                must_not.append(_match(key, list(vals) if isinstance(vals, (list, tuple, set)) else [vals]))
        else:
            must.append(_match(key, cond))
    return models.Filter(must=must or None, must_not=must_not or None)


def filter_fields(where: Mapping[str, Any] | Any | None) -> set[str]:
    """The payload keys a ``where`` dict or a ``models.Filter`` refers to (nested filters included)."""
    from qdrant_client import models

    if where is None:
        return set()
    if isinstance(where, Mapping):
        return {k for k in where if isinstance(k, str)}
    keys: set[str] = set()
    if isinstance(where, models.Filter):
        for part in (where.must, where.should, where.must_not):
            for cond in part if isinstance(part, list) else ([part] if part is not None else []):
                if isinstance(cond, models.FieldCondition):
                    keys.add(cond.key)
                elif isinstance(cond, models.Filter):
                    keys |= filter_fields(cond)
    return keys


# --------------------------------------------------------------------------------------------- engine


def _distance(name: str) -> Any:
    from qdrant_client import models

    key = str(getattr(name, "value", name)).lower()
    table = {"cosine": models.Distance.COSINE, "dot": models.Distance.DOT, "euclid": models.Distance.EUCLID,
             "manhattan": models.Distance.MANHATTAN}
    if key not in table:
        raise SearchInputError(f"distance={name!r} 는 지원하지 않습니다. 고를 수 있는 값: {list(DISTANCES)}")
    return table[key]


class QdrantEngine:
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

    def __init__(self, collection: str, dim: int | None = None, *, encoder: Any = None,
                 path: str | Path | None = None, url: str | None = None, api_key: str | None = None,
                 client: Any = None, distance: str = "cosine", vector_name: str = "dense", create: bool = True,
                 recreate: bool = False, payload_indexes: Mapping[str, str] | None = None,
                 local: bool = False) -> None:
        from qdrant_client import models

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
        self.collection = collection
        self.vector_name = vector_name
        self.encoder = encoder
        self._distance = _distance(distance)
        self._owns_client = client is None
        self.client = client if client is not None else get_client(path, url=url, api_key=api_key, local=local)
        self._closed = False
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
            self._fields: set[str] = set() if self.created else self._sample_fields()
            self._count = self.count()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ extension points

    def _collection_kwargs(self) -> dict[str, Any]:
        """Extra ``create_collection`` arguments (a subclass adds e.g. ``sparse_vectors_config``)."""
        return {}

    def _call(self, fn: Callable[[], T]) -> T:
        """Run a client call, turning "collection not found" (local ValueError, server 404) into SearchInputError."""
        try:
            return fn()
        except SearchInputError:
            raise
        except Exception as exc:  # local mode: ValueError; server: UnexpectedResponse(404)
            text = str(exc)
            if "not found" in text.lower() and (self.collection in text or "Collection" in text):
                raise SearchInputError(
                    f"컬렉션 {self.collection!r} 이 없습니다(지워졌거나 다른 저장소입니다). 엔진을 다시 만드세요: "
                    f"QdrantEngine({self.collection!r}, dim=...)"
                ) from exc
            raise

    # ------------------------------------------------------------------ info

    @property
    def mode(self) -> str:
        """``"local-memory"``, ``"local-path"`` or ``"server"``."""
        return client_mode(self.client)

    @property
    def distance(self) -> str:
        return str(getattr(self._distance, "value", self._distance)).lower()

    @property
    def payload_fields(self) -> list[str]:
        """Payload keys known to exist in this collection (from :meth:`add`, a sample, or a checked filter)."""
        return sorted(self._fields)

    def __len__(self) -> int:
        return self.count()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"points={self._count}, mode={self.mode}"
        return (f"QdrantEngine(collection={self.collection!r}, dim={getattr(self, 'dim', None)}, "
                f"distance={self.distance}, {state})")

    def __enter__(self) -> "QdrantEngine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the client if the engine opened it (frees a ``path=`` folder for the next client). Idempotent."""
        if not self._closed and self._owns_client and getattr(self, "client", None) is not None:
            self.client.close()
        self._closed = True

    # ------------------------------------------------------------------ writing

    def add(self, ids: Sequence[str | int], vectors: Any, payloads: Sequence[Mapping[str, Any]] | None = None, *,
            batch_size: int = 256) -> int:
        """Upsert documents: ``ids[i]`` with ``vectors[i]`` (shape ``(n, dim)``) and ``payloads[i]``.

        Existing ids are overwritten. The document id is stored in the payload as ``doc_id``. Uploads in batches
        of ``batch_size`` with ``upload_points``. Returns the number of points written.
        """
        from qdrant_client import models

        self._check_open()
        ids = list(ids)
        if not ids:
            raise SearchInputError("추가할 문서가 없습니다(ids 가 비어 있음).")
        mat = self._as_matrix(vectors, what="문서 벡터")
        if len(mat) != len(ids):
            raise SearchInputError(f"ids {len(ids)}개와 벡터 {len(mat)}개의 수가 다릅니다.")
        if payloads is None:
            payloads = [{} for _ in ids]
        payloads = list(payloads)
        if len(payloads) != len(ids):
            raise SearchInputError(f"ids {len(ids)}개와 payload {len(payloads)}개의 수가 다릅니다.")
        if len(set(map(str, ids))) != len(ids):
            raise SearchInputError("ids 에 중복이 있습니다. 문서마다 다른 id 를 주세요.")
        if batch_size < 1:
            raise SearchInputError(f"batch_size 는 1 이상이어야 합니다: {batch_size}")
        points = []
        for doc_id, vec, payload in zip(ids, mat, payloads):
            if not isinstance(payload, Mapping):
                raise SearchInputError(f"payload 는 dict 여야 합니다: {type(payload).__name__} (id={doc_id!r})")
            body = {**payload, ID_FIELD: doc_id}
            points.append(models.PointStruct(id=point_id(doc_id), vector={self.vector_name: vec.tolist()}, payload=body))
        self._call(lambda: self.client.upload_points(self.collection, points=points, batch_size=batch_size, wait=True))
        for p in payloads:
            self._fields.update(p.keys())
        self._fields.add(ID_FIELD)
        self._count = self.count()
        return len(points)

    def add_texts(self, ids: Sequence[str | int], texts: Sequence[str],
                  payloads: Sequence[Mapping[str, Any]] | None = None, *, text_field: str = "text",
                  batch_size: int = 256) -> int:
        """Embed ``texts`` with the engine's encoder (passage side) and :meth:`add` them; the text goes to the
        payload under ``text_field``."""
        enc = self._need_encoder()
        texts = list(texts)
        if any(not isinstance(t, str) or not t.strip() for t in texts):
            raise SearchInputError("add_texts: 빈 텍스트나 문자열이 아닌 값이 있습니다.")
        vecs = enc.encode_documents(texts)
        base = list(payloads) if payloads is not None else [{} for _ in texts]
        if len(base) != len(texts):
            raise SearchInputError(f"texts {len(texts)}개와 payload {len(base)}개의 수가 다릅니다.")
        return self.add(ids, vecs, [{**p, text_field: t} for p, t in zip(base, texts)], batch_size=batch_size)

    def delete(self, ids: Sequence[str | int] | None = None, where: Mapping[str, Any] | Any | None = None) -> int:
        """Delete documents by id or by filter (exactly one of the two). Returns how many points are left."""
        from qdrant_client import models

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
        self._count = self.count()
        return self._count

    # ------------------------------------------------------------------ reading

    def count(self, where: Mapping[str, Any] | Any | None = None) -> int:
        """Number of points (matching ``where`` if given); exact."""
        self._check_open()
        flt = self._filter(where) if where is not None else None
        return int(self._call(lambda: self.client.count(self.collection, count_filter=flt, exact=True)).count)

    def search(self, query: str | Sequence[float] | np.ndarray, k: int = 10, *,
               where: Mapping[str, Any] | Any | None = None, score_threshold: float | None = None) -> list[Hit]:
        """The ``k`` nearest documents to ``query`` (a vector, or a string when the engine has an encoder),
        optionally only among those matching ``where`` (see :func:`build_filter`). Best first."""
        self._check_open()
        vec = self._query_vector(query)
        self._check_k(k)
        flt = self._filter(where)
        res = self._call(lambda: self.client.query_points(
            self.collection, query=vec.tolist(), using=self.vector_name, query_filter=flt, limit=k,
            with_payload=True, score_threshold=score_threshold))
        return self._to_hits(res.points)

    def search_many(self, queries: Sequence[str] | Any, k: int = 10, *,
                    where: Mapping[str, Any] | Any | None = None) -> list[list[Hit]]:
        """:meth:`search` for many queries in one ``query_batch_points`` call (strings need an encoder)."""
        from qdrant_client import models

        self._check_open()
        mats = self._query_matrix(queries)
        self._check_k(k)
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
        results = self.search_many(batch, k=k, where=where)
        return {qid: {h.id: h.score for h in hits} for qid, hits in zip(qids, results)}

    # ------------------------------------------------------------------ helpers (also for subclasses)

    def _check_open(self) -> None:
        if self._closed:
            raise SearchInputError(f"엔진({self.collection!r})이 이미 닫혔습니다. 새 QdrantEngine 을 만드세요.")

    def _check_k(self, k: int) -> None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise SearchInputError(f"k 는 1 이상의 정수여야 합니다: {k!r}")
        if k > self._count:
            self._count = self.count()  # another client may have added points
            if self._count == 0:
                raise SearchInputError(f"컬렉션 {self.collection!r} 이 비어 있습니다. 먼저 add(...) 로 문서를 넣으세요.")
            if k > self._count:
                raise SearchInputError(f"k={k} 가 컬렉션의 문서 수 {self._count} 보다 큽니다. k 를 줄이세요.")

    def _filter(self, where: Mapping[str, Any] | Any | None) -> Any:
        """``where`` -> ``models.Filter`` (or None), after checking that every field it names exists."""
        flt = build_filter(where)
        if flt is not None:
            self._check_fields(filter_fields(where))
        return flt

    def _check_fields(self, keys: Iterable[str]) -> None:
        """Reject a filter field that no point has: a misspelt field would otherwise match nothing, silently.

        Fields seen at :meth:`add` (or in a sample of a reused collection) pass at once; any other field is looked
        up once with an exact count of the points where it is not empty.
        """
        from qdrant_client import models

        for key in keys:
            root = key.split(".")[0].split("[")[0]
            if root in self._fields or key in self._fields or self._count == 0:
                continue
            present = models.Filter(must_not=[models.IsEmptyCondition(is_empty=models.PayloadField(key=key))])
            if self._call(lambda: self.client.count(self.collection, count_filter=present, exact=True)).count == 0:
                raise SearchInputError(
                    f"필터 필드 {key!r} 에 값이 있는 점이 컬렉션 {self.collection!r} 에 하나도 없습니다. "
                    f"있는 필드: {sorted(self._fields)}. 철자를 확인하세요(없는 필드로 거르면 결과가 조용히 0건이 됩니다)."
                )
            self._fields.add(key)

    def _to_hits(self, points: Iterable[Any]) -> list[Hit]:
        out = []
        for p in points:
            payload = dict(p.payload or {})
            out.append(Hit(id=payload.get(ID_FIELD, str(p.id)), score=float(p.score), payload=payload))
        return out

    def _need_encoder(self) -> Any:
        if self.encoder is None:
            raise SearchInputError("문자열 질의·문서를 쓰려면 엔진에 encoder= 를 주세요(예: encoder=load_model('en_dense')). "
                                   "아니면 벡터를 직접 넘기세요.")
        return self.encoder

    def _as_matrix(self, vectors: Any, *, what: str) -> np.ndarray:
        try:
            mat = np.asarray(vectors, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise SearchInputError(f"{what}를 숫자 배열로 바꿀 수 없습니다: {exc}") from exc
        if mat.ndim == 1:
            mat = mat[None, :]
        if mat.ndim != 2 or mat.shape[0] == 0:
            raise SearchInputError(f"{what}는 (개수, {self.dim}) 모양이어야 합니다: {mat.shape}")
        if mat.shape[1] != self.dim:
            raise SearchInputError(
                f"{what}의 차원 {mat.shape[1]} 이 컬렉션 {self.collection!r} 의 차원 {self.dim} 과 다릅니다. "
                "컬렉션을 만들 때와 같은 모델로 임베딩했는지 확인하세요(다른 모델이면 새 컬렉션이나 recreate=True)."
            )
        if not np.isfinite(mat).all():
            raise SearchInputError(f"{what}에 NaN 또는 inf 가 있습니다.")
        if self.distance == "cosine" and (np.linalg.norm(mat, axis=1) == 0).any():
            raise SearchInputError(f"{what}에 길이 0인 벡터가 있습니다: 코사인 유사도를 정의할 수 없습니다.")
        return mat

    def _query_vector(self, query: Any) -> np.ndarray:
        if isinstance(query, str):
            if not query.strip():
                raise SearchInputError("질의가 비어 있습니다.")
            return np.asarray(self._need_encoder().encode_queries([query])[0], dtype=np.float32)
        mat = self._as_matrix(query, what="질의 벡터")
        if len(mat) != 1:
            raise SearchInputError(f"search 는 질의 하나를 받습니다({len(mat)}개가 들어옴). 여러 개는 search_many 를 쓰세요.")
        return mat[0]

    def _query_matrix(self, queries: Any) -> np.ndarray:
        if isinstance(queries, str):
            raise SearchInputError("search_many 에는 질의 목록을 주세요. 질의 하나는 search 를 쓰세요.")
        items = list(queries) if not isinstance(queries, np.ndarray) else queries
        if len(items) == 0:
            raise SearchInputError("질의 목록이 비어 있습니다.")
        if all(isinstance(q, str) for q in items):
            if any(not q.strip() for q in items):
                raise SearchInputError("빈 질의가 있습니다.")
            return np.asarray(self._need_encoder().encode_queries(list(items)), dtype=np.float32)
        return self._as_matrix(items, what="질의 벡터")

    def _collection_names(self) -> list[str]:
        return sorted(c.name for c in self.client.get_collections().collections)

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

    def _sample_fields(self, n: int = 32) -> set[str]:
        points, _ = self._call(lambda: self.client.scroll(self.collection, limit=n, with_payload=True))
        fields: set[str] = set()
        for p in points:
            fields.update((p.payload or {}).keys())
        return fields

    def _create_payload_indexes(self, indexes: Mapping[str, str]) -> None:
        from qdrant_client import models

        table = {"keyword": models.PayloadSchemaType.KEYWORD, "integer": models.PayloadSchemaType.INTEGER,
                 "float": models.PayloadSchemaType.FLOAT, "bool": models.PayloadSchemaType.BOOL,
                 "datetime": models.PayloadSchemaType.DATETIME, "text": models.PayloadSchemaType.TEXT}
        if self.mode != "server":
            return  # local mode ignores payload indexes (and warns); a server uses them to filter fast
        for fld, kind in indexes.items():
            self._call(lambda f=fld, k=kind: self.client.create_payload_index(self.collection, f, table[k], wait=True))
