"""Template helpers of the agent workspace: relative times, countdowns, channel icons and
query strings that keep the inbox's filters."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from tickets import inbox
from tickets.search import highlight_terms

register = template.Library()

# Our own 16 px line icons, one per channel; stroke="currentColor" so CSS colours them.
_CHANNEL_PATHS = {
    "email": '<rect x="1.75" y="3.25" width="12.5" height="9.5" rx="1.5"/>'
    '<path d="M2.5 4.5 8 8.75l5.5-4.25"/>',
    "chat": '<path d="M2.75 2.75h7.5a1 1 0 0 1 1 1v4.5a1 1 0 0 1-1 1H5.5L3 11.25v-2h-.25a1 1 0 0 '
    '1-1-1v-4.5a1 1 0 0 1 1-1z"/><path d="M11.25 6h2a1 1 0 0 1 1 1v4.25a1 1 0 0 1-1 1H13v2l-2.5'
    '-2H8a1 1 0 0 1-1-1V9.25"/>',
    "whatsapp": '<path d="M8 1.75a6.25 6.25 0 0 0-5.4 9.4l-.85 3.1 3.2-.84A6.25 6.25 0 1 0 8 '
    '1.75z"/><path d="M6 5.25c-.3 0-.75.4-.75 1 0 1.9 2.1 4 4 4 .6 0 1-.45 1-.75v-.75l-1.25-.5'
    '-.6.6c-.7-.3-1.35-.95-1.6-1.6l.6-.6-.5-1.25z"/>',
    "sms": '<path d="M3 3h10a1.25 1.25 0 0 1 1.25 1.25v6.5A1.25 1.25 0 0 1 13 12H7.5l-3.5 '
    '2.25V12H3a1.25 1.25 0 0 1-1.25-1.25v-6.5A1.25 1.25 0 0 1 3 3z"/>'
    '<circle cx="5.5" cy="7.6" r=".8" fill="currentColor" stroke="none"/>'
    '<circle cx="8" cy="7.6" r=".8" fill="currentColor" stroke="none"/>'
    '<circle cx="10.5" cy="7.6" r=".8" fill="currentColor" stroke="none"/>',
    "messenger": '<path d="M8 1.75c-3.5 0-6.25 2.6-6.25 6 0 1.8.8 3.4 2.1 4.5v2.1l2-1.1c.7.2 '
    '1.4.3 2.15.3 3.5 0 6.25-2.6 6.25-5.8S11.5 1.75 8 1.75z"/>'
    '<path d="m4.75 9.5 2.25-2.5 1.75 1.5 2.5-2.5"/>',
    "instagram": '<rect x="2" y="2" width="12" height="12" rx="3.5"/>'
    '<circle cx="8" cy="8" r="2.75"/>'
    '<circle cx="11.4" cy="4.6" r=".7" fill="currentColor" stroke="none"/>',
    "telegram": '<path d="M14.25 2.25 1.75 7.1l4.1 1.5 1.55 4.9 2.3-2.75 3.1 2.3z"/>'
    '<path d="m5.85 8.6 6.4-4.6-4.85 5.55"/>',
}


@register.simple_tag
def channel_icon(kind: str, label: str = "") -> SafeString:
    """The channel's icon; with ``label`` it is announced, otherwise it is decoration."""
    paths = _CHANNEL_PATHS.get(kind, _CHANNEL_PATHS["chat"])
    if label:
        a11y = format_html('role="img" aria-label="{}"', label)
    else:
        a11y = mark_safe('aria-hidden="true"')
    return format_html(
        '<svg class="icon channel-{}" width="16" height="16" viewBox="0 0 16 16" fill="none" '
        'stroke="currentColor" stroke-width="1.4" stroke-linecap="round" '
        'stroke-linejoin="round" {}>{}</svg>',
        kind,
        a11y,
        mark_safe(paths),  # noqa: S308 - our own constants above
    )


def _span(delta: timedelta) -> str:
    seconds = abs(int(delta.total_seconds()))
    if seconds < 60:
        return "now" if delta.total_seconds() >= 0 else "<1m"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 24:
        return f"{hours}h"
    days = hours // 24
    if days < 60:
        return f"{days}d"
    return f"{days // 30}mo"


