"""Which sites may embed an account's widget: the account's ``allowed_origins`` and
Switchboard's own site (``PUBLIC_BASE_URL``, for the help center).

The widget's requests and its socket carry the page's Origin header, which a browser sets
and a page cannot forge. A request without one, or from a site not on the list, is refused.
(A script outside a browser can send any Origin; the token and the rate limits are what
hold it back.)
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings

from channels_inbox.models import ChannelAccount
from channels_inbox.services import normalize_origin


def allowed_origins(account: ChannelAccount) -> frozenset[str]:
    configured = account.option("allowed_origins")
    if isinstance(configured, str):
        # Accounts set up with the origins among the credentials keep them as one string.
        configured = re.split(r"[\s,]+", configured)
    own = urlsplit(settings.PUBLIC_BASE_URL)
    origins = set()
    for value in [
        *(configured if isinstance(configured, list) else []),
        f"{own.scheme}://{own.netloc}",
    ]:
        if isinstance(value, str) and value.strip():
            try:
                origins.add(normalize_origin(value))
            except ValueError:
                continue
    return frozenset(origins)


def origin_allowed(account: ChannelAccount, origin: str | None) -> bool:
    if not origin or origin == "null":
        return False
    try:
        return normalize_origin(origin) in allowed_origins(account)
    except ValueError:
        return False
