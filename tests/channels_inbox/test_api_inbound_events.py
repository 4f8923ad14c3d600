"""/api/v1/inbound-events/: admins see every stored delivery and where it stands in the
pipeline, download its body as received, and have a failed one processed again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import User
from tests.conftest import api_client_for
from tickets.models import Message

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/inbound-events/"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

MAIL = (
    b"From: Ana Souza <ana@example.com>\r\n"
    b"To: support@shop.test\r\n"
    b"Subject: Where is my parcel?\r\n"
    b"Message-ID: <parcel-1@example.com>\r\n"
    b"Date: Sat, 01 Mar 2025 09:00:00 +0000\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"It has not arrived.\r\n"
)


def event_url(event: InboundEvent, suffix: str = "") -> str:
    return f"{EVENTS}{event.pk}/{suffix}"


def make_event(
    account: ChannelAccount,
    external_id: str,
    *,
    payload: bytes = b"{}",
    received_at: datetime = T0,
    **fields: Any,
) -> InboundEvent:
    event = InboundEvent.objects.create(
        channel_account=account, external_id=external_id, payload=payload, **fields
    )
    # auto_now_add ignores a given value; the filters need known times.
    InboundEvent.objects.filter(pk=event.pk).update(received_at=received_at)
    event.refresh_from_db()
    return event


def events_state() -> list[tuple[Any, ...]]:
    return list(
        InboundEvent.objects.order_by("pk").values_list(
            "pk", "status", "attempts", "error", "next_attempt_at", "processed_at"
        )
    )


@pytest.fixture
def failed_mail(email_account: ChannelAccount) -> InboundEvent:
    return make_event(
        email_account,
        "parcel-1@example.com",
        payload=MAIL,
        headers={"x-mailfrom": "ana@example.com"},
        status=InboundEvent.Status.FAILED,
        attempts=5,
        error="Gave up after 5 attempts: OperationalError: deadlock detected",
        received_at=T0,
    )


@pytest.fixture
def processed_whatsapp(whatsapp_account: ChannelAccount) -> InboundEvent:
    return make_event(
        whatsapp_account,
        "wamid.HBgL",
        payload=b'{"entry": [{"id": "1"}]}',
        headers={"X-Hub-Signature-256": "sha256=abc"},
        status=InboundEvent.Status.PROCESSED,
        attempts=1,
        processed_at=T0 + timedelta(hours=1, seconds=2),
        received_at=T0 + timedelta(hours=1),
    )


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).isoformat().replace("+00:00", "Z")


# --- Reading ---------------------------------------------------------------------------------


def test_list_shows_where_each_delivery_stands_but_not_what_it_carries(
    admin_client_api: APIClient,
    failed_mail: InboundEvent,
    processed_whatsapp: InboundEvent,
    email_account: ChannelAccount,
    whatsapp_account: ChannelAccount,
) -> None:
    response = admin_client_api.get(EVENTS)

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": processed_whatsapp.pk,
            "channel_account": {"id": whatsapp_account.pk, "name": "WhatsApp", "kind": "whatsapp"},
            "external_id": "wamid.HBgL",
            "status": "processed",
            "attempts": 1,
            "error": "",
            "next_attempt_at": None,
            "received_at": "2025-03-01T10:00:00Z",
            "processed_at": "2025-03-01T10:00:02Z",
        },
        {
            "id": failed_mail.pk,
            "channel_account": {
                "id": email_account.pk,
                "name": "Support mailbox",
                "kind": "email",
            },
            "external_id": "parcel-1@example.com",
            "status": "failed",
            "attempts": 5,
            "error": "Gave up after 5 attempts: OperationalError: deadlock detected",
            "next_attempt_at": None,
            "received_at": "2025-03-01T09:00:00Z",
            "processed_at": None,
        },
    ]
    assert b"It has not arrived" not in response.content
    assert b"sha256=abc" not in response.content
    assert b"mailbox-secret" not in response.content


def test_detail_has_the_headers_and_a_link_to_the_body(
    admin_client_api: APIClient, failed_mail: InboundEvent, email_account: ChannelAccount
) -> None:
    response = admin_client_api.get(event_url(failed_mail))

    assert response.status_code == 200
    assert response.json() == {
        "id": failed_mail.pk,
        "channel_account": {"id": email_account.pk, "name": "Support mailbox", "kind": "email"},
        "external_id": "parcel-1@example.com",
        "status": "failed",
        "attempts": 5,
        "error": "Gave up after 5 attempts: OperationalError: deadlock detected",
        "next_attempt_at": None,
        "received_at": "2025-03-01T09:00:00Z",
        "processed_at": None,
        "headers": {"x-mailfrom": "ana@example.com"},
        "payload_size": len(MAIL),
        "raw_url": f"http://testserver{EVENTS}{failed_mail.pk}/raw/",
    }
    assert b"It has not arrived" not in response.content


def test_detail_ignores_the_list_filters(
    admin_client_api: APIClient, failed_mail: InboundEvent
) -> None:
    """An event's own URL shows it, whatever status it is in."""
    response = admin_client_api.get(event_url(failed_mail), {"status": "processed"})

    assert response.json()["id"] == failed_mail.pk