@register.filter
def ago(moment: datetime | None) -> str:
    """How long ago, compact: "now", "5m", "3h", "4d"."""
    if moment is None:
        return ""
    return _span(timezone.now() - moment)


@register.filter
def countdown(moment: datetime | None) -> str:
    """Time left until ``moment`` ("1h 58m"), or how late it is ("12m late")."""
    if moment is None:
        return ""
    left = moment - timezone.now()
    seconds = int(left.total_seconds())
    if seconds <= 0:
        return f"{_span(left)} late" if seconds <= -60 else "due now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    return f"{hours // 24}d {hours % 24}h"


@register.filter
def initials(name: str) -> str:
    parts = [part for part in str(name).replace("@", " ").split() if part[:1].isalnum()]
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0][:2].upper()
    return (parts[0][0] + parts[-1][0]).upper()


@register.simple_tag
def query_with(query: QueryDict, **changes: Any) -> str:
    """``query`` as a query string with ``changes`` applied; a change to None or "" drops
    the parameter. The page cursor never carries over."""
    result = query.copy()
    result.pop("cursor", None)
    for name, value in changes.items():
        result.pop(name, None)
        if value not in (None, ""):
            result[name] = str(value)
    encoded = result.urlencode()
    return f"?{encoded}" if encoded else ""


@register.filter
def agent_name(user: Any) -> str:
    """``User.name`` for an agent loaded with only its name columns."""
    if user is None:
        return ""
    return str(user.display_name or f"{user.first_name} {user.last_name}".strip() or user.username)


@register.filter
def agent_first_name(user: Any) -> str:
    """How a row names an agent in little space: the first name."""
    if user is None:
        return ""
    return str(user.first_name or (user.display_name or user.username).split(" ")[0])


@register.filter
def waiting_since(ticket: Any) -> datetime | None:
    """Since when the customer waits for an answer (see ``tickets.inbox.waiting_since``)."""
    return inbox.waiting_since(ticket)


@register.filter
def sla(ticket: Any) -> inbox.SlaState | None:
    return inbox.sla_state(ticket)


@register.filter
def web_url(value: Any) -> str:
    """``value`` if it is an http(s) address, else "": links from a store's payload must
    never become javascript: links."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else ""


@register.simple_tag
def link_ticket_number(text: str, number: int | None) -> SafeString:
    """``text`` with "#<number>" made a link to that ticket."""
    if number is None:
        return format_html("{}", text)
    marker = f"#{number}"
    before, found, after = text.partition(marker)
    if not found:
        return format_html("{}", text)
    return format_html(
        '{}<a href="{}">{}</a>{}', before, reverse("tickets:ticket", args=[number]), marker, after
    )


@register.filter
def highlight(value: Any, terms: list[str] | None) -> SafeString:
    """``value`` as text, escaped, with the words a search matched in ``<mark>``."""
    return highlight_terms(str(value), list(terms or []))


@register.simple_tag(takes_context=True)
def ticket_row(context: template.Context, ticket: Any, in_view: bool = True) -> SafeString:
    """A ticket's row in the list (``tickets.workspace.rows``), with the list's query and
    search words from the context."""
    from tickets.workspace.rows import render_row  # the rows use this module's filters

    user = context.get("user")
    list_query = context.get("list_query")
    return render_row(
        ticket,
        in_view=in_view,
        query_string=query_with(list_query) if list_query is not None else "",
        search_terms=list(context.get("search_terms") or []),
        user_id=getattr(user, "pk", None),
    )


@register.simple_tag(takes_context=True)
def timeline_entries(context: template.Context, entries: Any, ticket: Any) -> SafeString:
    """The timeline of ``ticket`` (``tickets.workspace.timeline_html``), its forms with the
    page's CSRF token."""
    from tickets.workspace.timeline_html import render_timeline  # it uses this module's tags

    # Lazy, as for ``{% csrf_token %}``: a token is made (and its cookie set) only when a
    # form shows it.
    return render_timeline(entries, ticket=ticket, csrf_token=context.get("csrf_token"))
