"""Client factory and idempotent collections (local mode)."""
from __future__ import annotations

import pytest
from qdrant_client import models

from course_utils.errors import SearchInputError
from course_utils.qdrant_utils import client_mode, ensure_collection, get_client

VP = models.VectorParams(size=4, distance=models.Distance.COSINE)


def test_memory_client_and_idempotent_create() -> None:
    client = get_client()
    try:
        assert client_mode(client) == "local-memory"
        assert ensure_collection(client, "c", vectors_config={"dense": VP}) is True
        assert ensure_collection(client, "c", vectors_config={"dense": VP}) is False
        with pytest.raises(SearchInputError, match="recreate=True"):
            ensure_collection(client, "c", vectors_config={"dense": models.VectorParams(size=8, distance=models.Distance.COSINE)})
        assert ensure_collection(client, "c", vectors_config={"dense": VP}, recreate=True) is True
    finally:
        client.close()


def test_path_client_lock_error_says_what_to_do(tmp_path) -> None:
    first = get_client(tmp_path / "q")
    try:
        assert client_mode(first) == "local-path"
        with pytest.raises(SearchInputError, match="close"):
            get_client(tmp_path / "q")
    finally:
        first.close()
    get_client(tmp_path / "q").close()  # after close() the folder opens again


def test_empty_name_is_rejected() -> None:
    client = get_client()
    with pytest.raises(SearchInputError):
        ensure_collection(client, "", vectors_config=VP)
    client.close()


class _FakeClient:
    """Records how QdrantClient was called, opens nothing (no server exists in tests)."""

    def __init__(self, location=None, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.location, self.kwargs = location, kwargs


def test_qdrant_url_selects_the_server_and_local_true_ignores_it(monkeypatch, tmp_path) -> None:
    import qdrant_client

    monkeypatch.setattr(qdrant_client, "QdrantClient", _FakeClient)
    monkeypatch.setenv("QDRANT_URL", "http://qdrant.example:6333")
    monkeypatch.setenv("QDRANT_API_KEY", "secret")
    server = get_client(tmp_path / "store")
    assert server.kwargs == {"url": "http://qdrant.example:6333", "api_key": "secret"}
    kept_local = get_client(tmp_path / "store", local=True)
    assert kept_local.kwargs == {"path": str(tmp_path / "store")}
    assert get_client(local=True).location == ":memory:"
    with pytest.raises(SearchInputError, match="local=True"):
        get_client(url="http://x:6333", local=True)


def test_explicit_url_beats_the_environment(monkeypatch) -> None:
    import qdrant_client

    monkeypatch.setattr(qdrant_client, "QdrantClient", _FakeClient)
    monkeypatch.setenv("QDRANT_URL", "http://from-env:6333")
    monkeypatch.delenv("QDRANT_API_KEY", raising=False)
    assert get_client(url="http://explicit:6333").kwargs["url"] == "http://explicit:6333"
