"""Routing per team (area: routing)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0001_initial"),
    ]

    operations: list[migrations.operations.base.Operation] = []
