"""Business-hours calendars, holidays and SLA policies (area: sla)."""

from django.db import migrations


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tickets", "0008_automation_verbs"),
        ("helpdesk", "0001_initial"),
        ("customers", "0002_initial"),
        ("channels_inbox", "0010_whatsapp_template_reply"),
    ]

    operations: list[migrations.operations.base.Operation] = []
