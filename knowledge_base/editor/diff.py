"""Line diffs between revisions, as rows a template renders (and so escapes)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from knowledge_base.models import ArticleRevision

CONTEXT_LINES = 3


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed" or "gap"
    text: str
    old_number: int | None = None
    new_number: int | None = None


def _lines(revision: ArticleRevision | None) -> list[str]:
    if revision is None:
        return []
    head = [f"Title: {revision.title}", f"Summary: {revision.summary}", ""]
    return head + revision.body_markdown.split("\n")


def revision_diff(old: ArticleRevision | None, new: ArticleRevision) -> list[DiffLine]:
    """What ``new`` changed against ``old`` (the revision before it, or nothing), with a
    few lines of context around each change."""
    before, after = _lines(old), _lines(new)
    rows: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for group in matcher.get_grouped_opcodes(CONTEXT_LINES):
        if rows:
            rows.append(DiffLine("gap", "…"))
        for tag, a_start, a_end, b_start, b_end in group:
            if tag == "equal":
                for offset in range(a_end - a_start):
                    rows.append(
                        DiffLine(
                            "same",
                            before[a_start + offset],
                            a_start + offset + 1,
                            b_start + offset + 1,
                        )
                    )
                continue
            for index in range(a_start, a_end):
                rows.append(DiffLine("removed", before[index], old_number=index + 1))
            for index in range(b_start, b_end):
                rows.append(DiffLine("added", after[index], new_number=index + 1))
    return rows
