"""Binary / scalar quantization helpers: exactness checks against brute force, and bad input."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils.errors import SearchInputError
from course_utils.quantization import (
    BinaryQuantizedIndex, binarize, exact_search, hamming_distances, memory_bytes, oversampling_table, pca_rotation,
    recall_at_k, scalar_quantize, truncate,
)


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centers = _unit(rng, 20, 64)
    docs = centers[rng.integers(0, 20, 800)] + 0.3 * rng.standard_normal((800, 64)).astype(np.float32)
    queries = centers[rng.integers(0, 20, 50)] + 0.3 * rng.standard_normal((50, 64)).astype(np.float32)
    norm = lambda a: (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)  # noqa: E731
    return norm(docs), norm(queries)


def test_binarize_packs_sign_bits() -> None:
    x = np.array([[0.5, -1.0, 2.0, 0.0, -0.1, 0.3, 0.2, -0.2, 1.0]], dtype=np.float32)
    codes = binarize(x)
    assert codes.dtype == np.uint8 and codes.shape == (1, 2)
    assert np.array_equal(np.unpackbits(codes, axis=1)[0, :9], [1, 0, 1, 0, 0, 1, 1, 0, 1])


def test_hamming_matches_bit_count(data) -> None:  # type: ignore[no-untyped-def]
    docs, queries = data
    qb, db = binarize(queries[:5]), binarize(docs[:30])
    ham = hamming_distances(qb, db)
    bits_q, bits_d = queries[:5] > 0, docs[:30] > 0
    expected = (bits_q[:, None, :] != bits_d[None, :, :]).sum(axis=2)
    assert np.array_equal(ham, expected)


def test_hamming_first_stage_equals_faiss_and_numpy(data) -> None:  # type: ignore[no-untyped-def]
    docs, queries = data
    index = BinaryQuantizedIndex(docs)
    ids, scores = index.candidates(queries, 10)
    ham = hamming_distances(binarize(queries), index.codes)
    # FAISS returns the 10 smallest Hamming distances (ties in any order): the distances must match numpy's
    assert np.array_equal(np.sort(ham, axis=1)[:, :10], (64 - scores) / 2)


def test_rescore_with_full_oversampling_is_exact(data) -> None:  # type: ignore[no-untyped-def]
    docs, queries = data
    index = BinaryQuantizedIndex(docs)
    truth, truth_scores = exact_search(queries, docs, 10)
    ids, scores = index.query(queries, 10, oversampling=len(docs) / 10, rescore=True)
    assert recall_at_k(ids, truth) == 1.0
    assert np.allclose(scores, truth_scores, atol=1e-5)


def test_oversampling_and_rescoring_help(data) -> None:  # type: ignore[no-untyped-def]
    docs, queries = data
    table = oversampling_table(docs, queries, k=10, oversampling=(1, 4), first_stages=("hamming", "asymmetric"))
    rec = {(r.method, r.oversampling, r.rescore): r.recall for r in table.itertuples()}
    assert rec[("binary", 4.0, True)] > rec[("binary", 1.0, True)]
    assert rec[("binary", 1.0, False)] == rec[("binary", 4.0, False)]  # no rescore: oversampling changes nothing
    assert rec[("binary (asymmetric)", 1.0, False)] >= rec[("binary", 1.0, False)]
    assert rec[("int8 scalar", 1.0, False)] > 0.9
    assert set(table.columns) >= {"method", "oversampling", "rescore", "recall", "candidates", "bytes_per_vector"}


def test_scalar_quantize_roundtrip(data) -> None:  # type: ignore[no-untyped-def]
    docs, _ = data
    sq = scalar_quantize(docs, quantile=None)
    assert sq.codes.dtype == np.int8 and sq.nbytes == docs.size
    assert np.abs(sq.dequantize() - docs).max() <= sq.step / 2 + 1e-6
    clipped = scalar_quantize(docs, quantile=0.99)
    assert clipped.step < sq.step


def test_memory_bytes() -> None:
    assert memory_bytes(1000, 384) == {"float32": 1_536_000, "int8": 384_000, "binary": 48_000}
    assert memory_bytes(1, 3072)["float32"] / memory_bytes(1, 3072)["binary"] == 32


def test_truncate_and_pca_rotation(data) -> None:  # type: ignore[no-untyped-def]
    docs, queries = data
    t = truncate(docs, 16)
    assert t.shape == (len(docs), 16) and np.allclose(np.linalg.norm(t, axis=1), 1.0, atol=1e-5)
    rot = pca_rotation(docs)
    assert np.allclose(rot @ rot.T, np.eye(64), atol=1e-4)
    assert np.allclose((queries @ rot.T) @ (docs @ rot.T).T, queries @ docs.T, atol=1e-4)  # a rotation keeps scores
    var = (docs @ rot.T).var(axis=0)
    assert var[0] >= var[10] >= var[-1]


@pytest.mark.parametrize("call", [
    lambda d, q: BinaryQuantizedIndex(np.zeros((0, 8), dtype=np.float32)),
    lambda d, q: BinaryQuantizedIndex(d).query(q[:, :10], 5),
    lambda d, q: BinaryQuantizedIndex(d).query(q, len(d) + 1),
    lambda d, q: BinaryQuantizedIndex(d).query(q, 0),
    lambda d, q: BinaryQuantizedIndex(d).query(q, 5, oversampling=0.5),
    lambda d, q: BinaryQuantizedIndex(d).query(q, 5, first_stage="cosine"),
    lambda d, q: exact_search(q, d[:, :32], 5),
    lambda d, q: truncate(d, 0),
    lambda d, q: truncate(d, 65),
    lambda d, q: scalar_quantize(d, quantile=0.2),
    lambda d, q: recall_at_k(np.zeros((3, 5)), np.zeros((2, 5))),
    lambda d, q: memory_bytes(10, 0),
    lambda d, q: pca_rotation(d[:1]),
], ids=["empty", "dim", "k-too-big", "k-zero", "oversampling", "stage", "exact-dim", "trunc-0", "trunc-big",
        "quantile", "recall-shape", "memory", "pca-one"])
def test_bad_input_raises_search_input_error(data, call) -> None:  # type: ignore[no-untyped-def]
    docs, queries = data
    with pytest.raises(SearchInputError):
        call(docs, queries)


def test_error_messages_are_korean_and_actionable(data) -> None:  # type: ignore[no-untyped-def]
    docs, queries = data
    with pytest.raises(SearchInputError, match="k 를"):
        BinaryQuantizedIndex(docs).query(queries, len(docs) + 1)
