"""A ticket's timeline, rendered in Python.

A ticket page shows every message and activity of the ticket, and the page and each live
update re-render all of them; through the template engine the timeline of fifty messages
cost a fifth of the page. The markup is the one the timeline's styles, scripts and tests
expect; ``templates/workspace/_timeline.html`` renders it through the ``timeline_entries``
tag for the pages and fragments that include it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.template.defaultfilters import filesizeformat, linebreaksbr
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from tickets.models import Message
from tickets.templatetags.workspace import link_ticket_number
from tickets.workspace.timeline import ShownAttachment, TimelineEntry

EMPTY = mark_safe('<p class="timeline-empty">No messages yet. Write the first one below.</p>')

# Our own line icons: constants, safe as written.
_ATTACHMENT_ICON = mark_safe(
    '<svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" fill="none" '
    'stroke="currentColor" stroke-width="1.4" stroke-linecap="round" stroke-linejoin="round">'
    '<path d="M10.5 4.5 5.3 9.7a1.5 1.5 0 0 0 2.1 2.1l5.4-5.4a3 3 0 0 0-4.2-4.2L3.2 7.6a4.5 '
    '4.5 0 0 0 6.4 6.4l4.4-4.4"/></svg>'
)
_QUEUED_ICON = mark_safe(
    '<svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" fill="none" '
    'stroke="currentColor" stroke-width="1.5" stroke-linecap="round"><circle cx="8" cy="8" '
    'r="5.5"/><path d="M8 5v3l2 1.5"/></svg>'
)
_SENT_ICON = mark_safe(
    '<svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" fill="none" '
    'stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">'
    '<path d="m3 8.5 3 3 7-7"/></svg>'
)
_DELIVERED_ICON = mark_safe(
    '<svg width="18" height="14" viewBox="0 0 20 16" aria-hidden="true" fill="none" '
    'stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">'
    '<path d="m2 8.5 3 3 7-7M9 11.5l7-7"/></svg>'
)
_FAILED_ICON = mark_safe(
    '<svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" fill="none" '
    'stroke="currentColor" stroke-width="1.6" stroke-linecap="round"><circle cx="8" cy="8" '
    'r="6"/><path d="M8 4.75v4M8 11.2v.05"/></svg>'
)

Status = Message.DeliveryStatus


class _Dates:
    """Dates as the template's ``date`` filter writes them, in the current time zone. The
    words of a day ("Tue 5 Nov 2026") are looked up in the translations once per day
    shown: formatted whole for each message they cost more than the rest of its markup."""

    def __init__(self) -> None:
        self._days: dict[date, tuple[str, str]] = {}

    def _parts(self, moment: datetime) -> tuple[datetime, str, str, str]:
        """The local time, its "D j M Y", its "j M" and its "H:i"."""
        local = timezone.localtime(moment)
        day = local.date()
        words = self._days.get(day)
        if words is None:
            words = self._days[day] = (
                dateformat.format(local, "D j M Y"),
                dateformat.format(local, "j M"),
            )
        return local, words[0], words[1], f"{local.hour:02d}:{local.minute:02d}"

    def full(self, moment: datetime) -> str:
        """As ``date:'D j M Y, H:i'``."""
        _, day, _, clock = self._parts(moment)
        return f"{day}, {clock}"

    def time(self, moment: datetime) -> SafeString:
        local, day, short_day, clock = self._parts(moment)
        return format_html(
            '<time datetime="{}" title="{}">{}</time>',
            dateformat.format(local, "c"),
            f"{day}, {clock}",
            f"{short_day}, {clock}",
        )


def _csrf_input(csrf_token: str | None) -> SafeString:
    # As ``{% csrf_token %}``: nothing when the page has no token, or the request none.
    if not csrf_token or csrf_token == "NOTPROVIDED":  # noqa: S105 - Django's marker
        return mark_safe("")
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token)


def render_timeline(
    entries: Iterable[TimelineEntry], *, ticket: Any, csrf_token: str | None
) -> SafeString:
    """The timeline of ``ticket`` (``tickets.workspace.timeline.ticket_timeline``);
    ``csrf_token`` is the page's, for the split and retry forms; a lazy one is read only
    when a form shows it."""
    timeline = _Timeline(ticket, csrf_token)
    parts = [
        timeline.message(entry) if entry.kind == "message" else timeline.activity(entry)
        for entry in entries
    ]
    if not parts:
        return EMPTY
    return mark_safe("\n".join(parts))  # noqa: S308 - each part built by format_html


class _Timeline:
    """One rendering of a timeline: the ticket, the page's token and the days already
    formatted."""

    def __init__(self, ticket: Any, csrf_token: str | None) -> None:
        self.ticket = ticket
        self.csrf_token = csrf_token
        self.dates = _Dates()

    def activity(self, entry: TimelineEntry) -> SafeString:
        return format_html(
            '<p id="{}" class="activity"><span class="activity-text"><strong>{}</strong> {}</span> '
            "{}</p>",
            entry.dom_id,
            entry.actor_name,
            link_ticket_number(entry.description, entry.link_number),
            self.dates.time(entry.created_at),
        )

    def message(self, entry: TimelineEntry) -> SafeString:
        message = entry.message
        assert message is not None
        kind = message.kind
        if kind == Message.Kind.CUSTOMER:
            author: Any = message.author_customer or self.ticket.customer
        elif message.author_agent:
            author = message.author_agent.name
        else:
            author = "Switchboard"
        if kind == Message.Kind.NOTE:
            badge = mark_safe('<span class="msg-badge">Internal note</span>')
        elif message.is_automated:
            badge = mark_safe('<span class="msg-badge">Automated</span>')
        else:
            badge = mark_safe("")
        sections = [format_html('<div class="msg-body">{}</div>', linebreaksbr(entry.body))]
        if entry.quoted:
            sections.append(
                format_html(
                    '<details class="msg-quoted"><summary>Show quoted text</summary>'
                    '<div class="msg-quoted-text">{}</div></details>',
                    linebreaksbr(entry.quoted),
                )
            )
        if entry.html:
            sections.append(
                format_html(
                    '<details class="msg-html"><summary>Show the full email</summary>'
                    '<div class="email-html">{}</div></details>',
                    # Sanitized before it is stored (``Message.html``).
                    mark_safe(entry.html),  # noqa: S308
                )
            )
        if entry.attachments:
            sections.append(
                format_html(
                    '<ul class="attachments">\n    {}\n  </ul>',
                    format_html_join(
                        "\n    ", "{}", ((self._attachment(shown),) for shown in entry.attachments)
                    ),
                )
            )
        if kind == Message.Kind.REPLY:
            sections.append(self._delivery(message))
        elif (
            kind == Message.Kind.CUSTOMER
            and message.threading_reason
            and message.threading_reason != Message.ThreadingReason.NEW_CONVERSATION
        ):
            sections.append(
                format_html(
                    '<footer class="msg-foot threading">{}</footer>',
                    message.get_threading_reason_display(),
                )
            )
        return format_html(
            '<article id="{dom_id}" class="msg msg--{kind}{automated}{failed}">\n'
            '  <header class="msg-head">\n'
            '    <span class="msg-author">{author}</span>\n'
            "    {badge}\n"
            "    {time}\n"
            "    {actions}\n"
            "  </header>\n"
            "  {sections}\n"
            "</article>",
            dom_id=entry.dom_id,
            kind=kind,
            automated=" msg--automated" if message.is_automated else "",
            failed=" msg--failed" if message.delivery_status == Status.FAILED else "",
            author=author,
            badge=badge,
            time=self.dates.time(message.created_at),
            actions=self._actions(entry, message),
            sections=mark_safe("\n  ".join(sections)),  # noqa: S308 - each built by format_html
        )

    def _actions(self, entry: TimelineEntry, message: Message) -> SafeString:
        if not (entry.original_url or entry.can_split):
            return mark_safe("")
        actions = []
        if entry.original_url:
            actions.append(
                format_html(
                    '<a class="msg-action" href="{}" download>Download original (.eml)</a>',
                    entry.original_url,
                )
            )
        if entry.can_split:
            url = reverse("tickets:message-split", args=[self.ticket.number, message.pk])
            actions.append(
                format_html(
                    '<form method="post" action="{url}" hx-post="{url}" hx-swap="none" '
                    'hx-confirm="Move this message to a new ticket of the same customer?">\n'
                    '        {csrf}<button type="submit" class="link-button msg-action">'
                    "Split into new ticket</button>\n"
                    "      </form>",
                    url=url,
                    csrf=_csrf_input(self.csrf_token),
                )
            )
        return format_html(
            '<span class="msg-actions">\n      {}\n    </span>',
            mark_safe("\n      ".join(actions)),  # noqa: S308 - each built by format_html
        )

    @staticmethod
    def _attachment(shown: ShownAttachment) -> SafeString:
        if shown.is_image:
            return format_html(
                '<li><a class="attachment-image" href="{url}" target="_blank" rel="noopener">'
                '<img src="{url}" alt="{name}" loading="lazy"></a></li>',
                url=shown.url,
                name=shown.attachment.name,
            )
        return format_html(
            '<li><a class="attachment-file" href="{}">{}<span>{}</span>'
            '<span class="muted">{}</span></a></li>',
            shown.url,
            _ATTACHMENT_ICON,
            shown.attachment.name,
            filesizeformat(shown.attachment.size),
        )

    def _delivery(self, message: Message) -> SafeString:
        """The footer of a reply: how far its delivery got, and a retry when it failed."""
        status = message.delivery_status
        if message.delivery_updated_at:
            title = format_html(
                ' title="{} {}"',
                message.get_delivery_status_display(),
                self.dates.full(message.delivery_updated_at),
            )
        else:
            title = mark_safe("")
        if status == Status.QUEUED:
            state = format_html(
                "{}\n      {}",
                _QUEUED_ICON,
                f"Retrying: {message.delivery_error}" if message.delivery_error else "Sending…",
            )
        elif status == Status.SENT:
            state = format_html("{} Sent", _SENT_ICON)
        elif status in (Status.DELIVERED, Status.READ):
            state = format_html("{} {}", _DELIVERED_ICON, message.get_delivery_status_display())
        elif status == Status.FAILED:
            url = reverse("tickets:message-retry", args=[self.ticket.number, message.pk])
            state = format_html(
                "{icon}\n"
                "      <span>Failed: {error}</span>\n"
                '      <form class="retry-form" method="post" action="{url}" hx-post="{url}" '
                'hx-swap="none" hx-disabled-elt="find button">\n'
                '        {csrf}<button type="submit" class="retry-button">Retry</button>\n'
                "      </form>",
                icon=_FAILED_ICON,
                error=message.delivery_error or "the channel gave no reason",
                url=url,
                csrf=_csrf_input(self.csrf_token),
            )
        else:
            state = mark_safe("")
        return format_html(
            '<footer class="msg-foot delivery delivery--{}"{}>\n      {}\n  </footer>',
            status or "none",
            title,
            state,
        )
