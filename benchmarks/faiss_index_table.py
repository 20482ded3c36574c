"""FAISS index types measured side by side on 50,000 real text embeddings (chapter 03's big table).

    python benchmarks/faiss_index_table.py                   # static-model vectors (seconds to build), then the table
    python benchmarks/faiss_index_table.py --encoder minilm  # MiniLM vectors of the same texts (built once, slow)
    python benchmarks/faiss_index_table.py --build-only      # only build/cache the vectors
    python benchmarks/faiss_index_table.py --threads 2       # FAISS threads for build and search (default 1)

The texts: Python docstrings of the packages installed in this environment (``course_utils.bigset``: module, class
and function docstrings found with ``ast``, de-duplicated, 40-2,000 characters, sorted, shuffled with a fixed seed);
``--n-base`` of them are indexed, ``--n-queries`` further ones (never indexed) are the queries. Which docstrings
exist depends on the installed packages, so another environment gets another (equally real) set.

The vectors: ``--encoder static`` (default) uses the course role ``static`` (model2vec; offline: distilled from
all-MiniLM-L6-v2, 256-d), the same set chapter 03 and chapter 08 read from the cache; it embeds 50,500 texts in
seconds. ``--encoder minilm`` embeds the same texts with all-MiniLM-L6-v2 (the offline FastEmbed ONNX export,
truncation at 256 tokens, texts sorted by length, batches of 64, checkpointed chunk by chunk so an interrupted
build resumes); on 2 CPU cores that takes tens of minutes (``meta.json`` records the time of each build).

Columns: build_s = train + add (seconds), size_mb = serialised index (vectors or codes + centroids or graph),
ms_per_query = one query at a time (mean), recall@10 = share of the exact top-10 (flat inner product) found.
"""
from __future__ import annotations

import argparse
import time

from course_utils.bigset import docstring_vectors, minilm_docstring_vectors
from course_utils.faiss_engine import benchmark_indexes


def to_markdown(table) -> str:  # type: ignore[no-untyped-def]
    k = table.attrs["k"]
    lines = [f"| index | search | build s | size MB | ms/query | recall@{k} |", "|---|---|---:|---:|---:|---:|"]
    for _, r in table.iterrows():
        lines.append(f"| {r['index']} | {r['search']} | {r['build_s']:.2f} | {r['size_mb']:.1f} | "
                     f"{r['ms_per_query']:.3f} | {r[f'recall@{k}']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-base", type=int, default=50_000)
    ap.add_argument("--n-queries", type=int, default=500)
    ap.add_argument("--threads", type=int, default=1, help="FAISS OpenMP threads for build and search")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--encoder", choices=("static", "minilm"), default="static",
                    help="static: the role 'static' (seconds); minilm: all-MiniLM-L6-v2 ONNX (tens of minutes, cached)")
    args = ap.parse_args()

    if args.encoder == "minilm":
        big = minilm_docstring_vectors(args.n_base, args.n_queries)
    else:
        big = docstring_vectors(args.n_base, args.n_queries)
    assert big is not None
    base, queries, meta = big.base, big.queries, big.meta
    print(f"vectors: {base.shape[0]} base + {queries.shape[0]} queries, {base.shape[1]}-d, {meta['model']} "
          f"({meta['backend']}), docstrings mean {meta['mean_chars']:.0f} chars, built {meta['built']}")
    if args.build_only:
        return

    t0 = time.perf_counter()
    table = benchmark_indexes(base, queries, k=args.k, threads=args.threads)
    print(f"\nFAISS index table: {base.shape[0]:,} vectors, {queries.shape[0]} queries, metric inner product "
          f"(cosine), {args.threads} FAISS thread(s), measured {time.strftime('%Y-%m-%d')}\n")
    print(to_markdown(table))
    flat_ms = float(table.loc[table["index"] == "flat", "ms_per_query"].iloc[0])
    print("\nspeed-up over flat (same run): " + ", ".join(
        f"{r['index']} {r['search']}: {flat_ms / r['ms_per_query']:.1f}x" for _, r in table.iterrows()
        if r["index"] != "flat"))
    print(f"(measurement {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
