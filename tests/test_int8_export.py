"""The dynamic int8 ONNX export (chapter 04): ONNX Runtime's quantize_dynamic, int8 compute, FastEmbed registration.

Measured on the course machine (offline profile, MiniLM, 35 en_news documents): cosine of the dynamic int8 vectors to
the fp32 export's vectors at least 0.985 (mean 0.994) with per-channel weight scales, 0.92 (mean 0.96) with one scale
per tensor; 36 MatMulInteger nodes. The thresholds leave margin for other CPUs and ONNX Runtime builds.
"""
from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from course_utils.assets import (MINILM_INT8_FASTEMBED_NAME, MINILM_INT8_VERSION, minilm_dynamic_int8_build_info,
                                 minilm_dynamic_int8_dir, minilm_onnx_dir, onnx_op_counts, quantize_dynamic_int8)
from course_utils.e5_rebuild import sha256_file
from course_utils.errors import ModelUnavailableError

MIN_COSINE_MINILM = 0.97  # measured minimum 0.985 (per-channel)


def _tiny_matmul_model(folder, rng) -> np.ndarray:
    """A two-layer MatMul graph (64 -> 48 -> 32) saved as folder/model.onnx, plus a fake tokenizer file."""
    w1 = rng.standard_normal((64, 48)).astype(np.float32)
    w2 = rng.standard_normal((48, 32)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("MatMul", ["h", "w2"], ["y"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 32])],
        initializer=[numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "model.onnx"))
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    return w1 @ w2


def _run(path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


def test_quantize_dynamic_int8_computes_in_integers_and_stays_close(tmp_path) -> None:
    rng = np.random.default_rng(0)
    _tiny_matmul_model(tmp_path / "fp32", rng)
    info = quantize_dynamic_int8(tmp_path / "fp32", tmp_path / "int8")
    ops = onnx_op_counts(tmp_path / "int8" / "model.onnx")
    assert ops.get("MatMulInteger", 0) == 2 and ops.get("MatMul", 0) == 0  # every MatMul now multiplies int8
    assert ops.get("DynamicQuantizeLinear", 0) >= 1                         # activations quantized at run time
    assert info["integer_matmuls"] == 2 and info["per_channel"] and info["weight_type"] == "QInt8"
    assert (tmp_path / "int8" / "tokenizer.json").is_file()                 # tokenizer files travel with it
    assert info["model_onnx_bytes"] < 0.5 * (tmp_path / "fp32" / "model.onnx").stat().st_size
    x = rng.standard_normal((5, 64)).astype(np.float32)
    ref, got = _run(tmp_path / "fp32" / "model.onnx", x), _run(tmp_path / "int8" / "model.onnx", x)
    cos = (ref * got).sum(1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1))
    assert cos.min() > 0.99 and not np.array_equal(ref, got)  # close, but really quantized


def test_quantize_without_model_says_what_to_do(tmp_path) -> None:
    with pytest.raises(ModelUnavailableError, match="warmup"):
        quantize_dynamic_int8(tmp_path / "nothing", tmp_path / "out")


def test_missing_int8_with_build_false_says_how_to_build(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    assert minilm_dynamic_int8_build_info() is None
    with pytest.raises(ModelUnavailableError, match="warmup"):
        minilm_dynamic_int8_dir(build=False)
    assert not any(tmp_path.iterdir())  # nothing half-built left behind


def test_minilm_int8_folder_build_info_and_fastembed_vectors() -> None:
    from fastembed import TextEmbedding

    from course_utils.models import fastembed_minilm_int8

    folder = minilm_dynamic_int8_dir()
    assert folder.name == MINILM_INT8_VERSION
    info = minilm_dynamic_int8_build_info()
    assert info is not None and info["model_onnx_sha256"] == sha256_file(folder / "model.onnx")
    assert info["integer_matmuls"] > 30 and info["per_channel"]
    assert json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))["model_max_length"] == 256
    texts = ["Cereal maker expands into snacks with a $2.4 billion deal.", "The central bank raised rates again.",
             "A new battery chemistry doubles the range of electric cars."]
    int8 = np.stack(list(fastembed_minilm_int8().passage_embed(texts)))
    assert any(m["model"] == MINILM_INT8_FASTEMBED_NAME for m in TextEmbedding.list_supported_models())
    fp32 = np.stack(list(TextEmbedding("sentence-transformers/all-MiniLM-L6-v2",
                                       specific_model_path=str(minilm_onnx_dir())).passage_embed(texts)))
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    assert (int8 * fp32).sum(1).min() > MIN_COSINE_MINILM
