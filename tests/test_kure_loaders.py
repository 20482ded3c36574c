"""The full profile's Korean late-interaction and reranker load paths (KURE-v2, KURE-Reranker-base), tested on tiny
random models built here in the public layouts of those repositories: no network, no hub.

- ``st-multivector``: a PyLate ColBERT folder (modules Transformer + ``pylate.models.Dense.Dense``, and
  ``config_sentence_transformers.json`` with PyLate's fields, as ``pylate.models.ColBERT.save`` writes them) loaded by
  sentence-transformers' ``MultiVectorEncoder``, the way :func:`course_utils.models.load_model` loads KURE-v2.
- ``st-cross-encoder``: a sentence-transformers ``CrossEncoder`` folder, scored through :class:`models.Reranker`.
"""
from __future__ import annotations

import json
import string
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from course_utils.late_interaction import maxsim, maxsim_alignment, maxsim_scores
from course_utils.models import LateInteractionEncoder, Reranker, load_spec
from course_utils.registry import FULL, ModelSpec
from course_utils.rerank import rerank_candidates

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *string.punctuation,
         "테니스", "결승", "우승", "축구", "주식", "시장", "##에서", "##는", "tennis", "final", "won", "the", "market"]
QUERY_LENGTH = 8


def _tokenizer(folder: Path):  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    return transformers.BertTokenizerFast(str(folder / "vocab.txt"), do_lower_case=False)


def _bert_config(vocab_size: int, **kw):  # type: ignore[no-untyped-def]
    return transformers.BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                   intermediate_size=64, max_position_embeddings=128, initializer_range=0.5, **kw)


def build_pylate_colbert(folder: Path, dim: int = 16) -> Path:
    """A tiny random ColBERT in PyLate's saved layout (what ``nlpai-lab/KURE-v2`` holds, with a small BERT)."""
    from safetensors.torch import save_file

    tok = _tokenizer(folder)
    tok.add_tokens(["[Q] ", "[D] "])  # PyLate adds its prefixes to the tokenizer before saving
    torch.manual_seed(0)
    transformers.BertModel(_bert_config(len(tok))).save_pretrained(folder)
    tok.save_pretrained(folder)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Dense", "type": "pylate.models.Dense.Dense"}]))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 127, "do_lower_case": False}))
    dense = folder / "1_Dense"
    dense.mkdir()
    (dense / "config.json").write_text(json.dumps({
        "in_features": 32, "out_features": dim, "bias": False,
        "activation_function": "torch.nn.modules.linear.Identity", "use_residual": False}))
    save_file({"linear.weight": torch.randn(dim, 32)}, str(dense / "model.safetensors"))
    (folder / "config_sentence_transformers.json").write_text(json.dumps({
        "__version__": {"sentence_transformers": "5.3.0", "pylate": "1.6.0"}, "model_type": "ColBERT",
        "prompts": {}, "default_prompt_name": None, "similarity_fn_name": "MaxSim",
        "query_prefix": "[Q] ", "document_prefix": "[D] ", "query_length": QUERY_LENGTH, "document_length": 64,
        "attend_to_expansion_tokens": False, "skiplist_words": list(string.punctuation),
        "do_query_expansion": True}))
    return folder


def build_cross_encoder(folder: Path) -> Path:
    """A tiny random single-logit cross-encoder that sentence-transformers' ``CrossEncoder`` loads."""
    tok = _tokenizer(folder)
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(_bert_config(len(tok), num_labels=1)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def late(tmp_path_factory: pytest.TempPathFactory) -> LateInteractionEncoder:
    folder = build_pylate_colbert(tmp_path_factory.mktemp("kure_v2") / "model")
    spec = replace(FULL["late_interaction"], model_id=str(folder), revision=None)  # type: ignore[arg-type]
    loaded = load_spec(spec, role="late_interaction", profile="full", verbose=False)
    assert isinstance(loaded, LateInteractionEncoder)
    return loaded


def test_kure_v2_spec_is_the_pylate_path() -> None:
    spec = FULL["late_interaction"]
    assert isinstance(spec, ModelSpec) and spec.model_id == "nlpai-lab/KURE-v2" and spec.backend == "st-multivector"


def test_multivector_loader_reads_pylate_fields(late: LateInteractionEncoder) -> None:
    assert type(late.model).__name__ == "MultiVectorEncoder"
    assert late.model.prompts == {"query": "[Q] ", "document": "[D] "}  # PyLate's query_prefix/document_prefix


def test_queries_are_expanded_documents_skip_punctuation(late: LateInteractionEncoder) -> None:
    q = late.encode_queries(["테니스 결승"])[0]
    docs = late.encode_documents(["테니스 결승 에서 우승 .", "축구"])
    assert q.shape == (QUERY_LENGTH, 16) and q.dtype == np.float32  # expanded with [MASK] to query_length
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    q_names = late.token_strings("테니스 결승", kind="query")
    d_names = late.token_strings("테니스 결승 에서 우승 .")
    assert q_names is not None and d_names is not None
    assert len(q_names) == q.shape[0] and len(d_names) == docs[0].shape[0]
    assert q_names[:2] == ["[CLS]", "[Q] "] and q_names[-1] == "[MASK]"
    assert d_names[1] == "[D] " and "." not in d_names  # skiplist_words: punctuation is not scored in documents
    # the course's MaxSim by hand agrees with the model's own MaxSim
    own = late.model.similarity([torch.from_numpy(q)], [torch.from_numpy(d) for d in docs]).numpy()[0]
    assert np.allclose(maxsim_scores(q, docs), own, atol=1e-4)
    alignment = maxsim_alignment(q, docs[0], q_names, d_names)
    assert abs(alignment.score - maxsim(q, docs[0])) < 1e-4


def test_cross_encoder_reranker_path(tmp_path: Path) -> None:
    folder = build_cross_encoder(tmp_path / "reranker")
    spec = replace(FULL["reranker"], model_id=str(folder), revision=None)  # type: ignore[arg-type]
    reranker = load_spec(spec, role="reranker", profile="full", verbose=False)
    assert isinstance(reranker, Reranker) and type(reranker.model).__name__ == "CrossEncoder"
    docs = ["테니스 결승 에서 우승", "주식 시장", "축구"]
    scores = reranker.score("테니스 결승", docs)
    assert scores.shape == (3,) and scores.dtype == np.float32
    direct = np.asarray(reranker.model.predict([("테니스 결승", d) for d in docs]), dtype=np.float32).reshape(-1)
    assert np.allclose(scores, direct, atol=1e-5)
    assert reranker.score("테니스", []).shape == (0,)
    ranked = rerank_candidates("테니스 결승", list(zip("abc", docs)), reranker)
    assert [s for _, s in ranked] == sorted(scores.tolist(), reverse=True)
