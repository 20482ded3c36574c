"""The one Qdrant core under both Qdrant engines (chapters 05, 06, 07, 11): ids, the one :class:`Hit`, the filter
language and the collection plumbing.

:class:`course_utils.qdrant_engine.QdrantEngine` (one dense vector, chapter 05) and
:class:`course_utils.hybrid.HybridEngine` (dense + sparse + multivector, chapters 06-07, and the capstone of chapter
11) both subclass :class:`QdrantCollection`, so they share:

- **Ids**: Qdrant point ids must be unsigned integers or UUIDs. :func:`point_id` keeps non-negative ints and UUID
  strings as they are and maps any other string (``"en_health-003"``) to a deterministic UUID5, so re-adding a
  document overwrites its point. The caller's id is kept in the payload under :data:`ID_FIELD` (``doc_id``) and
  comes back as :attr:`Hit.doc_id`.
- **Filters**: ``where`` is a small dict language turned into a :class:`qdrant_client.models.Filter` by
  :func:`build_filter` (a ``models.Filter`` is accepted as is). Unknown operators and bad values raise
  :class:`~course_utils.errors.SearchInputError`, and so does a field that no point of the collection has (a
  misspelt field would otherwise match nothing, silently): :meth:`QdrantCollection._filter`.
- **Plumbing**: who closes the client, Qdrant's "collection not found" as a clear error, a cached point count
  (refreshed after every write and whenever a ``k`` needs more points than it knows of, so a search does not count
  the collection each time), the ``k`` check, scored points -> :class:`Hit`.
"""
from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, TypeVar

import numpy as np
from qdrant_client import models

from .checks import check_k
from .errors import SearchInputError
from .qdrant_utils import client_mode
from .results import Hit

__all__ = [
    "Hit", "QdrantCollection", "point_id", "build_filter", "filter_fields", "field_root", "distance",
    "to_qdrant_sparse", "ID_FIELD", "DISTANCES", "PAYLOAD_INDEX_TYPES", "POINT_ID_NAMESPACE",
]

T = TypeVar("T")

ID_FIELD = "doc_id"
"""Payload key that stores the caller's document id (hits report it as :attr:`Hit.doc_id`)."""

DISTANCES = ("cosine", "dot", "euclid", "manhattan")
PAYLOAD_INDEX_TYPES = ("keyword", "integer", "float", "bool", "datetime", "text")
_RANGE_OPS = ("gt", "gte", "lt", "lte")
_OPS = _RANGE_OPS + ("eq", "ne", "in", "not_in")
POINT_ID_NAMESPACE = uuid.UUID("6f1c2f0e-5b8a-4c1e-9a57-0c0ff5e4e11a")
"""Fixed: the same document id always maps to the same UUID (changing it changes every stored point id)."""


# --------------------------------------------------------------------------------------------- ids


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
            return str(uuid.uuid5(POINT_ID_NAMESPACE, doc_id))
    raise SearchInputError(f"문서 id 는 str 또는 int 여야 합니다: {type(doc_id).__name__} 가 들어왔습니다.")


# --------------------------------------------------------------------------------------------- filters


def field_root(key: str) -> str:
    """The top-level payload key of a (possibly nested) filter key: ``"meta.tags[]"`` -> ``"meta"``."""
    return key.split(".")[0].split("[")[0]


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
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
    if isinstance(value, (list, tuple, set)):
        values = [_check_match_value(key, v) for v in value]
        if not values:
            raise SearchInputError(f"필터 {key!r}: 빈 목록은 아무것도 고르지 않습니다. 값을 하나 이상 넣으세요.")
        return models.FieldCondition(key=key, match=models.MatchAny(any=values))
    return models.FieldCondition(key=key, match=models.MatchValue(value=_check_match_value(key, value)))


def _range(key: str, bounds: Mapping[str, Any]) -> Any:
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


