"""Full-text search over message text: a GIN index on PostgreSQL, an FTS5 table kept in
step by triggers on SQLite. Each database gets only its own; see ``tickets.search``."""

from typing import Any

from django.db import migrations

from tickets.search import install_text_search, remove_text_search


def forwards(apps: Any, schema_editor: Any) -> None:
    install_text_search(schema_editor, apps.get_model("tickets", "Message"))


def backwards(apps: Any, schema_editor: Any) -> None:
    remove_text_search(schema_editor, apps.get_model("tickets", "Message"))


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_delivery_failed_verb"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
