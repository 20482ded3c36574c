"""course_utils: the engine code of the course 임베딩과 벡터 검색 실전.

One import line in every notebook::

    from course_utils import load_model, load_corpus, ...

Importing the package applies the active model profile's network policy: in the ``offline`` profile the
Hugging Face libraries are told not to touch the network before any of them is imported by the notebook.

In every profile it also opts out of onnxruntime's telemetry (``ORT_DISABLE_TELEMETRY=1``, unless you set the
variable yourself). Since 1.29 onnxruntime's Linux/macOS wheels upload usage events to
``mobile.events.data.microsoft.com`` from a background thread of every process that opens an ONNX session
(FastEmbed, chapter 04's ONNX models): in an air-gapped classroom each upload is a DNS lookup that can stall, and
the course's OS-level network cut (``scripts/netcut.sh``) fails the test run on it. The variable is read once, when
onnxruntime creates its environment, so it must be set before the first session: import ``course_utils`` first.
"""
from __future__ import annotations

import os as _os
import warnings as _warnings

from . import config as _config

# tqdm.auto warns once that Jupyter widgets are missing; its text progress bars work fine without them
_warnings.filterwarnings("ignore", message="IProgress not found")
# ranx's numba kernels warn once, while compiling on a machine without numba's cache, about a uint64 -> int64 cast of
# query indices (ranx/fusion/*.py); harmless (indices are small) and only on the first run, so it would make a fresh
# machine's stderr differ from the committed outputs
_warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64")

__version__ = "0.1.0"

# onnxruntime >= 1.29 (POSIX telemetry, microsoft/onnxruntime PR #27379): the only full opt-out, latched per process.
_os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

if _config.active_profile() == "offline":
    _config.apply_offline_environment()

from .config import active_profile, cache_dir, data_dir, work_dir  # noqa: E402
from .errors import (  # noqa: E402
    CourseError, DataError, MissingPackageError, ModelUnavailableError, SearchInputError, UnknownRoleError,
)
from .models import load_model, pick_device, role_status  # noqa: E402
from .claims import measured  # noqa: E402

__all__ = [
    "__version__", "active_profile", "cache_dir", "data_dir", "work_dir", "load_model", "pick_device",
    "role_status", "measured", "CourseError", "DataError", "MissingPackageError", "ModelUnavailableError",
    "SearchInputError", "UnknownRoleError",
]
