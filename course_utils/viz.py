"""Look at an embedding space (chapter 10): 2-D layouts (UMAP, t-SNE, PCA), category separation scores, Hangul-safe scatter plots.

>>> xy = project_2d(vectors, method="umap", random_state=0)          # doctest: +SKIP
>>> separation_scores(vectors, labels, layout=xy)                    # doctest: +SKIP
{'silhouette_original': ..., 'silhouette_2d': ..., 'knn_accuracy_original': ..., 'knn_accuracy_2d': ...}
>>> fig = scatter_by_category(xy, labels, title="ko_news (e5, UMAP)")   # doctest: +SKIP

A 2-D picture distorts distances, so the chapter always pairs it with numbers: the silhouette score (how much
closer points are to their own category than to the nearest other one, -1..1) and the leave-one-out k-nearest-
neighbour category accuracy, both on the original vectors (cosine) and on the 2-D layout (euclidean).
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from .checks import as_matrix
from .errors import SearchInputError
from .plotting import setup_korean_font

__all__ = ["METHODS", "project_2d", "separation_scores", "knn_predict", "knn_accuracy", "scatter_by_category",
           "PALETTE"]

METHODS = ("umap", "tsne", "pca")
# 10 distinguishable colours (tab10), so a 10-category corpus gets one colour each
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")


def _matrix(vectors: Any) -> np.ndarray:
    return as_matrix(vectors, "벡터")


def _labels(labels: Sequence[Any], n: int) -> np.ndarray:
    lab = np.asarray(list(labels))
    if lab.shape[0] != n:
        raise SearchInputError(f"라벨 {lab.shape[0]}개와 벡터 {n}개의 수가 다릅니다. 문서마다 라벨이 하나씩 있어야 합니다.")
    if len(set(lab.tolist())) < 2:
        raise SearchInputError("범주가 2개 이상이어야 분리 정도를 잴 수 있습니다.")
    return lab


def project_2d(vectors: Any, method: str = "umap", *, random_state: int = 0, n_neighbors: int = 15,
               min_dist: float = 0.1, n_epochs: int | None = 200, perplexity: float = 30.0,
               metric: str = "cosine") -> np.ndarray:
    """A ``(n, 2)`` layout of ``vectors`` by UMAP, t-SNE or PCA, reproducible with ``random_state``.

    UMAP with a ``random_state`` runs single-threaded (that is what makes it reproducible) and warns about it;
    that one warning is silenced here. The first UMAP fit in a process also pays numba's compile (10-25 s).
    """
    arr = _matrix(vectors)
    if method not in METHODS:
        raise SearchInputError(f"method={method!r}: {', '.join(METHODS)} 중 하나를 쓰세요.")
    n = arr.shape[0]
    if n < 5:
        raise SearchInputError(f"점이 {n}개뿐입니다. 2차원 배치에는 5개 이상이 필요합니다.")
    if method == "pca":
        from sklearn.decomposition import PCA  # heavy: scikit-learn only for this method

        return PCA(n_components=2, random_state=random_state).fit_transform(arr).astype(np.float32)
    if method == "tsne":
        from sklearn.manifold import TSNE  # heavy: scikit-learn only for this method
        from threadpoolctl import threadpool_limits  # installed with scikit-learn

        perp = min(perplexity, (n - 1) / 3)  # t-SNE needs perplexity < n
        tsne = TSNE(n_components=2, perplexity=perp, metric=metric, init="pca", random_state=random_state)
        with threadpool_limits(limits=1):  # OpenMP threads fighting over 2 busy cores made it 10-100x slower
            return tsne.fit_transform(arr).astype(np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="n_jobs value .* overridden to 1 by setting random_state")
        import umap  # heavy (numba compiles on first use): only for this method

        reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, n - 1), min_dist=min_dist, metric=metric,
                            n_epochs=n_epochs, random_state=random_state)
        return np.asarray(reducer.fit_transform(arr), dtype=np.float32)


def knn_predict(vectors: Any, labels: Sequence[Any], k: int = 10, metric: str = "cosine") -> np.ndarray:
    """Leave-one-out ``k``-nearest-neighbour category of every point (an array of labels).

    Each point is hidden in turn and gets the most common category among its ``k`` nearest other points (ties go
    to the category whose member is nearest). ``metric``: ``cosine`` or ``euclidean``.
    """
    arr = _matrix(vectors).astype(np.float64)
    lab = _labels(labels, arr.shape[0])
    n = arr.shape[0]
    if not 1 <= k < n:
        raise SearchInputError(f"k={k} 는 1 이상, 점 개수 {n} 미만이어야 합니다.")
    if metric == "cosine":
        unit = arr / np.clip(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12, None)
        dist = 1.0 - unit @ unit.T
    elif metric == "euclidean":
        sq = (arr ** 2).sum(axis=1)
        dist = sq[:, None] + sq[None, :] - 2.0 * arr @ arr.T
    else:
        raise SearchInputError(f"metric={metric!r}: cosine 또는 euclidean 을 쓰세요.")
    np.fill_diagonal(dist, np.inf)  # leave the point itself out
    neighbours = np.argsort(dist, axis=1, kind="stable")[:, :k]
    classes, codes = np.unique(lab, return_inverse=True)
    predicted = np.empty(n, dtype=np.int64)
    for i in range(n):
        votes = codes[neighbours[i]]
        counts = np.bincount(votes)
        best = set(np.flatnonzero(counts == counts.max()).tolist())
        predicted[i] = next(int(v) for v in votes if int(v) in best)  # nearest neighbour among the tied categories
    return classes[predicted]


def knn_accuracy(vectors: Any, labels: Sequence[Any], k: int = 10, metric: str = "cosine") -> float:
    """Share of points whose leave-one-out ``k``-NN category (:func:`knn_predict`) is their own category."""
    lab = _labels(labels, _matrix(vectors).shape[0])
    return float(np.mean(knn_predict(vectors, lab, k=k, metric=metric) == lab))


def separation_scores(vectors: Any, labels: Sequence[Any], layout: Any | None = None, k: int = 10) -> dict[str, float]:
    """How well categories separate: silhouette and kNN accuracy on the vectors (cosine) and on ``layout`` (2-D)."""
    from sklearn.metrics import silhouette_score  # heavy: scikit-learn only for the scores

    arr = _matrix(vectors)
    lab = _labels(labels, arr.shape[0])
    out = {"silhouette_original": float(silhouette_score(arr, lab, metric="cosine")),
           "knn_accuracy_original": knn_accuracy(arr, lab, k=k, metric="cosine")}
    if layout is not None:
        xy = _matrix(layout)
        if xy.shape != (arr.shape[0], 2):
            raise SearchInputError(f"layout 은 ({arr.shape[0]}, 2) 모양이어야 합니다: {xy.shape}")
        out["silhouette_2d"] = float(silhouette_score(xy, lab, metric="euclidean"))
        out["knn_accuracy_2d"] = knn_accuracy(xy, lab, k=k, metric="euclidean")
    return out


def scatter_by_category(xy: Any, labels: Sequence[Any], *, title: str = "", ax: Any = None,
                        point_size: float = 12.0, legend: bool = True, annotate_centroids: bool = True):  # type: ignore[no-untyped-def]
    """Scatter plot of a 2-D layout, one colour per category, Korean labels rendered with a Korean font.

    Returns the matplotlib ``Figure``. Category names are written at each category's median point as well as in
    the legend, so the picture reads without matching colours.
    """
    import matplotlib.pyplot as plt  # heavy: only plotting needs it

    setup_korean_font()
    pts = _matrix(xy)
    if pts.shape[1] != 2:
        raise SearchInputError(f"xy 는 (개수, 2) 모양이어야 합니다: {pts.shape}")
    lab = _labels(labels, pts.shape[0])
    cats = sorted(set(lab.tolist()))
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 6))
    else:
        fig = ax.figure
    for i, cat in enumerate(cats):
        mask = lab == cat
        colour = PALETTE[i % len(PALETTE)]
        ax.scatter(pts[mask, 0], pts[mask, 1], s=point_size, color=colour, alpha=0.75, label=str(cat), linewidths=0)
        if annotate_centroids:
            cx, cy = np.median(pts[mask], axis=0)
            ax.text(cx, cy, str(cat), fontsize=10, ha="center", va="center",
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.7, "edgecolor": colour})
    if legend:
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, markerscale=1.5)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return fig
