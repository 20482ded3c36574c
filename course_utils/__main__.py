"""Command line: ``python -m course_utils {doctor,prefetch,run-notebooks,run-twice,warmup,build-static,sync-colab,standin-hub}``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils", description="임베딩과 벡터 검색 실전: 코스 도구")
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("doctor", help="환경 점검 (버전, 프로필, 역할별 모델, 한글 폰트, Qdrant, 캐시)")
    d.add_argument("--load", action="store_true", help="역할마다 모델을 실제로 불러와 문장 하나를 임베딩해 봄 (수십 초)")
    p = sub.add_parser("prefetch", help="full 프로필 모델을 미리 내려받기 (워크숍용)")
    p.add_argument("--dry-run", action="store_true", help="계획만 출력하고 내려받지 않음 (네트워크 없음)")
    p.add_argument("--target", type=Path, default=None, help="저장 폴더 (기본: ~/embedding-course-models)")
    p.add_argument("--with-comparison", action="store_true", help="2장 비교용 대형 모델(bge-m3, KoE5, e5-large)도 포함")
    r = sub.add_parser("run-notebooks", help="모든 노트북을 헤드리스로 실행하고 시간표 출력")
    r.add_argument("--inplace", action="store_true", help="실행 결과를 노트북에 저장 (커밋된 출력 재생성)")
    r.add_argument("paths", nargs="*", type=Path)
    t = sub.add_parser("run-twice", help="한 커널에서 노트북을 두 번 실행 (재실행 안전성 점검)")
    t.add_argument("paths", nargs="*", type=Path)
    h = sub.add_parser("standin-hub", help="full 프로필 모델의 대역(stand-in: 무작위 가중치, 실제 구조) 허브를 캐시에 생성")
    h.add_argument("--target", type=Path, default=None, help="생성 폴더 (기본: <캐시>/standin-hub)")
    h.add_argument("--force", action="store_true", help="최신이어도 다시 생성")
    h.add_argument("--serve", action="store_true", help="생성 후 루프백 HTTP로 허브를 제공 (HF_ENDPOINT 로 prefetch 리허설)")
    h.add_argument("--port", type=int, default=0, help="--serve 의 포트 (기본: 빈 포트)")
    sub.add_parser("warmup", help="오프라인 자산(ONNX 내보내기, 정적 모델 증류)과 numba 캐시를 미리 준비")
    sub.add_parser("sync-colab", help="노트북의 Colab 배지와 설정 셀을 config.REPO_URL 에서 다시 씀")
    b = sub.add_parser("build-static", help="오프라인 정적 모델 두 개(MiniLM 증류: 영어, e5 증류: 한국어)를 한 번 만들어 캐시에 저장")
    b.add_argument("--force", action="store_true", help="이미 있어도 다시 증류")
    args = parser.parse_args(argv)

    if args.cmd == "doctor":
        from .doctor import main as doctor_main

        return doctor_main(load=args.load)
    if args.cmd == "prefetch":
        from . import prefetch

        items = prefetch.plan(args.target, with_comparison=args.with_comparison)
        print(prefetch.format_plan(items))
        if args.dry_run:
            print("\n(dry-run: 아무것도 내려받지 않았습니다)")
            return 0
        prefetch.run(items)
        return 0
    if args.cmd in ("run-notebooks", "run-twice"):
        from .notebooks import run_all

        results = run_all(args.paths or None, inplace=getattr(args, "inplace", False),
                          rounds=2 if args.cmd == "run-twice" else 1)
        return 1 if any(r.error for r in results) else 0
    if args.cmd == "build-static":
        import time

        from . import config
        from .assets import build_static_model
        from .static import build_korean_static_model

        config.apply_offline_environment()
        start = time.perf_counter()
        path = build_static_model(force=args.force)
        print(f"정적 모델(영어, MiniLM 증류): {path.name} (캐시 폴더 안, {time.perf_counter() - start:.0f} s)")
        start = time.perf_counter()
        path = build_korean_static_model(force=args.force)
        print(f"정적 모델(한국어, e5 증류): {path.name} (캐시 폴더 안, {time.perf_counter() - start:.0f} s)")
        return 0
    if args.cmd == "sync-colab":
        from .notebooks import sync_colab_cells

        for path in sync_colab_cells():
            print("갱신:", path.name)
        return 0
    if args.cmd == "standin-hub":
        from . import standin_hub

        target = standin_hub.build(args.target, force=args.force)
        env = standin_hub.standin_environment(target)
        print("이 허브를 쓰려면:\n  " + " ".join(f"{k}={v}" for k, v in env.items()))
        if args.serve:
            from .hub_server import StandinHubServer

            with StandinHubServer(target, port=args.port) as server:
                print(f"HTTP 허브: HF_ENDPOINT={server.url}  (Ctrl+C 로 종료)", flush=True)
                try:
                    server.wait()
                except KeyboardInterrupt:
                    pass
        return 0
    if args.cmd == "warmup":
        from .warmup import main as warmup_main

        return warmup_main()
    return 2


if __name__ == "__main__":
    sys.exit(main())
