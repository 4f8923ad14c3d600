"""What tells Messenger and Instagram apart: one adapter serves both, and each difference it
needs is a field here rather than a branch in the code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from helpdesk.channel_kinds import ChannelKind

MB = 1024 * 1024


@dataclass(frozen=True)
class Product:
    kind: str  # a ChannelKind value
    label: str
    # The ``object`` of its webhook notifications.
    webhook_object: str
    # The longest text one Send API message takes; Instagram counts UTF-8 bytes.
    max_text: int
    text_limit_in_bytes: bool
    # What the user profile endpoint is asked for, to name a new customer.
    profile_fields: str
    # Attachment type -> the largest file the Send API takes as one.
    send_limits: Mapping[str, int]
    # Whether a file of any type goes as a "file" attachment (Messenger), or only images,
    # videos and audio are sent (Instagram).
    sends_any_file: bool
    accepted_description: str


MESSENGER = Product(
    kind=ChannelKind.MESSENGER,
    label="Messenger",
    webhook_object="page",
    max_text=2000,
    text_limit_in_bytes=False,
    profile_fields="first_name,last_name",
    send_limits={"image": 25 * MB, "video": 25 * MB, "audio": 25 * MB, "file": 25 * MB},
    sends_any_file=True,
    accepted_description="Messenger takes files of any type up to 25 MB",
)

INSTAGRAM = Product(
    kind=ChannelKind.INSTAGRAM,
    label="Instagram",
    webhook_object="instagram",
    max_text=1000,
    text_limit_in_bytes=True,
    profile_fields="name,username",
    send_limits={"image": 8 * MB, "video": 25 * MB, "audio": 25 * MB},
    sends_any_file=False,
    accepted_description=(
        "Instagram takes images (JPEG, PNG, GIF, up to 8 MB), videos (MP4, MOV, WebM, up to "
        "25 MB) and audio (MP3, M4A, AAC, WAV, OGG, up to 25 MB)"
    ),
)

PRODUCTS = {product.kind: product for product in (MESSENGER, INSTAGRAM)}
