"""Second stage: quality and latency as the number of candidates K grows (10, 50, 100).

    python benchmarks/rerank_latency.py [--dataset en_news|ko_news] [--layers 1] [--epochs 5] [--lr 3e-4]

First stage: the dataset's dense role (en_dense / ko_dense) ranks every document; its top K go to
- MaxSim rescoring with the late_interaction role's token vectors (offline: the rebuilt multilingual-e5-small's
  token vectors, NOT trained for late interaction; the document matrices are cached on disk, so only the query is
  encoded at query time),
- a cross-encoder: the reranker role where it loads (full profile), else a small cross-encoder fine-tuned here on
  the dev split's judgments (course_utils.rerank.train_cross_encoder; dev for training, test for evaluation).
Prints nDCG@10 on test for each K and the median latency per query measured side by side in this run.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from course_utils import ModelUnavailableError, load_model
from course_utils.data import load_corpus_records, load_qrels, load_queries
from course_utils.embed_cache import encode_cached
from course_utils.evaluation import evaluate_run
from course_utils.late_interaction import encode_multivectors_cached, maxsim_scores
from course_utils.measure import vector_run
from course_utils.rerank import rerank_run, time_rerank, train_cross_encoder, training_pairs
from course_utils.text import passage_texts

KS = (10, 50, 100)


def restrict(run: dict, first: dict, k: int) -> dict:
    """Keep, for each query, the reranked scores of the first stage's top k only."""
    out = {}
    for q, docs in run.items():
        keep = {d for d, _ in sorted(first[q].items(), key=lambda x: -x[1])[:k]}
        out[q] = {d: s for d, s in docs.items() if d in keep}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="en_news", choices=["en_news", "ko_news"])
    ap.add_argument("--layers", type=int, default=1, help="encoder layers kept for the trained cross-encoder")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--max-length", type=int, default=96)
    ap.add_argument("--negatives", type=int, default=4, help="mined negatives per dev query")
    ap.add_argument("--latency-queries", type=int, default=10)
    args = ap.parse_args()

    docs = load_corpus_records(args.dataset)
    ids = [d["_id"] for d in docs]
    texts = passage_texts(docs)
    doc_text = dict(zip(ids, texts))
    role = "en_dense" if args.dataset == "en_news" else "ko_dense"
    dense = load_model(role)
    dvec = encode_cached(dense, texts)
    splits = {s: load_queries(args.dataset, s) for s in ("dev", "test")}
    first = {}
    for s, qs in splits.items():
        qvec = encode_cached(dense, [q.text for q in qs.values()], kind="query")
        first[s] = vector_run(list(qs), qvec, ids, dvec, max(KS))
    test_q = {qid: q.text for qid, q in splits["test"].items()}
    qrels = load_qrels(args.dataset, "test")
    rows = [("first stage: " + dense.name, "-", evaluate_run(restrict(first["test"], first["test"], 10), qrels,
                                                               ("ndcg@10",))["ndcg@10"], float("nan"))]

    # --- MaxSim rescoring
    late = load_model("late_interaction")
    t = time.perf_counter()
    mats = dict(zip(ids, encode_multivectors_cached(late, texts)))
    print(f"document token vectors: {sum(m.shape[0] for m in mats.values())} rows, "
          f"{time.perf_counter() - t:.1f} s (cached after the first run)")
    qmats = dict(zip(test_q, late.encode_queries(list(test_q.values()))))
    maxsim_run = {}
    for q in test_q:
        cand = sorted(first["test"][q].items(), key=lambda x: -x[1])
        scores = maxsim_scores(qmats[q], [mats[d] for d, _ in cand])
        maxsim_run[q] = {d: float(s) for (d, _), s in zip(cand, scores)}
    sample = list(test_q)[: args.latency_queries]
    encode_times = []
    for q in sample:  # query encoding is paid once per query, whatever K is
        start = time.perf_counter()
        late.encode_queries([test_q[q]])
        encode_times.append(time.perf_counter() - start)
    for k in KS:
        times = []
        for q in sample:
            cand = sorted(first["test"][q].items(), key=lambda x: -x[1])[:k]
            start = time.perf_counter()
            maxsim_scores(qmats[q], [mats[d] for d, _ in cand])
            times.append(time.perf_counter() - start)
        nd = evaluate_run(restrict(maxsim_run, first["test"], k), qrels, ("ndcg@10",))["ndcg@10"]
        rows.append((f"MaxSim rescoring ({late.name}{', untrained stand-in' if late.profile == 'offline' else ''})",
                     k, nd, 1000 * (float(np.median(times)) + float(np.median(encode_times)))))

    # --- cross-encoder
    try:
        reranker = load_model("reranker")
        name = reranker.name
    except ModelUnavailableError as exc:
        print(str(exc).splitlines()[0])
        dev_q = {qid: q.text for qid, q in splits["dev"].items()}
        pairs = training_pairs(dev_q, load_qrels(args.dataset, "dev"), doc_text, first["dev"],
                               negatives_per_query=args.negatives)
        t = time.perf_counter()
        reranker = train_cross_encoder(pairs, epochs=args.epochs, lr=args.lr, max_length=args.max_length,
                                       num_layers=args.layers)
        print(f"trained {reranker.name} in {time.perf_counter() - t:.1f} s (0 s when cached)")
        name = f"{reranker.name}, {args.layers} layers, trained on {args.dataset} dev"
    t = time.perf_counter()
    ce_run = rerank_run(first["test"], test_q, doc_text, reranker, k_candidates=max(KS))
    print(f"cross-encoder scored {len(test_q) * max(KS)} pairs in {time.perf_counter() - t:.1f} s")
    for k in KS:
        times = []
        for q in sample:
            cand = [doc_text[d] for d, _ in sorted(first["test"][q].items(), key=lambda x: -x[1])[:k]]
            times.append(time_rerank(reranker, test_q[q], cand, repeats=1))
        nd = evaluate_run(restrict(ce_run, first["test"], k), qrels, ("ndcg@10",))["ndcg@10"]
        rows.append((f"cross-encoder ({name})", k, nd, 1000 * float(np.median(times))))

    print(f"\n### {args.dataset} test ({len(test_q)} queries): rerank the first stage's top K\n")
    print("| second stage | K | nDCG@10 | median ms/query |\n|---|---:|---:|---:|")
    for method, k, nd, ms in rows:
        print(f"| {method} | {k} | {nd:.3f} | {'-' if np.isnan(ms) else f'{ms:.0f}'} |")
    ce = {k: ms for m, k, _, ms in rows if m.startswith("cross")}
    ms_ = {k: ms for m, k, _, ms in rows if m.startswith("MaxSim")}
    print(f"\nMaxSim ms/query = query token encoding (median {1000 * float(np.median(encode_times)):.0f} ms, "
          "paid once) + scoring the K cached document matrices")
    print(f"latency ratio K=100 / K=10: cross-encoder {ce[100] / ce[10]:.1f}x, MaxSim {ms_[100] / ms_[10]:.1f}x; "
          f"cross-encoder / MaxSim at K=100: {ce[100] / ms_[100]:.1f}x (same run, same machine)")


if __name__ == "__main__":
    main()