def _conditions(flt: Any) -> list[Any]:
    out: list[Any] = []
    for part in (flt.must, flt.should, flt.must_not):
        out.extend(part if isinstance(part, list) else ([part] if part is not None else []))
    return out


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
    known = set(known_fields) if known_fields is not None else None

    def check_key(key: Any) -> str:
        if not isinstance(key, str) or not key:
            raise SearchInputError(f"필터의 필드 이름은 비어 있지 않은 문자열이어야 합니다: {key!r}")
        if known is not None and field_root(key) not in known:
            raise SearchInputError(
                f"필터 필드 {key!r} 가 이 컬렉션의 payload 에 없습니다. 있는 필드: {sorted(known)}. "
                "철자를 확인하세요(없는 필드로 거르면 결과가 조용히 0건이 됩니다)."
            )
        return key

    if where is None:
        return None
    if isinstance(where, models.Filter):
        for cond in _conditions(where):
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
    if where is None:
        return set()
    if isinstance(where, Mapping):
        return {k for k in where if isinstance(k, str)}
    keys: set[str] = set()
    if isinstance(where, models.Filter):
        for cond in _conditions(where):
            if isinstance(cond, models.FieldCondition):
                keys.add(cond.key)
            elif isinstance(cond, models.Filter):
                keys |= filter_fields(cond)
    return keys


# --------------------------------------------------------------------------------------------- vectors


def distance(name: str) -> Any:
    """``"cosine"``, ``"dot"``, ``"euclid"`` or ``"manhattan"`` as a :class:`qdrant_client.models.Distance`."""
    key = str(getattr(name, "value", name)).lower()
    table = {"cosine": models.Distance.COSINE, "dot": models.Distance.DOT, "euclid": models.Distance.EUCLID,
             "manhattan": models.Distance.MANHATTAN}
    if key not in table:
        raise SearchInputError(f"distance={name!r} 는 지원하지 않습니다. 고를 수 있는 값: {list(DISTANCES)}")
    return table[key]


def to_qdrant_sparse(vec: Any) -> Any:
    """A :class:`course_utils.models.SparseVector` (or anything with ``indices``/``values``) as Qdrant's."""
    if isinstance(vec, models.SparseVector):
        return vec
    if hasattr(vec, "indices") and hasattr(vec, "values"):
        return models.SparseVector(indices=[int(i) for i in vec.indices], values=[float(v) for v in vec.values])
    raise SearchInputError(f"sparse 벡터는 SparseVector(indices, values) 여야 합니다: {type(vec).__name__}")


# --------------------------------------------------------------------------------------------- collection


