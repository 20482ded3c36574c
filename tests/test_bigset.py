"""course_utils.bigset: the 50,000-docstring set (collection, caching, errors) on a small made-up package tree."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import bigset
from course_utils.errors import SearchInputError


def _tree(root, n_files: int = 4) -> None:
    for f in range(n_files):
        body = [f'"""Module {f} docstring that is long enough to be kept by the collector."""']
        for i in range(5):
            body.append(f'def fn_{i}():\n    """Function {f}.{i} explains what it does in a sentence or two here."""\n')
        body.append('def short():\n    """Too short."""\n')
        body.append('def dup():\n    """Module 0 docstring that is long enough to be kept by the collector."""\n')
        (root / f"mod{f}.py").write_text("\n".join(body), encoding="utf-8")
    (root / "broken.py").write_text("def (:\n", encoding="utf-8")


def test_docstring_texts_filters_dedups_and_is_seeded(tmp_path) -> None:
    _tree(tmp_path)
    texts = bigset.docstring_texts(20, root=tmp_path)
    assert len(texts) == len(set(texts)) == 20
    assert all(bigset.MIN_CHARS <= len(t) <= bigset.MAX_CHARS for t in texts)
    assert "Too short." not in texts
    assert texts == bigset.docstring_texts(20, root=tmp_path)
    assert texts != bigset.docstring_texts(20, root=tmp_path, seed=1)
    with pytest.raises(SearchInputError, match="24개만"):
        bigset.docstring_texts(100, root=tmp_path)


class _Counting:
    name = "fake/encoder"

    def __init__(self) -> None:
        self.calls = 0

    def encode_documents(self, texts):  # type: ignore[no-untyped-def]
        self.calls += 1
        rng = np.random.default_rng(len(texts))
        return rng.standard_normal((len(texts), 8)).astype(np.float32) * 3


def test_docstring_vectors_are_normalised_split_and_cached(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    texts = [f"docstring number {i} with enough characters to pass" for i in range(30)]
    monkeypatch.setattr(bigset, "docstring_texts", lambda n, seed=0: texts[:n])
    enc = _Counting()
    big = bigset.docstring_vectors(20, 5, encoder=enc)
    assert big.base.shape == (20, 8) and big.queries.shape == (5, 8)
    assert np.allclose(np.linalg.norm(big.base, axis=1), 1.0, atol=1e-5)
    assert big.meta["model"] == "fake/encoder" and big.meta["n_base"] == 20 and "docstring 20개" in big.describe()
    again = bigset.docstring_vectors(20, 5, encoder=enc)
    assert enc.calls == 1 and np.array_equal(again.base, big.base)
    with pytest.raises(SearchInputError):
        bigset.docstring_vectors(5, 0, encoder=enc)


def test_minilm_set_is_not_built_unless_asked(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    assert bigset.minilm_docstring_vectors(100, 10, build=False) is None
    folder = bigset.minilm_folder(100, 10)
    assert folder == tmp_path / "faiss-bench" / "docstrings-minilm-100-10"  # where earlier builds are cached
    folder.mkdir(parents=True)
    np.save(folder / "vectors.npy", np.ones((110, 4), dtype=np.float32))
    (folder / "meta.json").write_text('{"model": "m", "backend": "b"}', encoding="utf-8")
    big = bigset.minilm_docstring_vectors(100, 10, build=False)
    assert big is not None and big.base.shape == (100, 4) and big.queries.shape == (10, 4) and big.meta["model"] == "m"


def test_test_runners_and_installers_are_not_part_of_the_set(tmp_path) -> None:
    """Adding a test plugin (pytest-xdist) or upgrading pip must not change the course's data set."""
    from course_utils.bigset import SKIP_TOP, _python_files

    doc = '"""A docstring long enough to be kept by the course set, about something real."""\n'
    for top in ("mypkg", "pytest", "xdist", "pip"):
        (tmp_path / top).mkdir()
        (tmp_path / top / "mod.py").write_text(doc, encoding="utf-8")
    (tmp_path / "__editable___course_utils_0_1_0_finder.py").write_text(doc, encoding="utf-8")
    (tmp_path / "six.py").write_text(doc, encoding="utf-8")
    found = sorted(str(p.relative_to(tmp_path)) for p in _python_files(tmp_path))
    assert found == ["mypkg/mod.py", "six.py"]
    assert {"pytest", "xdist", "pip"} <= SKIP_TOP
