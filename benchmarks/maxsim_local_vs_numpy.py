"""MaxSim second stage: Qdrant local mode against numpy (course_utils.late_interaction.MaxSimIndex), same queries.

    python benchmarks/maxsim_local_vs_numpy.py [--queries 20] [--prefetch 50]

Corpus: ``ko_news`` (600 documents), token vectors of the offline ``late_interaction`` role (the rebuilt
multilingual-e5-small, from the disk cache), dev queries. Both sides compute the same thing: the first stage
(dense, top ``--prefetch`` from Qdrant) then MaxSim over those candidates. Qdrant's local mode evaluates
multivector MaxSim in Python for every stored point; ``MaxSimIndex`` does one matrix product over the stacked
token vectors. Printed: median and p95 milliseconds per query for each, their ratio measured side by side in this
run, and the top-10 agreement (should be 1.0: same arithmetic). A Qdrant server (``QDRANT_URL``) computes MaxSim
natively and is not what this measures.
"""
from __future__ import annotations

import argparse

import numpy as np

from course_utils import load_model
from course_utils.data import load_corpus_records, load_queries
from course_utils.embed_cache import encode_cached
from course_utils.hybrid import HybridEngine
from course_utils.late_interaction import MaxSimIndex, encode_multivectors_cached
from course_utils.measure import time_each
from course_utils.qdrant_utils import get_client
from course_utils.text import passage_texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--prefetch", type=int, default=50)
    args = ap.parse_args()

    corpus = load_corpus_records("ko_news")
    ids, texts = [d["_id"] for d in corpus], passage_texts(corpus)
    dense, late = load_model("ko_dense"), load_model("late_interaction")
    dvec, mats = encode_cached(dense, texts), encode_multivectors_cached(late, texts)
    queries = list(load_queries("ko_news", "dev").values())[: args.queries]
    qtext = [q.text for q in queries]
    qd, qm = encode_cached(dense, qtext, kind="query"), encode_multivectors_cached(late, qtext, kind="query")
    engine = HybridEngine(get_client(), "bench_maxsim", dense_dim=dvec.shape[1], multivector_dim=mats[0].shape[1],
                          recreate=True)
    try:
        engine.upsert(ids, dense=dvec, multivector=mats, texts=texts)
        index = MaxSimIndex(mats, ids=ids)
        items = list(range(len(queries)))

        def qdrant(i: int) -> list[str]:
            return [h.doc_id for h in engine.search(dense=qd[i], multivector=qm[i], k=10, mode="dense",
                                                    rescore="multivector", prefetch_k=args.prefetch)]

        def numpy_side(i: int) -> list[str]:
            cands = [h.doc_id for h in engine.search(dense=qd[i], k=args.prefetch, mode="dense")]
            return [d for d, _ in index.search(qm[i], 10, candidates=cands)]

        numpy_side(0), qdrant(0)  # warm both paths
        t_q, hits_q = time_each(qdrant, items)
        t_n, hits_n = time_each(numpy_side, items)
    finally:
        engine.close()
    agree = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(hits_q, hits_n)])
    print(f"ko_news {len(ids)} docs, {index.vectors.shape[0]:,} token vectors x {index.dim}; {len(items)} dev queries; "
          f"prefetch {args.prefetch} -> MaxSim top 10")
    for name, t in (("Qdrant local mode", t_q), ("Qdrant first stage + numpy MaxSim", t_n)):
        print(f"  {name:36s} median {np.median(t):7.1f} ms   p95 {np.percentile(t, 95):7.1f} ms")
    print(f"  ratio of medians (local / numpy): {np.median(t_q) / np.median(t_n):.1f}x; top-10 agreement {agree:.3f}")


if __name__ == "__main__":
    main()
