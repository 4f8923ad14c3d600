"""A ticket's row in the inbox list, rendered in Python.

A page shows fifty rows and every live update re-renders one; through the template engine
each row cost more than the page's queries together. The markup is the one the list's
styles, scripts and tests expect; ``templates/workspace/_row.html`` renders it through
the ``ticket_row`` tag for the live update.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from tickets import inbox
from tickets.search import highlight_terms
from tickets.templatetags.workspace import (
    agent_first_name,
    agent_name,
    ago,
    channel_icon,
    countdown,
)

ROW_TAGS = 2


def _date(moment: datetime, pattern: str) -> str:
    # As the template's ``date`` filter: in the current time zone.
    return dateformat.format(timezone.localtime(moment), pattern)


def render_row(
    ticket: Any,
    *,
    in_view: bool,
    query_string: str,
    search_terms: list[str],
    user_id: int | None,
) -> SafeString:
    """The row of ``ticket`` (loaded by ``tickets.inbox.with_row_details``); ``query_string``
    is the list's query (``?view=...``) its links keep."""
    href = reverse("tickets:ticket", args=[ticket.number]) + query_string
    waiting = inbox.waiting_since(ticket)
    due = inbox.sla_state(ticket)
    priority = ticket.priority
    top_priority = (
        format_html(
            '<span class="priority priority--{}">{}</span>', priority, ticket.get_priority_display()
        )
        if priority in ("urgent", "high")
        else ""
    )
    assignee = ticket.assignee
    if assignee is None:
        assignee_html = mark_safe('<span class="row-assignee is-unassigned">Unassigned</span>')
    else:
        assignee_html = format_html(
            '<span class="row-assignee" title="Assigned to {}">{}</span>',
            agent_name(assignee),
            "You" if ticket.assignee_id == user_id else agent_first_name(assignee),
        )
    meta = [
        format_html(
            '<span class="status status--{}">{}</span>', ticket.status, ticket.get_status_display()
        ),
        mark_safe('<span class="priority priority--low">Low</span>') if priority == "low" else "",
        assignee_html,
    ]
    if waiting:
        meta.append(
            format_html(
                '<span class="waiting" title="The customer wrote {}">waiting '
                '<time datetime="{}" data-ago>{}</time></span>',
                _date(waiting, "D j M, H:i"),
                _date(waiting, "c"),
                ago(waiting),
            )
        )
    if due:
        meta.append(
            format_html(
                '<span class="sla sla--{}" title="SLA due {}">SLA '
                '<time datetime="{}" data-countdown>{}</time></span>',
                due.state,
                _date(due.due_at, "D j M, H:i"),
                _date(due.due_at, "c"),
                countdown(due.due_at),
            )
        )
    meta.append(
        format_html_join(
            "", '<span class="tag">{}</span>', ((tag.name,) for tag in ticket.tags.all()[:ROW_TAGS])
        )
    )
    return format_html(
        '\n<div role="option" id="ticket-row-{pk}" class="row row--{status}{left}" '
        'aria-selected="false"\n'
        '     data-ticket-id="{pk}" data-number="{number}"\n'
        '     data-href="{href}">\n'
        '  <input type="checkbox" class="row-check" name="ticket" value="{pk}" form="bulk-form" '
        'tabindex="-1" aria-label="Select ticket #{number}">\n'
        '  <span class="row-channel" title="{channel}">{icon}</span>\n'
        '  <div class="row-body">\n'
        '    <div class="row-top">\n'
        '      <span class="row-customer">{customer}</span>\n'
        "      {top_priority}\n"
        '      <span class="row-number">#{number}</span>\n'
        '      <time class="row-time" datetime="{updated_iso}" title="Last activity {updated}" '
        "data-ago>{updated_ago}</time>\n"
        "    </div>\n"
        '    <div class="row-text">\n'
        "      {text}\n"
        "    </div>\n"
        '    <div class="row-meta">\n'
        "      {meta}\n"
        "    </div>\n"
        "    {left_note}\n"
        "  </div>\n"
        "</div>\n",
        pk=ticket.pk,
        status=ticket.status,
        left="" if in_view else " row--left",
        number=ticket.number,
        href=href,
        channel=ticket.get_channel_display(),
        icon=channel_icon(ticket.channel, ticket.get_channel_display()),
        customer=highlight_terms(str(ticket.customer), search_terms),
        top_priority=top_priority,
        updated_iso=_date(ticket.updated_at, "c"),
        updated=_date(ticket.updated_at, "D j M Y, H:i"),
        updated_ago=ago(ticket.updated_at),
        text=_row_text(ticket, href, search_terms),
        meta=mark_safe("\n      ".join(str(part) for part in meta if part)),  # noqa: S308 - each part built by format_html above
        left_note=""
        if in_view
        else mark_safe('<span class="row-left-note">Moved out of this view</span>'),
    )


def _row_text(ticket: Any, href: str, search_terms: list[str]) -> SafeString:
    """The subject and preview; a search result's matched words instead; for chat-like
    channels the latest message, which says more than the first."""
    snippet = getattr(ticket, "search_snippet", "")
    preview = ticket.preview
    if snippet:
        return format_html(
            '<a class="row-subject row-subject--message row-snippet" href="{}" tabindex="-1" '
            'title="{}">{}</a>',
            href,
            ticket.subject,
            snippet,
        )
    reply = ticket.preview_kind == "reply"
    if ticket.channel == "email" or not preview:
        subject = (
            highlight_terms(ticket.subject, search_terms) if ticket.subject else "(no subject)"
        )
        link = format_html('<a class="row-subject" href="{}" tabindex="-1">{}</a>', href, subject)
        if not preview:
            return link
        return format_html(
            '{}\n      <span class="row-preview">{}{}</span>',
            link,
            "Reply: " if reply else "",
            preview,
        )
    return format_html(
        '<a class="row-subject row-subject--message" href="{}" tabindex="-1">{}{}</a>',
        href,
        mark_safe('<span class="muted">Reply: </span>') if reply else "",
        conditional_escape(preview),
    )
