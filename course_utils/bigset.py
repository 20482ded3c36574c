"""The course's large real-text vector set (chapters 03, 08): 50,000+ Python docstrings, embedded once and cached.

The course's own corpora are small (600 Korean and 208 English documents), too small to show what approximate
indexes (IVF, HNSW, PQ) and binary quantization trade away. No large text corpus can be downloaded here, but every
Python environment carries one: the docstrings of its installed packages. :func:`docstring_texts` collects them
(module, class and function docstrings found with :mod:`ast`, outside test folders, 40-2,000 characters,
de-duplicated, sorted, then shuffled with a fixed seed); :func:`docstring_vectors` embeds them with the course role ``static`` (model2vec: the
model distilled from all-MiniLM-L6-v2 in the offline profile, potion-multilingual-128M in the full profile), which
embeds 50,000 texts in seconds on a laptop CPU, where a transformer needs tens of minutes on 2 cores (chapter 03
measures MiniLM's rate on these texts; :func:`minilm_docstring_vectors` builds that version, used by
``benchmarks/faiss_index_table.py --encoder minilm`` and ``benchmarks/binary_quantization.py --large-encoder minilm``).

Which docstrings exist depends on the installed packages and their versions, so another environment gets another
(equally real) set; ``meta`` records the count, a hash of the texts and how they were made. Both texts and vectors
are cached under :func:`~course_utils.config.cache_dir` (``bigset/``, the MiniLM version in ``faiss-bench/``), never
in the repository, through the course's one array cache (:func:`course_utils.embed_cache.cached_array`).
"""
from __future__ import annotations

import ast
import hashlib
import inspect
import os
import random
import shutil
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .assets import minilm_onnx_dir
from .claims import standin_hub_active
from .config import cache_dir
from .embed_cache import cached_array, cached_json
from .errors import SearchInputError
from .models import load_model

__all__ = ["BigSet", "docstring_texts", "docstring_vectors", "iter_docstrings", "minilm_docstring_vectors",
           "minilm_folder", "MIN_CHARS", "MAX_CHARS", "MINILM_MODEL"]

MIN_CHARS, MAX_CHARS = 40, 2000
_VERSION = "v4"  # v4: test runners and installers skipped, cache keyed by the installed distributions
MAX_FILE_BYTES = 1_000_000
"""Larger ``.py`` files (generated tables, vendored bundles) are skipped: slow to parse, few docstrings."""
SKIP_DIRS = frozenset({"tests", "test", "testing", "__pycache__"})
"""Test suites are skipped: many files, few docstrings that describe anything."""
SKIP_TOP = frozenset({
    "pip", "setuptools", "_distutils_hack", "pkg_resources", "wheel",            # installers
    "_pytest", "pytest", "py", "pluggy", "iniconfig", "xdist", "execnet", "nbval", "pytest_timeout",  # test runners
})
"""Top-level packages of site-packages that are skipped: the tools that install the course and run its tests. Adding
a test plugin or upgrading pip must not change the course's data set (the committed outputs of chapters 03 and 08)."""


def _environment_digest() -> str:
    """16 hex digits over the installed distributions (name==version) that the set is drawn from: the cache is rebuilt
    when they change, so cached texts always match this environment."""
    from importlib.metadata import distributions

    skip = {name.replace("_", "-") for name in SKIP_TOP} | {"pytest-xdist", "pytest-timeout", "course-utils"}
    names = sorted({f"{(d.metadata['Name'] or '').lower().replace('_', '-')}=={d.version}" for d in distributions()})
    keep = [n for n in names if n.split("==")[0] not in skip]
    return hashlib.sha256("\n".join(keep).encode()).hexdigest()[:16]


def _python_files(root: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        top = Path(dirpath) == Path(root)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not (top and d in SKIP_TOP))
        for name in sorted(filenames):
            if top and (name.startswith("__editable__") or name.removesuffix(".py") in SKIP_TOP):
                continue
            if name.endswith(".py"):
                files.append(Path(dirpath, name))
    return files


