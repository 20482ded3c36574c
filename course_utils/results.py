"""What every search engine of the course returns (chapters 03, 05-07, 11): :class:`Hit`, and the :class:`Retriever`
protocol around the ``run()`` they share.

Five engines, one contract::

    engine.search(query, k=10, ...) -> list[Hit]                 # best first
    engine.run({query_id: query, ...}, k=10) -> {query_id: {doc_id: score}}   # a run for course_utils.evaluation

- :class:`course_utils.faiss_engine.SemanticSearchEngine` (FAISS over a ``datasets.Dataset``, chapter 03),
- :class:`course_utils.qdrant_engine.QdrantEngine` (dense Qdrant, chapter 05),
- :class:`course_utils.hybrid.HybridEngine` (dense + sparse + multivector Qdrant, chapters 06-07),
- :class:`course_utils.search_system.NewsSearch` (the capstone, chapter 11),
- :class:`course_utils.korean.BM25Index` (bm25s over Kiwi morphemes, chapters 02, 06, 09).

A query is whatever the engine embeds or matches: a string, a vector, or :class:`course_utils.hybrid.QueryVectors`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Protocol, Sequence, runtime_checkable

__all__ = ["Hit", "Retriever", "Run", "run_from_hits"]

Run = dict[str, dict[str, float]]
"""``{query_id: {doc_id: score}}``, higher is better (the run format of :mod:`course_utils.evaluation` and ranx)."""


@dataclass(frozen=True)
class Hit:
    """One search result: the caller's document id, the score of the last stage (higher is closer), the stored fields.

    ``payload`` holds what the engine stored with the document: Qdrant's payload (``doc_id``, ``text``, ``title``,
    ...), or the other columns of a FAISS engine's dataset row.
    """

    doc_id: str | int
    score: float
    payload: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def id(self) -> str | int:
        """The same as :attr:`doc_id` (chapter 05 writes ``hit.id``)."""
        return self.doc_id


@runtime_checkable
class Retriever(Protocol):
    """Anything that turns ``{query_id: query}`` into a run ``{query_id: {doc_id: score}}`` of its top ``k``."""

    def run(self, queries: Mapping[str, Any], k: int = 10) -> Run: ...


def run_from_hits(query_ids: Iterable[str], hits: Iterable[Sequence[Hit]]) -> Run:
    """``{query_id: {doc_id: score}}`` from one list of hits per query (in the order of ``query_ids``)."""
    return {qid: {h.doc_id: h.score for h in row} for qid, row in zip(query_ids, hits)}  # type: ignore[misc]
