"""The `export --json` contract: every answerable entry with all its phrasings."""
from __future__ import annotations

from .kb import KnowledgeBase


def export_entries(kb: KnowledgeBase) -> list[dict]:
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "title": e.title,
            "questions": list(e.phrasings),
            "answer": e.answer,
            "source": e.source,
            "corrections": [c.id for c in kb.corrections_for(e.id)],
        }
        for e in kb.entries
    ]