def _file_docstrings(path: Path) -> list[str]:
    """Module, class and function docstrings of one file (cleaned); none if it cannot be read or parsed."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return []
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError, OSError, RecursionError, MemoryError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                out.append(inspect.cleandoc(doc))
    return out


def iter_docstrings(root: Path, workers: int | None = None) -> Iterator[str]:
    """Module, class and function docstrings of every ``.py`` file under ``root``, in sorted file order.

    Files are parsed by ``workers`` processes (default: the CPU count); the order of the result does not depend
    on it.
    """
    files = _python_files(Path(root))
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers > 1 and len(files) > 200:
        try:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(_file_docstrings, files, chunksize=64))
            for docs in results:
                yield from docs
            return
        except (OSError, RuntimeError, ImportError):  # no process pool here: parse in this process
            pass
    for path in files:
        yield from _file_docstrings(path)


def _folder(n: int, seed: int) -> Path:
    return cache_dir() / "bigset" / f"docstrings-{_VERSION}-{n}-seed{seed}-env{_environment_digest()}"


def docstring_texts(n: int, *, seed: int = 0, root: Path | None = None) -> list[str]:
    """``n`` distinct docstrings of ``MIN_CHARS``..``MAX_CHARS`` characters, shuffled with ``seed`` (cached).

    ``root`` defaults to this environment's site-packages. Raises :class:`SearchInputError` when fewer than ``n``
    docstrings exist there (ask for fewer).
    """
    if n < 1:
        raise SearchInputError(f"n={n}: 1개 이상을 요청하세요.")
    base = Path(root) if root is not None else Path(sysconfig.get_paths()["purelib"])

    def collect() -> list[str]:
        seen: set[str] = set()
        texts: list[str] = []
        for doc in iter_docstrings(base):
            doc = doc.strip()
            if MIN_CHARS <= len(doc) <= MAX_CHARS and doc not in seen:
                seen.add(doc)
                texts.append(doc)
        texts.sort()  # the walk order can differ between file systems: sort, then shuffle with the seed
        random.Random(seed).shuffle(texts)
        if len(texts) < n:
            raise SearchInputError(f"{base} 에서 조건에 맞는 docstring을 {len(texts)}개만 찾았습니다 ({n}개 요청). "
                                   "더 적게 요청하거나 패키지가 더 많은 환경에서 실행하세요.")
        return texts[:n]

    if root is not None:
        return collect()
    return cached_json(_folder(n, seed) / "texts.json", collect)


@dataclass
class BigSet:
    """``base`` (indexed) and ``queries`` (never indexed) vectors, L2-normalised float32, with how they were made."""

    base: np.ndarray
    queries: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        m = self.meta
        return (f"docstring {m['n_base']:,}개(색인) + {m['n_queries']}개(질의), {m['dim']}차원, "
                f"모델 {m['model']} ({m['backend']}), 평균 {m['mean_chars']:.0f}자")


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").lower()[:60]


def docstring_vectors(n_base: int = 50_000, n_queries: int = 500, *, encoder: Any = None, seed: int = 0,
                      verbose: bool = True) -> BigSet:
    """The docstring set embedded with ``encoder`` (default: ``load_model("static")``), cached per model.

    The first ``n_base`` texts are the documents, the next ``n_queries`` the queries (different texts, so a
    query's exact nearest neighbour is not itself). Vectors are built once (seconds with a static model) and read
    from the cache afterwards.
    """
    if n_base < 10 or n_queries < 1:
        raise SearchInputError(f"n_base={n_base}, n_queries={n_queries}: 문서 10개 이상, 질의 1개 이상을 요청하세요.")
    if encoder is None:
        encoder = load_model("static", verbose=verbose)
    name = str(getattr(encoder, "name", type(encoder).__name__))
    standin = "-standin" if standin_hub_active() else ""  # random stand-in vectors never answer for the real model's
    vec_path = _folder(n_base + n_queries, seed) / f"vectors-{_slug(name)}{standin}.npy"

    def build() -> tuple[np.ndarray, dict[str, Any]]:
        t0 = time.perf_counter()
        texts = docstring_texts(n_base + n_queries, seed=seed)
        collect_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        vectors = np.asarray(encoder.encode_documents(texts), dtype=np.float32)
        embed_s = time.perf_counter() - t0
        vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        meta = {
            "n_base": n_base, "n_queries": n_queries, "dim": int(vectors.shape[1]), "model": name,
            "backend": str(getattr(getattr(encoder, "spec", None), "backend", "")), "seed": seed,
            "texts_sha256_16": _texts_digest(texts), "mean_chars": float(np.mean([len(t) for t in texts])),
            "collect_seconds": round(collect_s, 1), "embed_seconds": round(embed_s, 1),
            "python": sys.version.split()[0], "built": time.strftime("%Y-%m-%d"),
        }
        return vectors, meta

    vectors, meta = cached_array(vec_path, build, rows=n_base + n_queries, meta_path=vec_path.with_suffix(".json"))
    return BigSet(vectors[:n_base], vectors[n_base:n_base + n_queries], meta)


def _texts_digest(texts: list[str]) -> str:
    return hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()[:16]


# ------------------------------------------------------------------------------------------ MiniLM version

MINILM_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_CHUNK = 2048


def minilm_folder(n_base: int, n_queries: int) -> Path:
    """Where the MiniLM vectors of the docstring set are cached (``vectors.npy`` + ``meta.json``)."""
    return cache_dir() / "faiss-bench" / f"docstrings-minilm-{n_base}-{n_queries}"


def _embed_minilm(texts: list[str], folder: Path, batch_size: int = 64, verbose: bool = True) -> np.ndarray:
    """MiniLM (FastEmbed ONNX, offline export) vectors of ``texts``, sorted by length, checkpointed per chunk."""
    from fastembed import TextEmbedding  # heavy (onnxruntime): only when the MiniLM set is built

    model = TextEmbedding(MINILM_MODEL, specific_model_path=str(minilm_onnx_dir()))
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    chunks = folder / "chunks"
    chunks.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    done = 0
    for c, start in enumerate(range(0, len(order), _CHUNK)):
        ids = order[start:start + _CHUNK]
        path = chunks / f"{c:04d}.npy"
        if path.exists():
            vecs = np.load(path)
        else:
            vecs = np.stack(list(model.passage_embed([texts[i] for i in ids], batch_size=batch_size)))
            np.save(path, vecs)
            done += len(ids)
            if verbose:
                rate = done / (time.perf_counter() - t0)
                print(f"  chunk {c + 1}/{-(-len(order) // _CHUNK)}: {start + len(ids)}/{len(texts)} texts "
                      f"({rate:.1f} docs/s this run)", flush=True)
        out[ids] = vecs
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.clip(norms, 1e-12, None)


def minilm_docstring_vectors(n_base: int = 50_000, n_queries: int = 500, *, build: bool = True,
                             verbose: bool = True) -> BigSet | None:
    """The same docstrings embedded with all-MiniLM-L6-v2 (FastEmbed ONNX of the offline weights, truncation at
    256 tokens, texts sorted by length, batches of 64, checkpointed chunk by chunk so an interrupted build resumes).

    On 2 CPU cores that takes tens of minutes (``meta.json`` records the time of the build); ``build=False``
    returns ``None`` when the vectors have not been built yet.
    """
    folder = minilm_folder(n_base, n_queries)
    vec_path, meta_path = folder / "vectors.npy", folder / "meta.json"
    if not build and not (vec_path.exists() and meta_path.exists()):
        return None

    def compute() -> tuple[np.ndarray, dict[str, Any]]:
        texts = docstring_texts(n_base + n_queries)
        if verbose:
            print(f"embedding {len(texts)} docstrings with all-MiniLM-L6-v2 (FastEmbed ONNX, sorted by length, "
                  f"batch 64); cached in {folder.name}/ ...", flush=True)
        t0 = time.perf_counter()
        vectors = _embed_minilm(texts, folder, verbose=verbose)
        meta = {"n_base": n_base, "n_queries": n_queries, "model": MINILM_MODEL,
                "backend": "fastembed onnx fp32 (offline export)", "texts_sha256_16": _texts_digest(texts),
                "mean_chars": float(np.mean([len(t) for t in texts])),
                "embed_seconds_last_run": round(time.perf_counter() - t0, 1),
                "python": sys.version.split()[0], "built": time.strftime("%Y-%m-%d")}
        return vectors, meta

    vectors, meta = cached_array(vec_path, compute, meta_path=meta_path)
    shutil.rmtree(folder / "chunks", ignore_errors=True)  # the checkpoints are in vectors.npy now
    return BigSet(vectors[:n_base], vectors[n_base:n_base + n_queries], meta)
