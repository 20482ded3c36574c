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
