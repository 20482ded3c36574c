"""2-D layouts, separation scores and the Hangul scatter plot."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from course_utils.errors import SearchInputError
from course_utils.viz import knn_accuracy, knn_predict, project_2d, scatter_by_category, separation_scores


@pytest.fixture(scope="module")
def clusters() -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((3, 16)) * 4
    labels = ["경제", "스포츠", "과학"] * 20
    vecs = np.stack([centers[i % 3] + rng.standard_normal(16) for i in range(60)]).astype(np.float32)
    return vecs, labels


def test_pca_and_tsne_layouts_are_reproducible(clusters) -> None:  # type: ignore[no-untyped-def]
    vecs, _ = clusters
    for method in ("pca", "tsne"):
        a = project_2d(vecs, method=method, random_state=0)
        b = project_2d(vecs, method=method, random_state=0)
        assert a.shape == (60, 2) and np.allclose(a, b)


def test_separation_scores_on_clear_clusters(clusters) -> None:  # type: ignore[no-untyped-def]
    vecs, labels = clusters
    xy = project_2d(vecs, method="pca")
    scores = separation_scores(vecs, labels, layout=xy, k=5)
    assert set(scores) == {"silhouette_original", "knn_accuracy_original", "silhouette_2d", "knn_accuracy_2d"}
    assert scores["knn_accuracy_original"] == 1.0 and scores["silhouette_original"] > 0.3
    shuffled = list(np.random.default_rng(1).permutation(labels))
    assert separation_scores(vecs, shuffled)["knn_accuracy_original"] < 0.6


def test_knn_accuracy_leaves_the_point_out() -> None:
    # two far-apart pairs: each point's only neighbour (k=1) is its pair, never itself
    vecs = np.array([[0, 0], [0, 1], [10, 10], [10, 11]], dtype=np.float32)
    assert knn_accuracy(vecs, ["a", "a", "b", "b"], k=1, metric="euclidean") == 1.0
    assert knn_accuracy(vecs, ["a", "b", "a", "b"], k=1, metric="euclidean") == 0.0
    assert list(knn_predict(vecs, ["a", "b", "a", "b"], k=1, metric="euclidean")) == ["b", "a", "b", "a"]


def test_scatter_renders_hangul_without_missing_glyph_warnings(clusters, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    vecs, labels = clusters
    xy = project_2d(vecs, method="pca")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" would be raised here
        fig = scatter_by_category(xy, labels, title="한글 제목: 범주별 분포")
        fig.savefig(tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 5000
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sorted(texts) == sorted(set(labels))


@pytest.mark.parametrize("call", [
    lambda v, l: project_2d(v, method="isomap"),
    lambda v, l: project_2d(v[:3], method="pca"),
    lambda v, l: project_2d(np.zeros((0, 4))),
    lambda v, l: separation_scores(v, l[:10]),
    lambda v, l: separation_scores(v, ["x"] * len(v)),
    lambda v, l: separation_scores(v, l, layout=np.zeros((len(v), 3))),
    lambda v, l: knn_accuracy(v, l, k=len(v)),
    lambda v, l: knn_accuracy(v, l, metric="manhattan"),
], ids=["method", "too-few", "empty", "label-count", "one-category", "layout-shape", "k", "metric"])
def test_bad_input(clusters, call) -> None:  # type: ignore[no-untyped-def]
    vecs, labels = clusters
    with pytest.raises(SearchInputError):
        call(vecs, labels)
