from tickets.models import Ticket


def test_ticket_fixture_threads_a_customer_email(ticket: Ticket) -> None:
    """The shared fixture opens a new ticket for the customer's first email."""
    assert ticket.status == Ticket.Status.NEW
    assert ticket.customer.identities.get().address == "ana@example.com"
    assert ticket.messages.count() == 1
