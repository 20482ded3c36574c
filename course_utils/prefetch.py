"""Download the full profile's models once, into a folder a workshop can copy to offline laptops (chapter 00: workshop preparation).

``python -m course_utils prefetch --dry-run`` prints the plan and touches no network;
without ``--dry-run`` it downloads. Afterwards copy the folder and, on each laptop, set::

    export HF_HUB_CACHE=<folder>/hub FASTEMBED_CACHE_PATH=<folder>/fastembed COURSE_PROFILE=full HF_HUB_OFFLINE=1

sentence-transformers models are pinned to the revisions in :data:`course_utils.registry.REVISIONS`;
FastEmbed cannot pin a revision (it has no such option), so its models come as FastEmbed resolves them that day.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .registry import CHAPTER_MODELS, COMPARISON_MODELS, FULL, FULL_EXTRA, REVISIONS, ModelSpec, Unavailable


@dataclass(frozen=True)
class PlanItem:
    role: str
    model_id: str
    backend: str
    revision: str | None
    target: Path


def default_target() -> Path:
    return Path(os.environ.get("COURSE_PREFETCH_DIR", Path.home() / "embedding-course-models")).expanduser()


def plan(target: Path | None = None, with_comparison: bool = False) -> list[PlanItem]:
    """What :func:`run` would download, and where (no network)."""
    target = (target or default_target()).expanduser()
    items: list[PlanItem] = []
    seen: set[tuple[str, str]] = set()
    specs: list[tuple[str, ModelSpec]] = [(r, s) for r, s in FULL.items() if isinstance(s, ModelSpec)]
    specs += [("영어/FastEmbed 대안", s) for s in FULL_EXTRA]  # registry.FULL_EXTRA: chapters may load_spec them
    # registry.CHAPTER_MODELS: what single chapters load under full (MRL static 08/09, FastEmbed MiniLM 04, miniCOIL 06)
    specs += [(str(s.extra.get("chapters", "장별")), s) for s in CHAPTER_MODELS]
    if with_comparison:
        specs += [("ch02-비교", s) for s in COMPARISON_MODELS]
    for role, spec in specs:
        sub = "fastembed" if spec.backend.startswith("fastembed") else "hub"
        # one id can be two downloads: FastEmbed fetches its own ONNX repo (e5-large: ko_fastembed and ch02's model)
        if (sub, spec.model_id) in seen:
            continue
        seen.add((sub, spec.model_id))
        rev = REVISIONS.get(spec.model_id) if sub == "hub" else None
        items.append(PlanItem(role, spec.model_id, spec.backend, rev, target / sub))
    return items


def format_plan(items: list[PlanItem]) -> str:
    lines = [f"{'role':<18} {'model':<42} {'backend':<22} revision"]
    for it in items:
        rev = it.revision or ("(고정 불가: FastEmbed)" if it.backend.startswith("fastembed") else "(고정 없음)")
        lines.append(f"{it.role:<18} {it.model_id:<42} {it.backend:<22} {rev}")
    if items:
        lines.append(f"저장 위치: {items[0].target.parent}  (hub/ 와 fastembed/)")
    return "\n".join(lines)


def run(items: list[PlanItem]) -> None:
    """Download every item of the plan (needs internet, or ``HF_ENDPOINT`` pointing at a hub such as the
    stand-in hub's HTTP server, :mod:`course_utils.hub_server`)."""
    from . import config

    config.allow_downloads()  # importing course_utils outside Colab set HF_HUB_OFFLINE=1 (offline profile)
    from huggingface_hub import snapshot_download

    for it in items:
        it.target.mkdir(parents=True, exist_ok=True)
        print(f"내려받는 중: {it.model_id} -> {it.target}", flush=True)
        if it.backend.startswith("fastembed"):
            import fastembed
            from fastembed.rerank.cross_encoder import TextCrossEncoder

            cls = {"fastembed": fastembed.TextEmbedding, "fastembed-sparse": fastembed.SparseTextEmbedding,
                   "fastembed-late": fastembed.LateInteractionTextEmbedding,
                   "fastembed-rerank": TextCrossEncoder}[it.backend]
            cls(it.model_id, cache_dir=str(it.target))
        else:
            snapshot_download(it.model_id, revision=it.revision, cache_dir=str(it.target))


__all__ = ["PlanItem", "plan", "format_plan", "run", "default_target", "Unavailable"]
