"""Profiles, roles and the banner: every role resolves in both profiles, errors say what to do."""
from __future__ import annotations

import pytest

from course_utils import config
from course_utils.errors import ModelUnavailableError, UnknownRoleError
from course_utils.registry import FULL, FULL_EXTRA, OFFLINE, REVISIONS, ROLES, ModelSpec, Unavailable, resolve


@pytest.mark.parametrize("profile", ["offline", "full"])
def test_every_role_resolves(profile: str) -> None:
    for role in ROLES:
        assert isinstance(resolve(role, profile), (ModelSpec, Unavailable))


def test_full_profile_has_the_models_the_course_teaches() -> None:
    ids = {s.model_id for s in FULL.values() if isinstance(s, ModelSpec)}
    for needed in ("sentence-transformers/all-MiniLM-L6-v2", "nlpai-lab/KURE-v1", "BAAI/bge-small-en-v1.5",
                   "nlpai-lab/KURE-v2", "nlpai-lab/KURE-Reranker-base"):
        assert needed in ids
    # the English/FastEmbed models the two roles had before stay loadable for chapters that want them
    assert {s.model_id for s in FULL_EXTRA} == {"answerdotai/answerai-colbert-small-v1", "BAAI/bge-reranker-v2-m3"}


def test_full_profile_late_interaction_and_reranker_are_korean() -> None:
    late, rerank = FULL["late_interaction"], FULL["reranker"]
    assert isinstance(late, ModelSpec) and isinstance(rerank, ModelSpec)
    assert (late.backend, late.dim, late.revision) == ("st-multivector", 128, REVISIONS["nlpai-lab/KURE-v2"])
    assert "ko" in late.languages and "ko" in rerank.languages
    assert not (late.query_prefix or late.passage_prefix)  # the model adds its own [Q]/[D] markers
    assert rerank.backend == "st-cross-encoder"
    assert rerank.revision is None and rerank.model_id not in REVISIONS  # no public commit hash found: not pinned


def test_pinned_revisions_are_commit_hashes() -> None:
    for model, rev in REVISIONS.items():
        assert len(rev) == 40 and int(rev, 16) >= 0, model
    for spec in FULL.values():
        if isinstance(spec, ModelSpec) and spec.backend.startswith(("sentence-transformers", "st-")) \
                and spec.model_id in REVISIONS:
            assert spec.revision == REVISIONS[spec.model_id]


def test_offline_reranker_is_honestly_unavailable() -> None:
    spec = OFFLINE["reranker"]
    assert isinstance(spec, Unavailable) and spec.reason and spec.instead


def test_unknown_role_lists_the_roles() -> None:
    with pytest.raises(UnknownRoleError, match="ko_dense"):
        resolve("korean", "offline")


def test_profile_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert config.profile_and_reason()[0] == "full"
    monkeypatch.setenv("COURSE_PROFILE", "auto")
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.delenv("COLAB_GPU", raising=False)
    assert config.profile_and_reason()[0] == "offline"
    monkeypatch.setenv("COLAB_RELEASE_TAG", "x")
    assert config.profile_and_reason()[0] == "full"
    monkeypatch.setenv("COURSE_PROFILE", "cloud")
    with pytest.raises(ValueError, match="offline, full, auto"):
        config.profile_and_reason()


def test_unavailable_role_raises_with_instead(capsys: pytest.CaptureFixture[str]) -> None:
    from course_utils import load_model

    with pytest.raises(ModelUnavailableError, match="대신"):
        load_model("reranker", profile="offline")


def test_work_dir_is_outside_data(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_WORK_DIR", str(tmp_path / "w"))
    assert config.work_dir("qdrant") == tmp_path / "w" / "qdrant"
    assert config.work_dir().is_dir()


def test_offline_environment_reaches_libraries_imported_earlier() -> None:
    import datasets.config
    import huggingface_hub.constants

    datasets.config.HF_HUB_OFFLINE = False  # as if datasets had been imported before course_utils
    huggingface_hub.constants.HF_HUB_OFFLINE = False
    config.apply_offline_environment()
    assert datasets.config.HF_HUB_OFFLINE and huggingface_hub.constants.HF_HUB_OFFLINE
    assert not datasets.config.HF_UPDATE_DOWNLOAD_COUNTS


def test_korean_bm25_is_not_a_role_and_the_error_says_where_it_lives() -> None:
    from course_utils.errors import UnknownRoleError
    from course_utils.registry import ROLES, resolve

    assert "ko_bm25" not in ROLES
    with pytest.raises(UnknownRoleError, match="BM25Index.*KoreanBM25Encoder"):
        resolve("ko_bm25", "offline")
