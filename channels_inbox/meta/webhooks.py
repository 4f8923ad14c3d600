"""What every Meta webhook endpoint shares beyond the channels' common ones
(``channels_inbox.adapters.inbound``): the body limit and the GET handshake.

Meta retries any answer but 200 (WhatsApp for up to seven days), so 200 is given only once
the notification is stored, and again for a repeated one.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from channels_inbox.adapters.inbound import forbidden, plain
from channels_inbox.meta.signatures import subscription_challenge

# Meta documents notification payloads of up to 3 MB; media never travels inline.
MAX_BODY_BYTES = 3 * 1024 * 1024


def handshake_response(request: HttpRequest, verify_token: str) -> HttpResponse:
    """Answer Meta's subscription check: 200 with the bare challenge when the verify token
    matches, 403 otherwise."""
    challenge = subscription_challenge(request.GET, verify_token)
    if challenge is None:
        return forbidden()
    return plain(challenge, 200)
