"""A trigram index behind the inbox search by words of the subject (PostgreSQL only; see
``helpdesk.trigram``)."""

from typing import Any

from django.db import migrations

from helpdesk.trigram import TrigramIndex, add_trigram_indexes, remove_trigram_indexes

INDEXES = (TrigramIndex("ticket_subject_trigram", "tickets_ticket", "subject"),)


def forwards(apps: Any, schema_editor: Any) -> None:
    add_trigram_indexes(schema_editor, INDEXES)


def backwards(apps: Any, schema_editor: Any) -> None:
    remove_trigram_indexes(schema_editor, INDEXES)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0010_inbox_count_indexes"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
