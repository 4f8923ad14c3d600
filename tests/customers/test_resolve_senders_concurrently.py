"""Two writers meet the same new sender on PostgreSQL: the second one waits for the first,
then finds its customer instead of failing its whole batch."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from customers.models import Customer, Identity
from customers.services import resolve_senders

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sender_another_batch_is_creating_is_found_once_it_commits() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; set DATABASE_URL to a PostgreSQL database")
    inserted = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def first_batch() -> None:
        try:
            with transaction.atomic():
                resolve_senders([("email", "nora@mail.test", "Nora")])
                inserted.set()
                # Holds the new identity's row lock, as a batch still threading its mail does.
                release.wait(timeout=30)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    writer = threading.Thread(target=first_batch)
    writer.start()
    assert inserted.wait(timeout=30)
    threading.Timer(0.5, release.set).start()

    with transaction.atomic():
        senders = resolve_senders(
            [("email", "Nora@Mail.test", "Nora B."), ("email", "omar@mail.test", "Omar")]
        )

    writer.join(timeout=30)
    assert errors == []
    nora = Identity.objects.get(kind="email", address="nora@mail.test")
    assert senders["email", "Nora@Mail.test"].customer.pk == nora.customer_id
    assert senders["email", "Nora@Mail.test"].created is False
    assert senders["email", "omar@mail.test"].created is True
    # The attempt that met the conflict took back its own customers.
    assert Customer.objects.count() == 2
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Nora", "Omar"]
