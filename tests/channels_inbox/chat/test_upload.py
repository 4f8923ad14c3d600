"""Files from the visitor: size and type limits (by content), storage as an attachment of the
visitor's message, and the signed links the visitor gets their conversation's files by."""

from __future__ import annotations

import base64
import time
from typing import Any
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from channels_inbox.chat import tokens
from channels_inbox.chat.files import safe_name, sniff_content_type
from channels_inbox.chat.limits import UPLOAD_LIMIT
from channels_inbox.chat.queries import conversation_history, message_payload
from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import User
from tests.channels_inbox.chat.conftest import EVIL, SHOP, UPLOAD_URL, new_token
from tickets.models import Attachment, Message, Ticket
from tickets.services import OutboundAttachment, add_reply

pytestmark = pytest.mark.django_db

# A 1×1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def upload(
    token: str,
    content: bytes,
    *,
    name: str = "photo.png",
    declared: str = "image/png",
    message_id: str = "file-000001",
    origin: str = SHOP,
    client: Client | None = None,
) -> Any:
    data: dict[str, Any] = {"token": token, "id": message_id}
    data["file"] = SimpleUploadedFile(name, content, content_type=declared)
    return (client or Client()).post(UPLOAD_URL, data, HTTP_ORIGIN=origin)


def test_a_picture_becomes_an_attachment_of_the_visitors_message(
    chat_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    token = new_token()
    visitor_id = tokens.read_visitor_token(chat_account.pk, token)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(token, PNG, name="broken-lamp.png")

    assert response.status_code == 201
    assert response.json() == {
        "id": "file-000001",
        "name": "broken-lamp.png",
        "type": "image/png",
        "size": len(PNG),
    }
    assert response["Access-Control-Allow-Origin"] == SHOP
    message = Message.objects.get()
    assert (message.text, message.provider_message_id) == ("", f"{visitor_id}:file-000001")
    assert message.ticket.channel_account == chat_account
    attachment = message.attachments.get()
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "broken-lamp.png",
        "image/png",
        len(PNG),
    )
    with attachment.file.open("rb") as stored:
        assert stored.read() == PNG


def test_the_type_is_what_the_bytes_are_not_what_the_browser_says(
    chat_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """A PDF sent as "invoice.png" with an image type is stored as the PDF it is."""
    token = new_token()

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(token, PDF, name="invoice.png", declared="image/png")

    assert response.status_code == 201
    assert (response.json()["name"], response.json()["type"]) == (
        "invoice.png.pdf",
        "application/pdf",
    )
    assert Attachment.objects.get().content_type == "application/pdf"


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (EXECUTABLE, "photo.png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>\x00", "a.svg"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "report.docx"),
        (b"\xff\xfe\x00\x00binary", "notes.txt"),
        (b"", "empty.txt"),
    ],
)
def test_a_file_not_on_the_allow_list_is_refused_by_its_content(
    chat_account: ChannelAccount, content: bytes, name: str
) -> None:
    response = upload(new_token(), content, name=name, declared="image/png")

    assert response.status_code == 415
    assert response.json() == {
        "error": "This kind of file cannot be sent here: send a picture (PNG, JPEG, GIF, "
        "WebP), a PDF or a text file.",
        "field": "file",
    }
    assert not InboundEvent.objects.exists()


def test_an_oversized_file_is_refused_and_nothing_is_stored(
    chat_account: ChannelAccount, settings: Any
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 64 * 1024
    token = new_token()

    just_right = upload(token, PNG + b"\x00" * (64 * 1024 - len(PNG)), message_id="fits-00001")
    too_big = upload(token, PNG + b"\x00" * (64 * 1024 - len(PNG) + 1), message_id="big-000001")

    assert just_right.status_code == 201
    assert too_big.status_code == 413
    assert too_big.json() == {"error": "Files can be at most 0.0625 MB.", "field": "file"}
    assert list(InboundEvent.objects.values_list("external_id", flat=True)) == [
        f"{tokens.read_visitor_token(chat_account.pk, token)}:fits-00001"
    ]


def test_a_body_declared_far_over_the_limit_is_refused_before_it_is_read(
    chat_account: ChannelAccount,
) -> None:
    response = Client().post(
        UPLOAD_URL,
        b"",
        content_type="multipart/form-data; boundary=x",
        HTTP_ORIGIN=SHOP,
        CONTENT_LENGTH=str(11 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert not InboundEvent.objects.exists()


def test_a_repeated_upload_is_stored_once(chat_account: ChannelAccount) -> None:
    token = new_token()

    first = upload(token, PNG)
    again = upload(token, PNG)

    assert (first.status_code, again.status_code) == (201, 200)
    assert InboundEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"origin": EVIL}, 403),
        ({"token": "not-a-token"}, 401),
        ({"message_id": "../../x"}, 400),
    ],
)
def test_uploads_need_the_allowed_origin_a_token_and_an_id(
    chat_account: ChannelAccount, change: dict[str, Any], status: int
) -> None:
    arguments: dict[str, Any] = {"token": new_token(), "content": PNG, **change}

    response = upload(**arguments)

    assert response.status_code == status
    assert not InboundEvent.objects.exists()


