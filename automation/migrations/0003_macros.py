"""Macros and auto-acknowledgements (area: macros)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0002_routing"),
    ]

    operations: list[migrations.operations.base.Operation] = []