class QdrantCollection:
    """What every course engine over one Qdrant collection does the same way (subclassed by both engines).

    A subclass calls ``super().__init__(client, collection, owns_client=...)``, creates or reuses its collection,
    then :meth:`_opened`. It writes points with :meth:`_upload` (payloads carry :data:`ID_FIELD`) and reads with
    :meth:`_filter` (``where`` -> checked ``models.Filter``), :meth:`_check_k` and :meth:`_to_hits`. Client calls go
    through :meth:`_call` (Qdrant's "not found" -> :class:`SearchInputError`).
    """

    WRITE_METHOD = "add"
    """The method that puts documents in (named in the "empty collection" message)."""

    def __init__(self, client: Any, collection: str, *, owns_client: bool) -> None:
        self.client = client
        self.collection = collection
        self._owns_client = owns_client
        self._closed = False
        self._fields: set[str] = set()
        self._count = 0

    def _opened(self, created: bool) -> None:
        """After create-or-reuse: the known payload fields (a sample of a reused collection) and the point count."""
        self._fields = set() if created else self._sample_fields()
        self._count = self.count()

    # ------------------------------------------------------------------ life cycle

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
                    f"{type(self).__name__}(..., {self.collection!r}, ...)"
                ) from exc
            raise

    def _check_open(self) -> None:
        if self._closed:
            raise SearchInputError(f"엔진({self.collection!r})이 이미 닫혔습니다. 새 {type(self).__name__} 을 만드세요.")

    def close(self) -> None:
        """Close the client if this engine owns it (a ``path=`` folder is then free for the next client). Idempotent."""
        if not self._closed and self._owns_client and getattr(self, "client", None) is not None:
            self.client.close()
        self._closed = True

    def __enter__(self) -> "QdrantCollection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ info

    @property
    def mode(self) -> str:
        """``"local-memory"``, ``"local-path"`` or ``"server"``."""
        return client_mode(self.client)

    @property
    def payload_fields(self) -> list[str]:
        """Payload keys known to exist in this collection (from writes, a sample, or a checked filter)."""
        return sorted(self._fields)

    def __len__(self) -> int:
        return self.count()

    def count(self, where: Mapping[str, Any] | Any | None = None) -> int:
        """Number of points (matching ``where`` if given); exact. Without ``where`` it also refreshes the cache."""
        self._check_open()
        flt = self._filter(where) if where is not None else None
        n = int(self._call(lambda: self.client.count(self.collection, count_filter=flt, exact=True)).count)
        if flt is None:
            self._count = n
        return n

    # ------------------------------------------------------------------ writing

    def _upload(self, points: list[Any], fields: Iterable[str], *, batch_size: int) -> int:
        """Upsert ``points`` in batches, remember their payload ``fields`` and the new point count."""
        if batch_size < 1:
            raise SearchInputError(f"batch_size 는 1 이상이어야 합니다: {batch_size}")
        self._call(lambda: self.client.upload_points(self.collection, points=points, batch_size=batch_size, wait=True))
        self._fields.update(fields)
        self._fields.add(ID_FIELD)
        self.count()
        return len(points)

    # ------------------------------------------------------------------ reading

    def _empty_message(self) -> str:
        return f"컬렉션 {self.collection!r} 이 비어 있습니다. 먼저 {self.WRITE_METHOD}(...) 로 문서를 넣으세요."

    def _check_k(self, k: Any) -> int:
        """``1 <= k <= points``; the count is read again only when ``k`` exceeds the cached one (another client may
        have added points)."""
        k = check_k(k)
        if k > self._count:
            self.count()
        return check_k(k, self._count, where="컬렉션의 ", empty=self._empty_message())

    def _filter(self, where: Mapping[str, Any] | Any | None) -> Any:
        """``where`` -> ``models.Filter`` (or None), after checking that every field it names exists."""
        flt = build_filter(where)
        if flt is not None:
            self._check_fields(filter_fields(where))
        return flt

    def _check_fields(self, keys: Iterable[str]) -> None:
        """Reject a filter field that no point has: a misspelt field would otherwise match nothing, silently.

        Fields seen at a write (or in a sample of a reused collection) pass at once; any other field is looked up
        once with an exact count of the points where it is not empty.
        """
        for key in keys:
            if field_root(key) in self._fields or key in self._fields or self._count == 0:
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
            out.append(Hit(payload.get(ID_FIELD, str(p.id)), float(p.score), payload))
        return out

    def _sample_fields(self, n: int = 32) -> set[str]:
        points, _ = self._call(lambda: self.client.scroll(self.collection, limit=n, with_payload=True))
        fields: set[str] = set()
        for p in points:
            fields.update((p.payload or {}).keys())
        return fields

    def _collection_names(self) -> list[str]:
        return sorted(c.name for c in self.client.get_collections().collections)

    def _create_payload_indexes(self, indexes: Mapping[str, str]) -> None:
        table = {"keyword": models.PayloadSchemaType.KEYWORD, "integer": models.PayloadSchemaType.INTEGER,
                 "float": models.PayloadSchemaType.FLOAT, "bool": models.PayloadSchemaType.BOOL,
                 "datetime": models.PayloadSchemaType.DATETIME, "text": models.PayloadSchemaType.TEXT}
        if self.mode != "server":
            return  # local mode ignores payload indexes (and warns); a server uses them to filter fast
        for fld, kind in indexes.items():
            self._call(lambda f=fld, k=kind: self.client.create_payload_index(self.collection, f, table[k], wait=True))
