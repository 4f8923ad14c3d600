"""HTML from customers and agents is sanitized before it is stored (Ammonia, through nh3).

Inline email images stay ``cid:`` references in the stored HTML; ``resolve_inline_images``
points them at the served attachments when a message is shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr",
    "i", "img", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# cid: lets inline email images point at their attachment; no javascript:, no data:.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}


def _clean(html: str, **options: Any) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        **options,
    )


def sanitize_html(html: str) -> str:
    if not html:
        return ""
    return _clean(html)


def _content_id_key(value: str) -> str:
    """How a cid: reference and a Content-ID are compared: RFC 2392 percent-encodes the
    reference and wraps neither in <>; some clients change the case of either."""
    return unquote(value).strip().strip("<>").strip().casefold()


def resolve_inline_images(html: str, urls: Mapping[str, str]) -> str:
    """``html`` (sanitized) with each ``<img src="cid:...">`` whose Content-ID is in ``urls``
    pointing at that URL instead; unknown references and everything else stay as they are.

    The HTML is parsed, not searched, so a "cid:" in text, in a link or in another attribute
    is never touched. HTML without a cid: reference is returned unchanged without parsing."""
    if not html or not urls or "cid:" not in html.lower():
        return html
    by_key = {_content_id_key(content_id): url for content_id, url in urls.items() if content_id}

    def rewrite(tag: str, attribute: str, value: str) -> str:
        if tag == "img" and attribute == "src" and value[:4].lower() == "cid:":
            return by_key.get(_content_id_key(value[4:]), value)
        return value

    # The same options as sanitize_html, so already sanitized HTML comes back as it was.
    return _clean(html, attribute_filter=rewrite)
