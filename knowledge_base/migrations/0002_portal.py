"""The contact form's deflection funnel and the customer portal's sign-in links."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge_base", "0001_initial"),
        ("customers", "0002_initial"),
        ("tickets", "0008_automation_verbs"),
    ]

    operations: list[migrations.operations.base.Operation] = []
