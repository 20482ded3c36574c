"""Qdrant plumbing shared by the course's search engines: one client factory, idempotent collections (chapters 00, 05-09, 11).

- :func:`get_client` opens the embedded local mode (``":memory:"`` or a folder) or, when ``QDRANT_URL`` is set,
  the user's server, so the same engine code runs on both.
- :func:`ensure_collection` creates a collection or reuses it (re-running a notebook cell is safe), and refuses a
  reuse whose vector sizes differ from what the caller asks for, instead of failing later at upload time.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from .errors import SearchInputError


def get_client(path: str | Path | None = None, *, url: str | None = None, api_key: str | None = None,
               local: bool = False):  # type: ignore[no-untyped-def]
    """A :class:`qdrant_client.QdrantClient`.

    ``url`` (or the ``QDRANT_URL`` environment variable) selects a server; otherwise ``path`` opens local mode
    on a folder (persistent), and no path means ``":memory:"``. ``local=True`` ignores ``QDRANT_URL`` (for code
    that is about local mode itself: a folder read back after a restart, the one-client-per-folder lock).
    Close it with ``client.close()``.
    """
    from qdrant_client import QdrantClient

    if local and url:
        raise SearchInputError("local=True 와 url= 을 함께 줄 수 없습니다. 서버를 쓰려면 local 을 빼세요.")
    url = None if local else (url or os.environ.get("QDRANT_URL"))
    if url:
        return QdrantClient(url=url, api_key=api_key or os.environ.get("QDRANT_API_KEY"))
    if path is None:
        return QdrantClient(":memory:")
    try:
        return QdrantClient(path=str(path))
    except RuntimeError as exc:
        if "already accessed" in str(exc):
            raise SearchInputError(
                f"Qdrant 폴더 {Path(path).name} 를 다른 클라이언트가 열고 있습니다. 먼저 그 클라이언트를 "
                "client.close() 로 닫거나(노트북이라면 이전 셀의 클라이언트), 커널을 재시작하세요. "
                "여러 프로세스가 함께 쓰려면 Qdrant 서버(QDRANT_URL)를 쓰세요."
            ) from exc
        raise


def client_mode(client: Any) -> str:
    """``"server"``, ``"local-memory"`` or ``"local-path"`` (for banners and doctor)."""
    inner = getattr(client, "_client", None)
    name = type(inner).__name__
    if name == "QdrantLocal":
        return "local-memory" if getattr(inner, "location", None) == ":memory:" else "local-path"
    return "server"


def _sizes(config: Any) -> dict[str, int]:
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return {k: int(v.size) for k, v in config.items()}
    return {"": int(config.size)}


def ensure_collection(client: Any, name: str, *, vectors_config: Any = None, sparse_vectors_config: Any = None,
                      recreate: bool = False, **kwargs: Any) -> bool:
    """Create ``name`` unless it exists; returns True when it was created.

    With ``recreate=True`` an existing collection is deleted first. An existing collection whose dense vector
    names or sizes differ from ``vectors_config`` raises :class:`SearchInputError` (pass ``recreate=True``).
    """
    if not name:
        raise SearchInputError("컬렉션 이름이 비어 있습니다.")
    if client.collection_exists(name):
        if recreate:
            client.delete_collection(name)
        else:
            have = _sizes(client.get_collection(name).config.params.vectors)
            want = _sizes(vectors_config)
            if want and have != want:
                raise SearchInputError(
                    f"컬렉션 {name!r} 의 벡터 설정 {have} 이 요청한 {want} 와 다릅니다. 다른 모델로 만든 컬렉션일 수 "
                    "있습니다: recreate=True 로 다시 만들거나 다른 이름을 쓰세요."
                )
            return False
    client.create_collection(name, vectors_config=vectors_config if vectors_config is not None else {},
                             sparse_vectors_config=sparse_vectors_config, **kwargs)
    return True
