"""The one text the course embeds for a document: its title, a newline, its body (chapters 02-11).

Every engine, notebook and the embedding cache use :func:`passage_text`; the cache key is built from these exact
strings, so a second spelling of the same text would silently miss the cache that ``warmup`` fills.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

__all__ = ["passage_text", "passage_texts"]


def passage_text(record: Mapping[str, Any]) -> str:
    """``f"{title}\\n{text}"`` of one corpus record (a dict with ``title`` and ``text``)."""
    return f"{record['title']}\n{record['text']}"


def passage_texts(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """:func:`passage_text` of every record, in order."""
    return [passage_text(r) for r in records]