def test_an_email_body_downloads_as_the_message_received(
    admin_client_api: APIClient, failed_mail: InboundEvent
) -> None:
    response = admin_client_api.get(event_url(failed_mail, "raw/"))

    assert response.status_code == 200
    assert response.content == MAIL
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == (
        f'attachment; filename="inbound-event-{failed_mail.pk}.eml"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"


def test_other_bodies_download_as_bytes_exactly_as_received(
    admin_client_api: APIClient, whatsapp_account: ChannelAccount
) -> None:
    body = b'{"text": "ol\xe1"}\x00\xff'
    event = make_event(whatsapp_account, "wamid.bytes", payload=body)

    response = admin_client_api.get(event_url(event, "raw/"))

    assert response.status_code == 200
    assert response.content == body
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == (
        f'attachment; filename="inbound-event-{event.pk}.bin"'
    )


def test_the_body_can_be_asked_for_by_its_media_type(
    admin_client_api: APIClient, failed_mail: InboundEvent
) -> None:
    response = admin_client_api.get(event_url(failed_mail, "raw/"), HTTP_ACCEPT="message/rfc822")

    assert response.status_code == 200
    assert response.content == MAIL


@pytest.mark.parametrize("suffix", ["", "raw/"])
@pytest.mark.parametrize("event_id", ["999999", "abc", "0"])
def test_unknown_events_are_404(
    admin_client_api: APIClient, failed_mail: InboundEvent, suffix: str, event_id: str
) -> None:
    response = admin_client_api.get(f"{EVENTS}{event_id}/{suffix}")

    assert response.status_code == 404
    assert MAIL not in response.content


# --- Filters ---------------------------------------------------------------------------------


@pytest.fixture
def mixed(
    failed_mail: InboundEvent, processed_whatsapp: InboundEvent, email_account: ChannelAccount
) -> dict[str, InboundEvent]:
    pending = make_event(email_account, "later@example.com", received_at=T0 + timedelta(days=1))
    ignored = make_event(
        email_account,
        "loop@example.com",
        status=InboundEvent.Status.IGNORED,
        received_at=T0 + timedelta(days=2),
    )
    return {
        "failed": failed_mail,
        "processed": processed_whatsapp,
        "pending": pending,
        "ignored": ignored,
    }


def listed(client: APIClient, params: dict[str, Any] | str) -> list[int]:
    response = (
        client.get(EVENTS, params) if isinstance(params, dict) else client.get(f"{EVENTS}?{params}")
    )
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_filter_by_one_or_several_statuses(
    admin_client_api: APIClient, mixed: dict[str, InboundEvent]
) -> None:
    assert listed(admin_client_api, {"status": "failed"}) == [mixed["failed"].pk]
    assert listed(admin_client_api, "status=failed,pending") == [
        mixed["pending"].pk,
        mixed["failed"].pk,
    ]
    assert listed(admin_client_api, "status=ignored&status=processed") == [
        mixed["ignored"].pk,
        mixed["processed"].pk,
    ]


def test_filter_by_channel_account(
    admin_client_api: APIClient,
    mixed: dict[str, InboundEvent],
    whatsapp_account: ChannelAccount,
    email_account: ChannelAccount,
) -> None:
    assert listed(admin_client_api, {"channel_account": whatsapp_account.pk}) == [
        mixed["processed"].pk
    ]
    assert listed(admin_client_api, {"channel_account": email_account.pk}) == [
        mixed["ignored"].pk,
        mixed["pending"].pk,
        mixed["failed"].pk,
    ]


def test_filter_by_received_since(
    admin_client_api: APIClient, mixed: dict[str, InboundEvent]
) -> None:
    assert listed(admin_client_api, {"received_since": "2025-03-02T09:00:00Z"}) == [
        mixed["ignored"].pk,
        mixed["pending"].pk,
    ]
    # 10:00 in Lisbon's summer is not 10:00 UTC: the offset counts.
    assert listed(admin_client_api, {"received_since": "2025-03-01T10:00:00+01:00"}) == [
        mixed["ignored"].pk,
        mixed["pending"].pk,
        mixed["processed"].pk,
        mixed["failed"].pk,
    ]
    assert (
        listed(admin_client_api, {"received_since": "2025-03-01T10:00:00Z", "status": "failed"})
        == []
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"status": "failed,lost"}, "status"),
        ({"channel_account": "abc"}, "channel_account"),
        ({"channel_account": "999999"}, "channel_account"),
        ({"channel_account": "-1"}, "channel_account"),
        ({"channel_account": "none"}, "channel_account"),
        ({"received_since": "2025-03-01T09:00:00"}, "received_since"),
        ({"received_since": "yesterday"}, "received_since"),
        ({"received_since": "2025-13-01T09:00:00Z"}, "received_since"),
        ({"stauts": "failed"}, "stauts"),
        ({"payload": "1"}, "payload"),
    ],
)
def test_bad_filters_are_refused_with_the_parameter_named(
    admin_client_api: APIClient, mixed: dict[str, InboundEvent], params: dict[str, str], field: str
) -> None:
    response = admin_client_api.get(EVENTS, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_forged_cursor_is_refused(
    admin_client_api: APIClient, mixed: dict[str, InboundEvent]
) -> None:
    """The list's pagination (DRF's cursor pagination) answers 404 "Invalid cursor"."""
    response = admin_client_api.get(EVENTS, {"cursor": "not-a-cursor"})

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


@pytest.mark.parametrize("page_size", [5, 50])
def test_list_query_count_does_not_grow_with_the_page(
    admin_client_api: APIClient,
    email_account: ChannelAccount,
    whatsapp_account: ChannelAccount,
    page_size: int,
    django_assert_num_queries: Any,
) -> None:
    """One query for the page of events with their accounts."""
    for n in range(60):
        account = email_account if n % 2 else whatsapp_account
        make_event(account, f"event-{n}", payload=b"x" * 1000, received_at=T0 + timedelta(n))

    with django_assert_num_queries(1):
        response = admin_client_api.get(EVENTS, {"page_size": page_size})

    rows = response.json()["results"]
    assert len(rows) == page_size
    assert {row["channel_account"]["kind"] for row in rows} == {"email", "whatsapp"}


def test_list_walks_every_event_once(
    admin_client_api: APIClient, email_account: ChannelAccount
) -> None:
    created = [make_event(email_account, f"event-{n}").pk for n in range(12)]

    response = admin_client_api.get(EVENTS, {"page_size": 5})
    ids = [row["id"] for row in response.json()["results"]]
    while response.json()["next"]:
        response = admin_client_api.get(response.json()["next"])
        ids += [row["id"] for row in response.json()["results"]]

    assert ids == sorted(created, reverse=True)


# --- Processing again ------------------------------------------------------------------------


def test_reprocess_resets_the_event_and_processes_it_after_commit(
    admin_client_api: APIClient,
    failed_mail: InboundEvent,
    email_account: ChannelAccount,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client_api.post(event_url(failed_mail, "reprocess/"))

    assert response.status_code == 202
    body = response.json()
    assert (body["id"], body["status"], body["attempts"], body["error"]) == (
        failed_mail.pk,
        "pending",
        0,
        "",
    )
    assert (body["next_attempt_at"], body["processed_at"]) == (None, None)
    assert Message.objects.count() == 0
    assert len(callbacks) == 1

    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()

    failed_mail.refresh_from_db()
    assert (failed_mail.status, failed_mail.attempts, failed_mail.error) == ("processed", 1, "")
    message = Message.objects.get()
    assert (message.text, message.provider_message_id, message.channel_account_id) == (
        "It has not arrived.",
        "parcel-1@example.com",
        email_account.pk,
    )


def test_reprocessing_a_processed_event_saves_nothing_twice(
    admin_client_api: APIClient,
    email_account: ChannelAccount,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """Processing is idempotent: the message is found by its provider id."""
    event = make_event(email_account, "parcel-1@example.com", payload=MAIL)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client_api.post(event_url(event, "reprocess/"))
        assert response.status_code == 202

    event.refresh_from_db()
    assert event.status == "processed"
    assert Message.objects.count() == 1


def test_an_event_a_worker_holds_is_not_reset(
    admin_client_api: APIClient,
    email_account: ChannelAccount,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    lease = timezone.now() + timedelta(minutes=5)
    event = make_event(email_account, "busy@example.com", attempts=1, next_attempt_at=lease)
    before = events_state()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client_api.post(event_url(event, "reprocess/"))

    assert response.status_code == 409
    assert response.json() == {
        "detail": "A worker is processing this event right now; try again later."
    }
    assert events_state() == before
    assert callbacks == []


@pytest.mark.parametrize("event_id", ["999999", "abc"])
def test_reprocessing_an_unknown_event_is_404(
    admin_client_api: APIClient, failed_mail: InboundEvent, event_id: str
) -> None:
    before = events_state()

    response = admin_client_api.post(f"{EVENTS}{event_id}/reprocess/")

    assert response.status_code == 404
    assert events_state() == before


def test_reprocess_takes_no_options(admin_client_api: APIClient, failed_mail: InboundEvent) -> None:
    """There is nothing to choose; a field is refused rather than silently ignored."""
    before = events_state()

    response = admin_client_api.post(
        event_url(failed_mail, "reprocess/"), {"status": "processed"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"status": ["Unknown field."]}
    assert events_state() == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_events_cannot_be_changed_or_deleted(
    admin_client_api: APIClient, failed_mail: InboundEvent, method: str
) -> None:
    before = events_state()

    response = getattr(admin_client_api, method)(event_url(failed_mail), {"status": "processed"})

    assert response.status_code == 405
    assert events_state() == before


def test_events_cannot_be_created(
    admin_client_api: APIClient, email_account: ChannelAccount
) -> None:
    response = admin_client_api.post(EVENTS, {"external_id": "x", "payload": "x"})

    assert response.status_code == 405
    assert InboundEvent.objects.count() == 0


# --- Who may -----------------------------------------------------------------------------------


@pytest.fixture(params=["agent", "inactive_agent", "anonymous"])
def outsider_client(request: pytest.FixtureRequest) -> tuple[str, APIClient]:
    if request.param == "anonymous":
        return request.param, APIClient()
    user: User = request.getfixturevalue(request.param)
    return request.param, api_client_for(user)


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", "{id}/"), ("get", "{id}/raw/"), ("post", "{id}/reprocess/")],
)
def test_only_admins_may_see_or_reprocess_deliveries(
    outsider_client: tuple[str, APIClient],
    failed_mail: InboundEvent,
    method: str,
    suffix: str,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    who, client = outsider_client
    before = events_state()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = getattr(client, method)(EVENTS + suffix.format(id=failed_mail.pk))

    assert response.status_code == (401 if who == "anonymous" else 403)
    assert MAIL not in response.content
    assert b"deadlock" not in response.content
    assert events_state() == before
    assert callbacks == []
    assert Message.objects.count() == 0
