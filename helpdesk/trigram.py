"""Trigram indexes for the substring searches of the inbox (``icontains``) on PostgreSQL.

Django spells ``column__icontains`` as ``UPPER(column::text) LIKE UPPER(pattern)``, which no
B-tree index can serve: every row would be read. A GIN index over that same expression with
``pg_trgm``'s operator class finds the rows holding the pattern's trigrams instead, so a
search for an email address or a name reads a handful of rows among millions. The expression
must match Django's spelling exactly or the planner will not use the index.

``pg_trgm`` ships with PostgreSQL and is a trusted extension (PostgreSQL 13+): the database's
owner may create it. Other databases get nothing; at their size a scan is fast enough.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import migrations


@dataclass(frozen=True)
class TrigramIndex:
    name: str
    table: str
    column: str


def add_trigram_indexes(schema_editor: Any, indexes: Iterable[TrigramIndex]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for index in indexes:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(index.name)} ON {quote(index.table)} "
            f"USING gin ((UPPER({quote(index.column)}::text)) gin_trgm_ops)"
        )


def remove_trigram_indexes(schema_editor: Any, indexes: Iterable[TrigramIndex]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in indexes:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index.name)}")


def trigram_indexes_operation(indexes: Iterable[TrigramIndex]) -> migrations.RunPython:
    """A migration's operation that adds ``indexes`` (and drops them when reversed)."""
    wanted = tuple(indexes)

    def forwards(apps: Any, schema_editor: Any) -> None:
        add_trigram_indexes(schema_editor, wanted)

    def backwards(apps: Any, schema_editor: Any) -> None:
        remove_trigram_indexes(schema_editor, wanted)

    return migrations.RunPython(forwards, backwards, elidable=False)
