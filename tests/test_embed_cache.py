"""The embedding cache returns what the encoder computed, and recomputes when the texts change."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