def test_an_upload_without_a_file_is_refused(chat_account: ChannelAccount) -> None:
    response = Client().post(
        UPLOAD_URL, {"token": new_token(), "id": "nofile-0001"}, HTTP_ORIGIN=SHOP
    )

    assert response.status_code == 400
    assert response.json() == {"error": "Choose a file to send.", "field": "file"}


def test_uploads_are_rate_limited_per_visitor(chat_account: ChannelAccount) -> None:
    token = new_token()
    statuses = [
        upload(token, PNG, message_id=f"many-{number:05d}").status_code
        for number in range(UPLOAD_LIMIT.amount + 1)
    ]

    assert statuses == [201] * UPLOAD_LIMIT.amount + [429]
    assert InboundEvent.objects.count() == UPLOAD_LIMIT.amount
    # Another visitor is not held back.
    assert upload(new_token(), PNG).status_code == 201


# --- Files of the conversation ----------------------------------------------------------------


@pytest.fixture
def conversation(
    chat_account: ChannelAccount, online_agent: User, django_capture_on_commit_callbacks: Any
) -> tuple[str, Message]:
    """Lena sent a picture and bob answered with a PDF (she had left: it failed, but it is
    in her history)."""
    token = new_token()
    with django_capture_on_commit_callbacks(execute=True):
        upload(token, PNG, name="lamp.png")
    ticket = Ticket.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_reply(
            ticket,
            author=online_agent,
            text="Here is the return label.",
            attachments=[OutboundAttachment("label.pdf", "application/pdf", PDF)],
        )
    return token, reply


def history_links(account: ChannelAccount, token: str) -> list[tuple[str, str]]:
    visitor_id = tokens.read_visitor_token(account.pk, token)
    assert visitor_id is not None
    return [
        (item["name"], item["url"])
        for message in conversation_history(account, visitor_id)
        for item in message_payload(message, account=account, visitor_id=visitor_id)["attachments"]
    ]


def test_the_visitor_gets_the_files_of_their_conversation_as_downloads(
    chat_account: ChannelAccount, conversation: tuple[str, Message]
) -> None:
    token, _ = conversation
    links = dict(history_links(chat_account, token))

    picture = Client().get(links["lamp.png"])
    label = Client().get(links["label.pdf"])

    assert picture.status_code == 200
    assert b"".join(picture.streaming_content) == PNG  # type: ignore[attr-defined]
    assert picture["Content-Type"] == "image/png"
    assert picture["Content-Disposition"] == 'attachment; filename="lamp.png"'
    assert picture["X-Content-Type-Options"] == "nosniff"
    assert picture["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"".join(label.streaming_content) == PDF  # type: ignore[attr-defined]


def test_a_link_is_for_its_visitor_only_and_not_forever(
    chat_account: ChannelAccount, conversation: tuple[str, Message]
) -> None:
    token, _ = conversation
    [(_, link), *_] = history_links(chat_account, token)
    attachment_id = Attachment.objects.get(name="lamp.png").pk
    stranger = tokens.new_visitor_id()
    slug = chat_account.slug
    visitor_id = tokens.read_visitor_token(chat_account.pk, token)
    assert visitor_id is not None
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 2 * 86400):
        old = tokens.sign_file_link(attachment_id, visitor_id)

    for url in [
        link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:],  # tampered signature
        f"/chat/{slug}/files/{tokens.sign_file_link(attachment_id, stranger)}/",
        f"/chat/{slug}/files/{old}/",
        f"/chat/other-chat/files/{link.split('/')[-2]}/",
    ]:
        assert Client().get(url).status_code == 404, url
    assert Client().get(link).status_code == 200


# --- The sniffing itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (PDF, "application/pdf"),
        ("Order 1042 — hallo, grüße\r\n\tand more\n".encode(), "text/plain"),
        (b"<html><script>alert(1)</script></html>", "text/plain"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"text with a NUL\x00", None),
        (b"\x1b[31mterminal escape", None),
        (b"", None),
    ],
)
def test_sniffing_by_signature(content: bytes, content_type: str | None) -> None:
    assert sniff_content_type(content) == content_type


@pytest.mark.parametrize(
    ("name", "content_type", "safe"),
    [
        ("lamp.png", "image/png", "lamp.png"),
        ("LAMP.PNG", "image/png", "LAMP.PNG"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("invoice.pdf.exe", "application/pdf", "invoice.pdf.exe.pdf"),
        ("C:\\Users\\lena\\notes", "text/plain", "notes.txt"),
        ("../../etc/passwd", "text/plain", "passwd.txt"),
        ("", "image/gif", "file.gif"),
    ],
)
def test_file_names_end_as_what_the_file_is(name: str, content_type: str, safe: str) -> None:
    assert safe_name(name, content_type) == safe
