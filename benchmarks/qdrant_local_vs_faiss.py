"""Qdrant local mode against FAISS on the same vectors, as the collection grows (when to leave local mode).

    python benchmarks/qdrant_local_vs_faiss.py [--sizes 10000,50000,100000] [--queries 100] [--distance cosine]
    QDRANT_URL=http://localhost:6333 python benchmarks/qdrant_local_vs_faiss.py   # same engine code on a server

Vectors: synthetic, 384-d, **clustered** (200 Gaussian clusters around random unit centres, spread 0.35, then
L2-normalised; seed 0), so neighbours are meaningful without embedding 100k texts; queries are perturbed copies of
random base vectors. Latency does not depend on what the vectors mean, only on their number and size, because both
sides here search exhaustively: Qdrant local mode is numpy brute force (it has no HNSW), FAISS ``IndexFlatIP`` is
exact too. Each query is sent alone (no batching), FAISS with one OpenMP thread; reported: median and p95 per query,
the ratio of the medians, upload/build time, and the top-10 agreement of the two result lists (should be 1.0: both exact).

Qdrant runs through :class:`course_utils.qdrant_engine.QdrantEngine`, the same class the notebooks use; with
``QDRANT_URL`` set the same code talks to a server (whose HNSW index makes large collections fast).
"""
from __future__ import annotations

import argparse
import os
import time
import warnings

import faiss
import numpy as np

from course_utils.measure import time_each
from course_utils.qdrant_engine import QdrantEngine


def clustered_vectors(n: int, dim: int = 384, clusters: int = 200, spread: float = 0.35, seed: int = 0) -> np.ndarray:
    """``n`` L2-normalised vectors around ``clusters`` random unit centres (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = rng.integers(0, clusters, size=n)
    x = centres[labels] + spread * rng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def queries_from(base: np.ndarray, m: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q = base[rng.integers(0, len(base), size=m)] + 0.2 * rng.standard_normal((m, base.shape[1])).astype(np.float32) / np.sqrt(base.shape[1])
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,50000,100000")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--distance", default="cosine", choices=["cosine", "dot"])
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    faiss.omp_set_num_threads(1)
    where = f"server {os.environ['QDRANT_URL']}" if os.environ.get("QDRANT_URL") else "local mode (:memory:)"
    print(f"Qdrant {where} vs FAISS IndexFlatIP; clustered synthetic 384-d vectors (seed 0); {args.queries} queries, "
          f"top-{args.k}, one query at a time; distance {args.distance}; {os.cpu_count()} CPU cores")
    base_all = clustered_vectors(max(sizes))
    queries = queries_from(base_all[: min(sizes)], args.queries)
    rows = []
    for n in sizes:
        base = base_all[:n]
        ids = list(range(n))
        index = faiss.IndexFlatIP(base.shape[1])
        t = time.perf_counter()
        index.add(base)
        faiss_build = time.perf_counter() - t
        faiss_ms, faiss_res = time_each(lambda q: index.search(q[None, :], args.k)[1][0].tolist(), queries)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            engine = QdrantEngine(f"bench_{n}", dim=base.shape[1], distance=args.distance, recreate=True)
            t = time.perf_counter()
            engine.add(ids, base, batch_size=2048)
            upload = time.perf_counter() - t
        large = [str(w.message) for w in caught if "not recommended" in str(w.message)]
        try:
            q_ms, q_res = time_each(lambda q: [h.doc_id for h in engine.search(q, k=args.k)], queries)
        finally:
            engine.client.delete_collection(engine.collection)
            engine.close()
        agree = np.mean([len(set(a) & set(b)) / args.k for a, b in zip(q_res, faiss_res)])
        rows.append((n, np.median(q_ms), np.percentile(q_ms, 95), np.median(faiss_ms), np.percentile(faiss_ms, 95),
                     upload, faiss_build, agree))
        if large:  # qdrant-client shows this warning once per process, at the first collection above 20,000 points
            print(f"  [{n:,} points] qdrant-client warned: {large[0]}")

    print("\n| points | Qdrant median ms | Qdrant p95 ms | FAISS flat median ms | FAISS p95 ms | ratio (median) | "
          "Qdrant upload s | FAISS add s | top-10 agreement |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, qm, qp, fm, fp, up, fb, ag in rows:
        print(f"| {n:,} | {qm:.1f} | {qp:.1f} | {fm:.2f} | {fp:.2f} | {qm / fm:.0f}x | {up:.1f} | {fb:.2f} | {ag:.3f} |")
    first, last = rows[0], rows[-1]
    print(f"\nlatency growth {first[0]:,} -> {last[0]:,} points: Qdrant local {last[1] / first[1]:.1f}x, "
          f"FAISS flat {last[3] / first[3]:.1f}x (points grew {last[0] / first[0]:.0f}x)")


if __name__ == "__main__":
    main()
