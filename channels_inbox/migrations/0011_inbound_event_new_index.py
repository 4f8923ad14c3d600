from typing import Any

from django.db import migrations, models
from django.db.migrations.operations import AddIndex


class AddIndexConcurrentlyOnPostgres(AddIndex):
    """AddIndex, built with CREATE INDEX CONCURRENTLY on PostgreSQL: the events table takes
    every webhook, and a plain CREATE INDEX would hold their INSERTs back for as long as
    it reads the whole table. Elsewhere (SQLite) the plain operation."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("channels_inbox", "0010_whatsapp_template_reply"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="inboundevent",
            index=models.Index(
                condition=models.Q(("next_attempt_at__isnull", True), ("status", "pending")),
                fields=["id"],
                name="inbound_event_new",
            ),
        ),
    ]
