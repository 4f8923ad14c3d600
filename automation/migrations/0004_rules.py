"""Rules, their firings and outbound webhooks (area: rules)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0003_macros"),
    ]

    operations: list[migrations.operations.base.Operation] = []
