"""Build offline assets and compile numba caches once, at install time, so the first notebook is not slow."""
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
    t = time.perf_counter()
    from .evaluation import evaluate_run

    evaluate_run({"q": {"a": 1.0, "b": 0.5}}, {"q": {"a": 2, "b": 1}})
    print(f"ranx (numba) 준비: {time.perf_counter() - t:.1f} s")
    return 0
