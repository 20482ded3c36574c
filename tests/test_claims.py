"""course_utils.claims: quality claims are asserted only for the models they were measured with."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from course_utils import claims
from course_utils.errors import UnknownRoleError
from course_utils.registry import FULL, OFFLINE


def _model(role: str, spec) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    return SimpleNamespace(role=role, spec=spec)


def test_offline_models_hold_offline_claims(monkeypatch) -> None:
    monkeypatch.delenv(claims.STANDIN_ENV, raising=False)
    assert claims.measured("e5가 BM25보다 semantic에서 낫다", _model("ko_dense", OFFLINE["ko_dense"]))
    assert claims.measured("두 모델", _model("ko_dense", OFFLINE["ko_dense"]), _model("en_dense", OFFLINE["en_dense"]))


def test_other_models_and_standins_skip_by_name(monkeypatch, tmp_path, capsys) -> None:
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv(claims.LOG_ENV, str(log))
    monkeypatch.delenv(claims.STANDIN_ENV, raising=False)
    kure = _model("ko_dense", FULL["ko_dense"])
    assert not claims.measured("e5 주장", kure)
    assert "[주장 건너뜀] e5 주장" in capsys.readouterr().out
    assert claims.measured("KURE 주장", kure, on="full")  # a claim measured with the full profile's model holds there
    monkeypatch.setenv(claims.STANDIN_ENV, "1")
    assert not claims.measured("KURE 주장", kure, on="full")  # ... but never with random stand-in weights
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert [x["claim"] for x in lines] == ["e5 주장", "KURE 주장"]
    assert "무작위" in lines[1]["reason"] and "KURE-v1" in lines[0]["reason"]
    assert claims.skipped()[-1]["claim"] == "KURE 주장"


def test_clear_errors() -> None:
    with pytest.raises(ValueError, match="이름"):
        claims.measured("", _model("ko_dense", OFFLINE["ko_dense"]))
    with pytest.raises(ValueError, match="모델"):
        claims.measured("이름만")
    with pytest.raises(TypeError, match="load_model"):
        claims.measured("x", object())
    with pytest.raises(ValueError, match="프로필"):
        claims.measured("x", _model("ko_dense", OFFLINE["ko_dense"]), on="colab")


def test_a_role_name_stands_for_the_active_profiles_model(monkeypatch) -> None:
    """Models a library loads by itself (Qdrant's Document inference) are named by role."""
    monkeypatch.delenv(claims.STANDIN_ENV, raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "offline")
    assert claims.measured("MiniLM Document 주장", "fastembed_dense")
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert not claims.measured("MiniLM Document 주장", "fastembed_dense")
    assert "bge-small-en-v1.5" in claims.skipped()[-1]["reason"]
    monkeypatch.setenv("COURSE_PROFILE", "offline")
    with pytest.raises(ValueError, match="reranker"):
        claims.measured("x", "reranker")  # no offline model: nothing to claim about
    with pytest.raises(UnknownRoleError):
        claims.measured("x", "no_such_role")


def test_banners_of_full_profile_loads_say_stand_in(monkeypatch) -> None:
    from course_utils.models import LoadedModel

    def banner(profile: str, spec) -> str:  # type: ignore[no-untyped-def]
        return LoadedModel(role="ko_dense", profile=profile, spec=spec, reason="r", model=None).banner()

    monkeypatch.delenv(claims.STANDIN_ENV, raising=False)
    assert "대역(stand-in)" not in banner("full", FULL["ko_dense"])
    monkeypatch.setenv(claims.STANDIN_ENV, "1")
    assert "대역(stand-in) 허브의 무작위 가중치" in banner("full", FULL["ko_dense"])
    assert "대역(stand-in) 허브" not in banner("offline", OFFLINE["ko_dense"])  # a real local model stays real


def test_any_real_weights(monkeypatch) -> None:
    monkeypatch.delenv(claims.STANDIN_ENV, raising=False)
    kure = _model("ko_dense", FULL["ko_dense"])
    assert claims.measured("두 내보내기가 같은 벡터", kure, on=None)
    monkeypatch.setenv(claims.STANDIN_ENV, "1")
    assert not claims.measured("두 내보내기가 같은 벡터", kure, on=None)
