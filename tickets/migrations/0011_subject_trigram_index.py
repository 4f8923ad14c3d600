"""A trigram index behind the inbox search by words of the subject (PostgreSQL only; see
``helpdesk.trigram``)."""

from django.db import migrations

from helpdesk.trigram import TrigramIndex, trigram_indexes_operation


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0010_inbox_count_indexes"),
    ]

    operations = [
        trigram_indexes_operation(
            (TrigramIndex("ticket_subject_trigram", "tickets_ticket", "subject"),)
        )
    ]
