"""Embed a corpus once, reuse it everywhere: a disk cache keyed by model, profile, prefix kind and the texts.

Notebooks of later chapters embed the same 600 Korean documents with the same model; computing that once per
machine keeps every notebook inside its time budget. The cache holds exactly what ``encoder.encode`` returned
(float32, normalised), so a cached array is the same number the reader's code would compute; delete the folder
(``course_utils.embed_cache.clear()``) to recompute.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from .config import cache_dir


def _folder() -> Path:
    path = cache_dir() / "embeddings"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_key(model_id: str, profile: str, kind: str, texts: Sequence[str], extra: str = "") -> str:
    digest = hashlib.sha256()
    for t in (model_id, profile, kind, extra, *texts):
        digest.update(t.encode("utf-8"))
        digest.update(b"\0")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", model_id).strip("-")[:40]
    return f"{slug}-{profile}-{kind}-{digest.hexdigest()[:16]}"


def encode_cached(encoder, texts: Sequence[str], *, kind: str = "passage", batch_size: int = 32,
                  show_progress_bar: bool = False) -> np.ndarray:
    """``encoder.encode(texts, kind=kind)`` through the disk cache (a :class:`~course_utils.models.DenseEncoder`)."""
    texts = list(texts)
    key = cache_key(encoder.spec.model_id, encoder.profile, kind, texts, encoder.spec.backend)
    path = _folder() / f"{key}.npy"
    if path.exists():
        arr = np.load(path)
        if arr.shape[0] == len(texts):
            return arr
    arr = encoder.encode(texts, kind=kind, batch_size=batch_size, show_progress_bar=show_progress_bar)
    fd, tmp = tempfile.mkstemp(dir=_folder(), suffix=".npy")
    os.close(fd)
    np.save(tmp, arr)
    os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    return arr


def clear() -> None:
    """Delete every cached embedding."""
    shutil.rmtree(_folder(), ignore_errors=True)
