"""Embed a corpus once, reuse it everywhere (chapters 02-11): a disk cache keyed by model, profile, prefix kind and the
texts, and the one helper every array cache of the course goes through.

Notebooks of later chapters embed the same 600 Korean documents with the same model; computing that once per
machine keeps every notebook inside its time budget. The cache holds exactly what ``encoder.encode`` returned
(float32, normalised), so a cached array is the same number the reader's code would compute; delete the folder
(``course_utils.embed_cache.clear()``) to recompute.

One helper for every array cache, so each kind of vector is stored, checked and written (atomically) the same way:

- :func:`cached_array`: one ``.npy`` (optionally with a JSON sidecar of how it was made): dense vectors
  (:func:`encode_cached`, ``embeddings/``) and the docstring set (:mod:`course_utils.bigset`, ``bigset/``);
- :func:`cached_arrays`: one ``.npz`` of named arrays, e.g. ragged rows packed with :func:`pack_rows` — token vectors
  (:func:`course_utils.late_interaction.encode_multivectors_cached`, ``multivectors/``) and learned sparse vectors
  (:func:`course_utils.korean_sparse.encode_sparse_cached`, ``sparse/``);
- :func:`cached_json`: a JSON value (the docstring texts).

:func:`encoder_cache_key` (built on :func:`cache_key`, whose output ``warmup`` relies on and must not change) names the
file of an encoder's output for a list of texts.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .claims import standin_hub_active
from .config import cache_dir

__all__ = [
    "cache_key", "encoder_cache_key", "cache_folder", "cached_array", "cached_arrays", "cached_json", "pack_rows",
    "unpack_rows", "encode_cached", "clear",
]


def _folder() -> Path:
    return cache_folder("embeddings")


def cache_folder(name: str) -> Path:
    """``cache_dir() / name``, created if missing."""
    path = cache_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_key(model_id: str, profile: str, kind: str, texts: Sequence[str], extra: str = "") -> str:
    """The file name of one encoder output. Under the stand-in hub (:func:`course_utils.claims.standin_hub_active`)
    the profile part reads ``<profile>-standin``: random stand-in vectors never answer for the real model's."""
    if standin_hub_active():
        profile = f"{profile}-standin"
    digest = hashlib.sha256()
    for t in (model_id, profile, kind, extra, *texts):
        digest.update(t.encode("utf-8"))
        digest.update(b"\0")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", model_id).strip("-")[:40]
    return f"{slug}-{profile}-{kind}-{digest.hexdigest()[:16]}"


def encoder_cache_key(encoder: Any, kind: str, texts: Sequence[str]) -> str:
    """:func:`cache_key` of what ``encoder`` (a course encoder: ``spec.model_id``, ``profile``, ``spec.backend``)
    returns for ``texts`` on the ``kind`` side."""
    return cache_key(encoder.spec.model_id, encoder.profile, kind, texts, encoder.spec.backend)


# ------------------------------------------------------------------------------------------ the one helper


def _atomic_write(path: Path, write: Callable[[str], None], suffix: str) -> None:
    """``write(tmp)`` into a temporary file beside ``path``, then rename it: a concurrent reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_json(path: Path, value: Any) -> None:
    _atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(value, indent=2, ensure_ascii=False),
                                                         encoding="utf-8"), ".json")


def cached_array(path: str | Path, compute: Callable[[], Any], *, rows: int | None = None,
                 meta_path: str | Path | None = None) -> Any:
    """The array stored at ``path`` (``.npy``), or ``compute()`` written there first.

    ``rows``: a stored array with another number of rows is computed again. With ``meta_path``, ``compute()``
    returns ``(array, meta)``, the JSON ``meta`` is kept at ``meta_path`` (both files must exist for a hit) and the
    result is ``(array, meta)``.
    """
    path = Path(path)
    meta_file = Path(meta_path) if meta_path is not None else None
    if path.exists() and (meta_file is None or meta_file.exists()):
        arr = np.load(path)
        if rows is None or arr.shape[0] == rows:
            return (arr, json.loads(meta_file.read_text(encoding="utf-8"))) if meta_file is not None else arr
    result = compute()
    arr, meta = result if meta_file is not None else (result, None)
    _atomic_write(path, lambda tmp: np.save(tmp, arr), ".npy")
    if meta_file is not None:
        _write_json(meta_file, meta)
        return arr, meta
    return arr


def cached_arrays(path: str | Path, compute: Callable[[], Mapping[str, np.ndarray]], *,
                  valid: Callable[[Mapping[str, np.ndarray]], bool] | None = None) -> dict[str, np.ndarray]:
    """The named arrays stored at ``path`` (``.npz``), or ``compute()`` written there first.

    ``valid(arrays)`` can reject a stored bundle (e.g. one made for a different number of texts).
    """
    path = Path(path)
    if path.exists():
        with np.load(path) as data:
            arrays = {name: data[name] for name in data.files}
        if valid is None or valid(arrays):
            return arrays
    arrays = dict(compute())
    _atomic_write(path, lambda tmp: np.savez(tmp, **arrays), ".npz")
    return arrays


def cached_json(path: str | Path, compute: Callable[[], Any]) -> Any:
    """The JSON value stored at ``path``, or ``compute()`` written there first."""
    path = Path(path)
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    value = compute()
    _write_json(path, value)
    return value


def pack_rows(parts: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Ragged rows (arrays with different first dimensions) as one concatenated array and ``len + 1`` offsets."""
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
    return np.concatenate(parts), offsets


def unpack_rows(flat: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """The inverse of :func:`pack_rows`."""
    return [flat[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


# ------------------------------------------------------------------------------------------ dense vectors


def encode_cached(encoder, texts: Sequence[str], *, kind: str = "passage", batch_size: int = 32,
                  show_progress_bar: bool = False) -> np.ndarray:
    """``encoder.encode(texts, kind=kind)`` through the disk cache (a :class:`~course_utils.models.DenseEncoder`)."""
    texts = list(texts)
    path = _folder() / f"{encoder_cache_key(encoder, kind, texts)}.npy"
    return cached_array(path, lambda: encoder.encode(texts, kind=kind, batch_size=batch_size,
                                                      show_progress_bar=show_progress_bar), rows=len(texts))


def clear() -> None:
    """Delete every cached embedding."""
    shutil.rmtree(_folder(), ignore_errors=True)
