"""The embedding cache returns what the encoder computed, and recomputes when the texts change."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from course_utils import embed_cache


@dataclass
class _Spec:
    model_id: str = "fake/model"
    backend: str = "fake"


class FakeEncoder:
    spec = _Spec()
    profile = "offline"

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts, kind="passage", batch_size=32, show_progress_bar=False):
        self.calls += 1
        return np.array([[len(t), kind == "query"] for t in texts], dtype=np.float32)


def test_cache_hits_and_misses(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    enc = FakeEncoder()
    a = embed_cache.encode_cached(enc, ["ab", "c"])
    b = embed_cache.encode_cached(enc, ["ab", "c"])
    assert enc.calls == 1 and np.array_equal(a, b)
    embed_cache.encode_cached(enc, ["ab", "c"], kind="query")
    embed_cache.encode_cached(enc, ["ab", "cd"])
    assert enc.calls == 3
    embed_cache.clear()
    embed_cache.encode_cached(enc, ["ab", "c"])
    assert enc.calls == 4


def test_cache_key_is_unchanged() -> None:
    """warmup pre-fills the cache under these names: the key of a dense embedding must never change."""
    key = embed_cache.cache_key("intfloat/multilingual-e5-small", "offline", "passage", ["제목\n본문", "b"],
                                "sentence-transformers")
    assert key == "intfloat-multilingual-e5-small-offline-passage-5be7751e239d023e"
    assert embed_cache.encoder_cache_key(FakeEncoder(), "query", ["a"]) == embed_cache.cache_key(
        "fake/model", "offline", "query", ["a"], "fake")


def test_standin_vectors_have_their_own_key(monkeypatch) -> None:
    """Vectors made by the stand-in hub's random weights never answer for the real full-profile model."""
    monkeypatch.delenv("COURSE_STANDIN_HUB", raising=False)
    real = embed_cache.cache_key("nlpai-lab/KURE-v1", "full", "passage", ["a"], "sentence-transformers")
    monkeypatch.setenv("COURSE_STANDIN_HUB", "1")
    standin = embed_cache.cache_key("nlpai-lab/KURE-v1", "full", "passage", ["a"], "sentence-transformers")
    assert standin != real and "-full-standin-" in standin


def test_dense_cache_file_is_where_warmup_put_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    enc = FakeEncoder()
    stored = np.full((2, 2), 7.0, dtype=np.float32)  # a file written earlier (by warmup, or before this version)
    key = embed_cache.cache_key("fake/model", "offline", "passage", ["ab", "c"], "fake")
    (tmp_path / "embeddings").mkdir()
    np.save(tmp_path / "embeddings" / f"{key}.npy", stored)
    assert np.array_equal(embed_cache.encode_cached(enc, ["ab", "c"]), stored) and enc.calls == 0


def test_cached_array_rows_meta_and_no_leftovers(tmp_path) -> None:
    calls = []

    def compute():
        calls.append(1)
        return np.arange(6, dtype=np.float32).reshape(3, 2), {"made": "here"}

    path = tmp_path / "sub" / "v.npy"
    arr, meta = embed_cache.cached_array(path, compute, rows=3, meta_path=path.with_suffix(".json"))
    again, meta2 = embed_cache.cached_array(path, compute, rows=3, meta_path=path.with_suffix(".json"))
    assert len(calls) == 1 and np.array_equal(arr, again) and meta == meta2 == {"made": "here"}
    embed_cache.cached_array(path, compute, rows=4, meta_path=path.with_suffix(".json"))  # another row count
    assert len(calls) == 2
    path.with_suffix(".json").unlink()  # vectors without their description: built again
    embed_cache.cached_array(path, compute, meta_path=path.with_suffix(".json"))
    assert len(calls) == 3
    assert sorted(p.name for p in path.parent.iterdir()) == ["v.json", "v.npy"]  # no temporary files left
    with pytest.raises(RuntimeError):
        embed_cache.cached_array(tmp_path / "x.npy", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    assert not (tmp_path / "x.npy").exists()


def test_cached_arrays_and_ragged_rows(tmp_path) -> None:
    parts = [np.ones((2, 3), np.float32), np.zeros((0, 3), np.float32), np.full((1, 3), 2.0, np.float32)]
    flat, offsets = embed_cache.pack_rows(parts)
    assert flat.shape == (3, 3) and offsets.tolist() == [0, 2, 2, 3]
    assert all(np.array_equal(a, b) for a, b in zip(embed_cache.unpack_rows(flat, offsets), parts))
    calls = []

    def compute():
        calls.append(1)
        return {"vectors": flat, "offsets": offsets}

    path = tmp_path / "m.npz"
    first = embed_cache.cached_arrays(path, compute)
    second = embed_cache.cached_arrays(path, compute, valid=lambda d: len(d["offsets"]) == 4)
    assert len(calls) == 1 and np.array_equal(first["vectors"], second["vectors"])
    embed_cache.cached_arrays(path, compute, valid=lambda d: len(d["offsets"]) == 5)
    assert len(calls) == 2
    assert embed_cache.cached_json(tmp_path / "t.json", lambda: ["a", "b"]) == ["a", "b"]
    assert embed_cache.cached_json(tmp_path / "t.json", lambda: ["other"]) == ["a", "b"]
