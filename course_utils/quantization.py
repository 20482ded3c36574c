"""Vector quantization measured by hand (chapter 08): binary (sign bits + Hamming), int8 scalar, oversampling and
rescoring.

Qdrant's local mode ignores quantization settings (its search is always exact), so the course measures what a
Qdrant server would do with numpy and FAISS on real course embeddings:

>>> index = BinaryQuantizedIndex(doc_vectors)                  # doctest: +SKIP
>>> ids, scores = index.query(query_vectors, k=10, oversampling=3, rescore=True)   # doctest: +SKIP
>>> recall_at_k(ids, exact_search(query_vectors, doc_vectors, k=10)[0])             # doctest: +SKIP

Vectors are expected L2-normalised (then inner product = cosine), as every course encoder returns them.

- **binary**: one bit per dimension, ``1`` where the value is positive (``np.packbits``): 32x smaller than float32.
  The first stage ranks documents by Hamming distance between the query's bits and the documents' bits
  (``faiss.IndexBinaryFlat``), or, with ``first_stage="asymmetric"``, by the float query against the documents'
  +-1 signs (what Qdrant calls ``query_encoding``: the query keeps more precision than the stored bits).
- **oversampling**: fetch ``ceil(k * oversampling)`` candidates from the cheap first stage ...
- **rescoring**: ... and re-rank those candidates with the original float vectors, keeping the best ``k``.
- **int8 scalar**: each value mapped linearly to 256 levels between two bounds (Qdrant's ``ScalarQuantization``
  optionally with a ``quantile`` that clips outliers): 4x smaller than float32.
- :func:`truncate` cuts vectors to their first ``dim`` values and re-normalises (Matryoshka truncation).

Exact search (the truth every recall here is measured against) and recall@k are
:func:`course_utils.measure.exact_search` and :func:`course_utils.measure.recall_at_k`; both are importable from
here as chapter 08 does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .checks import as_matrix, check_k, check_pair
from .errors import SearchInputError
from .measure import exact_search, principal_axes, recall_at_k, top_k_rows

__all__ = [
    "binarize", "hamming_distances", "ScalarQuantized", "scalar_quantize", "exact_search", "BinaryQuantizedIndex",
    "recall_at_k", "memory_bytes", "oversampling_table", "truncate", "pca_rotation", "FIRST_STAGES",
]

FIRST_STAGES = ("hamming", "asymmetric")


def _as_matrix(vectors: np.ndarray, what: str = "벡터") -> np.ndarray:
    return as_matrix(vectors, what, allow_1d=True)


def _check_pair(queries: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return check_pair(queries, docs, hint="같은 모델(같은 truncate 차원)로 만든 벡터를 쓰세요.")


# ------------------------------------------------------------------------------------------------ binary


def binarize(vectors: np.ndarray) -> np.ndarray:
    """Sign bits packed 8 per byte: ``(n, ceil(dim / 8))`` ``uint8``; bit = 1 where the value is > 0."""
    arr = _as_matrix(vectors)
    return np.packbits(arr > 0, axis=1)


def hamming_distances(query_codes: np.ndarray, doc_codes: np.ndarray) -> np.ndarray:
    """All pairwise Hamming distances between packed codes (numpy popcount): ``(n_queries, n_docs)`` ``int``."""
    q = np.atleast_2d(np.asarray(query_codes, dtype=np.uint8))
    d = np.atleast_2d(np.asarray(doc_codes, dtype=np.uint8))
    if q.shape[1] != d.shape[1]:
        raise SearchInputError(f"코드 길이가 다릅니다: 질의 {q.shape[1]} 바이트, 문서 {d.shape[1]} 바이트.")
    return np.bitwise_count(q[:, None, :] ^ d[None, :, :]).sum(axis=2, dtype=np.int64)


# ------------------------------------------------------------------------------------------------ scalar


@dataclass
class ScalarQuantized:
    """int8 codes plus the affine map back to floats: ``value ~= low + (code + 128) * step``."""

    codes: np.ndarray
    low: float
    step: float

    def dequantize(self) -> np.ndarray:
        return (self.low + (self.codes.astype(np.float32) + 128.0) * self.step).astype(np.float32)

    @property
    def nbytes(self) -> int:
        return int(self.codes.nbytes)


def scalar_quantize(vectors: np.ndarray, quantile: float | None = None) -> ScalarQuantized:
    """int8 scalar quantization with one range for the whole collection (as Qdrant does).

    ``None`` (the default) uses the full min..max range. ``quantile`` (e.g. 0.99, Qdrant's ``quantile`` option)
    clips the most extreme values so the 256 levels are spent where most of the data is; on a model whose vectors
    share a few large common components (e5) that clipping hurts, so measure before you set it.
    """
    arr = _as_matrix(vectors)
    if quantile is None:
        low, high = float(arr.min()), float(arr.max())
    else:
        if not 0.5 < quantile <= 1.0:
            raise SearchInputError(f"quantile 은 0.5 초과 1.0 이하여야 합니다 (예: 0.99): {quantile!r}")
        low, high = (float(v) for v in np.quantile(arr, [1.0 - quantile, quantile]))
    step = max(high - low, 1e-12) / 255.0
    codes = np.clip(np.round((arr - low) / step) - 128.0, -128, 127).astype(np.int8)
    return ScalarQuantized(codes=codes, low=low, step=step)


# ------------------------------------------------------------------------------------------------ search


class BinaryQuantizedIndex:
    """Sign-bit index with oversampling and float rescoring (what Qdrant's ``BinaryQuantization`` does).

    The packed bits live in a ``faiss.IndexBinaryFlat`` (Hamming search); the float vectors are kept beside them
    for rescoring, as a Qdrant server keeps the originals (on disk) next to the quantized copy (in RAM).
    """

    def __init__(self, vectors: np.ndarray) -> None:
        import faiss  # brings its own OpenMP runtime: loaded when an index is built

        self.vectors = _as_matrix(vectors, "문서 벡터")
        self.dim = int(self.vectors.shape[1])
        self.codes = binarize(self.vectors)
        self._signs: np.ndarray | None = None
        self.index = faiss.IndexBinaryFlat(self.codes.shape[1] * 8)
        self.index.add(self.codes)

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def signs(self) -> np.ndarray:
        """The stored bits as +-1 floats (for the asymmetric first stage)."""
        if self._signs is None:
            self._signs = np.where(self.vectors > 0, 1.0, -1.0).astype(np.float32)
        return self._signs

    def candidates(self, queries: np.ndarray, n: int, first_stage: str = "hamming") -> tuple[np.ndarray, np.ndarray]:
        """The first stage alone: ``n`` candidate ids per query and their first-stage scores (higher = closer)."""
        q, _ = _check_pair(queries, self.vectors)
        n = check_k(n, len(self))
        if first_stage == "hamming":
            dist, ids = self.index.search(binarize(q), n)
            return ids.astype(np.int64), (self.dim - 2.0 * dist).astype(np.float32)  # = dot of the +-1 codes
        if first_stage == "asymmetric":
            return top_k_rows(q @ self.signs.T, n)
        raise SearchInputError(f"first_stage={first_stage!r}: {', '.join(FIRST_STAGES)} 중 하나를 쓰세요.")

    def query(self, queries: np.ndarray, k: int = 10, *, oversampling: float = 1.0, rescore: bool = True,
               first_stage: str = "hamming") -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ``(ids, scores)``: ``ceil(k * oversampling)`` candidates, re-ranked by float dot if ``rescore``.

        Without ``rescore`` the first ``k`` candidates are returned in first-stage order (oversampling then
        changes nothing, exactly as on a Qdrant server with ``rescore=False``).
        """
        q, _ = _check_pair(queries, self.vectors)
        k = check_k(k, len(self))
        if not oversampling >= 1.0:
            raise SearchInputError(f"oversampling 은 1.0 이상이어야 합니다 (예: 2, 3, 4): {oversampling!r}")
        n = min(len(self), math.ceil(k * oversampling))
        cand, first = self.candidates(q, n, first_stage)
        if not rescore:
            return cand[:, :k], first[:, :k]
        exact = np.einsum("qd,qnd->qn", q, self.vectors[cand])
        order, scores = top_k_rows(exact, k)
        return np.take_along_axis(cand, order, axis=1), scores

    def memory_bytes(self) -> dict[str, int]:
        """Bytes of the float originals and of the packed bits."""
        return {"float32": int(self.vectors.nbytes), "binary": int(self.codes.nbytes)}


def memory_bytes(n: int, dim: int) -> dict[str, int]:
    """Storage of ``n`` vectors of ``dim`` values: float32, int8 scalar, binary (1 bit per value)."""
    if n < 0 or dim < 1:
        raise SearchInputError(f"n 은 0 이상, dim 은 1 이상이어야 합니다: n={n}, dim={dim}")
    return {"float32": n * dim * 4, "int8": n * dim, "binary": n * math.ceil(dim / 8)}


def oversampling_table(docs: np.ndarray, queries: np.ndarray, k: int = 10,
                       oversampling: Sequence[float] = (1, 2, 3, 4),
                       first_stages: Iterable[str] = ("hamming",), include_int8: bool = True):  # type: ignore[no-untyped-def]
    """recall@k against exact float search, one row per (method, oversampling): a pandas DataFrame.

    Columns: ``method``, ``oversampling``, ``rescore``, ``recall``, ``candidates`` (float vectors read per query
    when rescoring), ``bytes_per_vector`` (what must sit in RAM for the first stage).
    """
    import pandas as pd  # heavy: only the table needs it

    q, d = _check_pair(queries, docs)
    k = check_k(k, d.shape[0])
    truth, _ = exact_search(q, d, k)
    index = BinaryQuantizedIndex(d)
    bits = int(index.codes.shape[1])
    rows = []
    for stage in first_stages:
        name = "binary" if stage == "hamming" else "binary (asymmetric)"
        for rescore in (False, True):
            for os_ in oversampling:
                ids, _ = index.query(q, k, oversampling=os_, rescore=rescore, first_stage=stage)
                rows.append({"method": name, "oversampling": float(os_), "rescore": rescore,
                             "recall": recall_at_k(ids, truth),
                             "candidates": min(len(index), math.ceil(k * os_)) if rescore else 0,
                             "bytes_per_vector": bits})
    if include_int8:
        sq = scalar_quantize(d)
        ids, _ = exact_search(q, sq.dequantize(), k)
        rows.append({"method": "int8 scalar", "oversampling": 1.0, "rescore": False,
                     "recall": recall_at_k(ids, truth), "candidates": 0, "bytes_per_vector": d.shape[1]})
    return pd.DataFrame(rows)


def truncate(vectors: np.ndarray, dim: int, *, renormalize: bool = True) -> np.ndarray:
    """The first ``dim`` values of each vector (Matryoshka truncation), L2-normalised again by default."""
    arr = _as_matrix(vectors)
    if not isinstance(dim, (int, np.integer)) or not 1 <= dim <= arr.shape[1]:
        raise SearchInputError(f"dim 은 1 이상 {arr.shape[1]} 이하의 정수여야 합니다: {dim!r}")
    out = np.ascontiguousarray(arr[:, :dim])
    if renormalize:
        out = out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
    return out.astype(np.float32)


def pca_rotation(fit_vectors: np.ndarray) -> np.ndarray:
    """An orthonormal ``(dim, dim)`` rotation whose rows are the principal axes of ``fit_vectors``, largest first.

    ``x @ R.T`` keeps every inner product (a rotation), but orders the axes by variance, so :func:`truncate`
    afterwards keeps the most informative directions: a post-hoc stand-in for Matryoshka training on a model
    that never had it. Fit it on documents only (no query leaks into it).
    """
    return principal_axes(as_matrix(fit_vectors, "fit_vectors")).astype(np.float32)
