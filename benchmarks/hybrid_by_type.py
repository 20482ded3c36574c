"""Where does hybrid search help? BM25 (whitespace, Kiwi), dense, RRF, DBSF and the capstone's weighted score sum
(wsum: dense min-max + BM25 divided by the query's reachable maximum, course_utils.search_system.DEFAULT_PIPELINE)
per query type on the Korean benchmark.

    python benchmarks/hybrid_by_type.py [--split dev|test|both] [--prefetch-k 50] [--rrf-k 2] [--sparse-weight 1.0]

Every method runs as a real Qdrant query (local mode unless QDRANT_URL is set) on one collection holding the
dense vectors (role ko_dense, cached) and the Kiwi BM25 sparse vectors (course_utils.korean_sparse, Modifier.IDF);
whitespace BM25 uses a second collection. Prints nDCG@10 per query type (markdown), the difference of each
fusion to dense, and the time per query of each method measured in the same run.
"""
from __future__ import annotations

import argparse
import time

from course_utils import load_model
from course_utils.data import load_corpus_records, load_qrels, load_queries
from course_utils.embed_cache import encode_cached
from course_utils.evaluation import ALL, evaluate_by_type
from course_utils.hybrid import HybridEngine
from course_utils.qdrant_utils import get_client
from course_utils.korean_sparse import KoreanBM25Encoder
from course_utils.search_system import DEFAULT_PIPELINE
from course_utils.text import passage_texts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="both", choices=["dev", "test", "both"])
    ap.add_argument("--prefetch-k", type=int, default=50)
    ap.add_argument("--rrf-k", type=int, default=None, help="RRF constant (default: Qdrant's 2)")
    ap.add_argument("--sparse-weight", type=float, default=None, help="weighted RRF: sparse weight (dense 1.0)")
    args = ap.parse_args()

    docs = load_corpus_records("ko_news")
    ids = [d["_id"] for d in docs]
    texts = passage_texts(docs)
    start = time.perf_counter()
    dense = load_model("ko_dense")
    dvec = encode_cached(dense, texts)
    kiwi = KoreanBM25Encoder("kiwi").fit(texts)
    ws = KoreanBM25Encoder("whitespace").fit(texts)
    client = get_client()
    engine = HybridEngine(client, "bench_ko_hybrid", dense_dim=dvec.shape[1], sparse=True, recreate=True)
    engine.upsert(ids, dense=dvec, sparse=kiwi.encode_documents(texts))
    ws_engine = HybridEngine(client, "bench_ko_ws", sparse=True, recreate=True)
    ws_engine.upsert(ids, sparse=ws.encode_documents(texts))
    print(f"ko_news: {len(docs)} documents indexed in {time.perf_counter() - start:.1f} s "
          f"(dense {dense.name}, {dense.profile}; BM25 avg_len {kiwi.avg_len:.1f} morphemes)")

    rrf_kw: dict = {"prefetch_k": args.prefetch_k}
    if args.rrf_k is not None:
        rrf_kw["rrf_k"] = args.rrf_k
    if args.sparse_weight is not None:
        rrf_kw["rrf_weights"] = (1.0, args.sparse_weight)
    weight = f", w_sparse={args.sparse_weight}" if args.sparse_weight is not None else ""
    label = f"RRF (k={args.rrf_k or 2}{weight})"
    methods = {
        "BM25 공백": (ws_engine, dict(mode="sparse"), "ws"),
        "BM25 Kiwi": (engine, dict(mode="sparse"), "kiwi"),
        f"dense ({dense.name})": (engine, dict(mode="dense"), "kiwi"),
        label: (engine, dict(mode="rrf", **rrf_kw), "kiwi"),
        "DBSF": (engine, dict(mode="dbsf", prefetch_k=args.prefetch_k), "kiwi"),
        f"wsum {DEFAULT_PIPELINE['wsum_weights']}": (engine, dict(mode="wsum", prefetch_k=args.prefetch_k,
                                                                  wsum_weights=DEFAULT_PIPELINE["wsum_weights"]),
                                                      "kiwi"),
    }
    wsum_label = f"wsum {DEFAULT_PIPELINE['wsum_weights']}"
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    for split in splits:
        queries = load_queries("ko_news", split)
        qrels = load_qrels("ko_news", split)
        types = {qid: q.type for qid, q in queries.items()}
        qtexts = [q.text for q in queries.values()]
        qd = encode_cached(dense, qtexts, kind="query")
        sparse_q = {"kiwi": kiwi.encode_queries(qtexts), "ws": ws.encode_queries(qtexts)}
        runs, ms = {}, {}
        for name, (eng, kw, tok) in methods.items():
            t = time.perf_counter()
            runs[name] = {}
            for i, qid in enumerate(queries):
                extra = {"sparse_scale": kiwi.max_score(sparse_q[tok][i]) or None} if kw["mode"] == "wsum" else {}
                hits = eng.search(dense=qd[i] if eng is engine else None, sparse=sparse_q[tok][i], k=10, **kw, **extra)
                runs[name][qid] = {h.doc_id: h.score for h in hits}
            ms[name] = 1000 * (time.perf_counter() - t) / len(queries)
        table = evaluate_by_type(runs, qrels, types, metrics=("ndcg@10",))
        n = table.attrs["n_queries"]
        nd = table.xs("ndcg@10", level="metric")
        cols = [c for c in nd.columns if c != ALL] + [ALL]
        print(f"\n### nDCG@10, ko_news/{split} (prefetch_k={args.prefetch_k})\n")
        print("| method | " + " | ".join(f"{c} (n={n[c]})" for c in cols) + " | ms/query |")
        print("|---|" + "---:|" * (len(cols) + 1))
        for method, row in nd[cols].iterrows():
            print(f"| {method} | " + " | ".join(f"{row[c]:.3f}" for c in cols) + f" | {ms[method]:.0f} |")
        dense_row = nd.loc[f"dense ({dense.name})", cols]
        print(f"\nfusion - dense ({split}):")
        for method in (label, "DBSF", wsum_label):
            diff = nd.loc[method, cols] - dense_row
            print(f"- {method}: " + ", ".join(f"{c} {diff[c]:+.3f}" for c in cols))
        helped = [c for c in cols if c != ALL and nd.loc[label, c] > dense_row[c] + 1e-9]
        hurt = [c for c in cols if c != ALL and nd.loc[label, c] < dense_row[c] - 1e-9]
        print(f"- {label} helps on: {helped or '-'}; hurts on: {hurt or '-'}")
    client.close()
    print("\n(ms/query: local-mode Qdrant on this machine, all methods in this one run; local sparse search is "
          "pure Python, a server is much faster)")


if __name__ == "__main__":
    main()
