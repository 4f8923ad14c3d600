"""Trigram indexes behind the inbox search by customer name, email address and handle
(PostgreSQL only; see ``helpdesk.trigram``)."""

from django.db import migrations

from helpdesk.trigram import TrigramIndex, trigram_indexes_operation


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_initial"),
    ]

    operations = [
        trigram_indexes_operation(
            (
                TrigramIndex("customer_name_trigram", "customers_customer", "name"),
                TrigramIndex("customer_email_trigram", "customers_customer", "email"),
                TrigramIndex("identity_address_trigram", "customers_identity", "address"),
            )
        )
    ]
