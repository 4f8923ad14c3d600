"""Help-center search: a partial GIN index on the translations' search vector per locale
with a text search configuration of its own, and one for the other locales (see
``knowledge_base.search.LOCALE_INDEXES``). Nothing on SQLite."""

from typing import Any

from django.db import migrations

from knowledge_base.search import install_locale_indexes, remove_locale_indexes


def forwards(apps: Any, schema_editor: Any) -> None:
    install_locale_indexes(schema_editor)


def backwards(apps: Any, schema_editor: Any) -> None:
    remove_locale_indexes(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge_base", "0002_portal"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
