"""Trigram indexes behind the inbox search by customer name, email address and handle
(PostgreSQL only; see ``helpdesk.trigram``)."""

from typing import Any

from django.db import migrations

from helpdesk.trigram import TrigramIndex, add_trigram_indexes, remove_trigram_indexes

INDEXES = (
    TrigramIndex("customer_name_trigram", "customers_customer", "name"),
    TrigramIndex("customer_email_trigram", "customers_customer", "email"),
    TrigramIndex("identity_address_trigram", "customers_identity", "address"),
)


def forwards(apps: Any, schema_editor: Any) -> None:
    add_trigram_indexes(schema_editor, INDEXES)


def backwards(apps: Any, schema_editor: Any) -> None:
    remove_trigram_indexes(schema_editor, INDEXES)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
