"""The Django admin for tickets, messages, attachments, tags and the audit trail.

The admin is not a second way to change a ticket: the fields that have a service (status,
priority, assignee, team, tags, linked orders) are saved by calling ``tickets.services`` once
per changed field, with the signed-in user as the actor, so every change leaves its
``TicketActivity`` row and its event. Everything else on a ticket is read-only here. Messages,
attachments and activities are written only by the services and are read-only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from helpdesk.admin import (
    AdminRoleMixin,
    HelpdeskAdmin,
    ReadOnlyAdmin,
    ReadOnlyAdminMixin,
    actor_of,
)
from helpdesk.models import User
from tickets import services
from tickets.models import Attachment, Message, Tag, Ticket, TicketActivity

# One request runs the services once per selected ticket; "select all" on 100,000 tickets
# would hold a worker for minutes, so bigger batches belong in a background job.
MAX_TICKETS_PER_ACTION = 500
TEXT_EXCERPT_LENGTH = 120


def ticket_number_in(search_term: str) -> int | None:
    """The ticket number a search means (``1042`` or ``#1042``), or None for words."""
    digits = search_term.strip().removeprefix("#")
    # isascii: str.isdigit() also accepts characters such as "²" that int() refuses.
    return int(digits) if digits.isascii() and digits.isdigit() else None


def excerpt(text: str, length: int = TEXT_EXCERPT_LENGTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def pretty_json(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


# --- Tags ----------------------------------------------------------------------------------


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ("name", "color")

    def clean_name(self) -> str:
        try:
            names = services.normalize_tag_names([self.cleaned_data.get("name", "")])
        except services.TicketError as error:
            raise forms.ValidationError(str(error)) from None
        if not names:
            raise forms.ValidationError("Enter a tag name.")
        return names[0]

    def clean_color(self) -> str:
        color = str(self.cleaned_data.get("color") or "").strip().lower()
        if color and not (
            len(color) == 7
            and color.startswith("#")
            and all(c in "0123456789abcdef" for c in color[1:])
        ):
            raise forms.ValidationError("Enter a colour as #rrggbb, e.g. #3b82f6.")
        return color


@admin.register(Tag)
class TagAdmin(HelpdeskAdmin):
    form = TagForm
    list_display = ("name", "color", "created_at")
    search_fields = ("name",)
    readonly_fields = ("created_at",)


# --- Tickets -------------------------------------------------------------------------------


class MessageInline(ReadOnlyAdminMixin, AdminRoleMixin, admin.TabularInline):
    model = Message
    fields = ("created_at", "kind", "author", "text_excerpt", "delivery_status")
    readonly_fields = fields
    show_change_link = True
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("author_agent", "author_customer")

    @admin.display(description="Author")
    def author(self, message: Message) -> str:
        return str(message.author_agent or message.author_customer or "—")

    @admin.display(description="Text")
    def text_excerpt(self, message: Message) -> str:
        return excerpt(message.text)


class TicketActivityInline(ReadOnlyAdminMixin, AdminRoleMixin, admin.TabularInline):
    model = TicketActivity
    fields = ("created_at", "verb", "actor", "data")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[TicketActivity]:
        return super().get_queryset(request).select_related("actor")


class TicketForm(forms.ModelForm):
    class Meta:
        model = Ticket
        fields = ("status", "priority", "assignee", "team", "tags", "orders")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "assignee" in self.fields:
            # Deactivated agents cannot take tickets (assign_ticket refuses them).
            self.fields["assignee"].queryset = User.objects.filter(is_active=True)  # type: ignore[attr-defined]


# Shown on the ticket page, never edited there: the services own them.
TICKET_IDENTITY_FIELDS = ("number", "subject", "customer", "channel", "channel_account")
TICKET_TIMELINE_FIELDS = (
    "created_at",
    "updated_at",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "first_responded_at",
    "last_customer_message_at",
    "last_agent_message_at",
    "solved_at",
    "closed_at",
    "merged_into",
    "follow_up_of",
)


@admin.register(Ticket)
class TicketAdmin(HelpdeskAdmin):
    form = TicketForm
    refused_errors = (services.TicketError,)
    list_display = (
        "number",
        "subject",
        "customer",
        "status",
        "priority",
        "channel",
        "assignee",
        "team",
        "updated_at",
    )
    list_display_links = ("number", "subject")
    list_select_related = ("customer", "assignee", "team")
    list_filter = ("status", "priority", "channel", "team", "assignee", "created_at")
    search_fields = ("subject", "customer__name", "customer__email")
    search_help_text = (
        "A ticket number (1042 or #1042), or words of the subject, customer name or email."
    )
    show_full_result_count = False
    autocomplete_fields = ("assignee", "tags", "orders")
    fieldsets = (
        (None, {"fields": TICKET_IDENTITY_FIELDS}),
        ("Handling", {"fields": ("status", "priority", "assignee", "team", "tags", "orders")}),
        (
            "Timeline",
            {
                "classes": ("collapse",),
                "fields": TICKET_TIMELINE_FIELDS,
            },
        ),
    )
    readonly_fields = (*TICKET_IDENTITY_FIELDS, *TICKET_TIMELINE_FIELDS)
    inlines = (MessageInline, TicketActivityInline)
    actions = ("mark_open", "mark_pending", "mark_solved", "close", "unassign")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tickets open from customer messages (or the agent inbox), never empty from here.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The audit trail and the conversation go with a ticket; tickets are closed instead.
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Ticket], search_term: str
    ) -> tuple[QuerySet[Ticket], bool]:
        number = ticket_number_in(search_term)
        if number is not None:
            # The unique index answers a number at once; matching digits inside subjects
            # too would scan the whole table for the most common search.
            return queryset.filter(number=number), False
        return super().get_search_results(request, queryset, search_term)

    # -- Saving through the services --

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        changed = set(form.changed_data)
        actor = actor_of(request)
        # Team and assignee before status: closing last keeps the other changes possible.
        if "team" in changed:
            self.call_service(request, services.assign_team, obj, obj.team, actor=actor)
        if "assignee" in changed:
            if obj.assignee is None:
                self.call_service(request, services.unassign_ticket, obj, actor=actor)
            else:
                self.call_service(request, services.assign_ticket, obj, obj.assignee, actor=actor)
        if "priority" in changed:
            self.call_service(request, services.change_priority, obj, obj.priority, actor=actor)
        if "status" in changed:
            self.call_service(request, services.change_status, obj, obj.status, actor=actor)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Not super(): form.save_m2m() would write the tags and orders around the services.
        # The inlines are read-only; saving their formsets writes nothing and records that.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        ticket: Ticket = form.instance
        actor = actor_of(request)
        if "tags" in form.changed_data:
            wanted = {tag.name for tag in form.cleaned_data["tags"]}
            present = set(ticket.tags.values_list("name", flat=True))
            if wanted - present:
                self.call_service(
                    request, services.tag_ticket, ticket, sorted(wanted - present), actor=actor
                )
            if present - wanted:
                self.call_service(
                    request, services.untag_ticket, ticket, sorted(present - wanted), actor=actor
                )
        if "orders" in form.changed_data:
            wanted_orders = set(form.cleaned_data["orders"])
            present_orders = set(ticket.orders.all())
            for order in sorted(wanted_orders - present_orders, key=lambda o: o.pk):
                self.call_service(request, services.link_order, ticket, order, actor=actor)
            for order in sorted(present_orders - wanted_orders, key=lambda o: o.pk):
                self.call_service(request, services.unlink_order, ticket, order, actor=actor)

    # -- Bulk actions, one service call per ticket --

    def _each_ticket(
        self,
        request: HttpRequest,
        queryset: QuerySet[Ticket],
        change: Callable[[Ticket, User], Any],
        done: str,
    ) -> None:
        count = queryset.count()
        if count > MAX_TICKETS_PER_ACTION:
            self.message_user(
                request,
                f"Select at most {MAX_TICKETS_PER_ACTION} tickets at once ({count} selected).",
                messages.ERROR,
            )
            return
        actor = actor_of(request)
        succeeded = 0
        for ticket in queryset.order_by("pk"):
            try:
                change(ticket, actor)
            except services.TicketError as error:
                self.message_user(request, f"#{ticket.number}: {error}", messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, f"{succeeded} ticket(s) {done}.", messages.SUCCESS)

    def _status_action(self, request: HttpRequest, queryset: QuerySet[Ticket], status: str) -> None:
        label = Ticket.Status(status).label.lower()
        self._each_ticket(
            request,
            queryset,
            lambda ticket, actor: services.change_status(ticket, status, actor=actor),
            f"marked {label}",
        )

    @admin.action(description="Mark selected tickets open", permissions=["change"])
    def mark_open(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._status_action(request, queryset, Ticket.Status.OPEN)

    @admin.action(description="Mark selected tickets pending", permissions=["change"])
    def mark_pending(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._status_action(request, queryset, Ticket.Status.PENDING)

    @admin.action(description="Mark selected tickets solved", permissions=["change"])
    def mark_solved(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._status_action(request, queryset, Ticket.Status.SOLVED)

    @admin.action(description="Close selected tickets", permissions=["change"])
    def close(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._status_action(request, queryset, Ticket.Status.CLOSED)

    @admin.action(description="Unassign selected tickets", permissions=["change"])
    def unassign(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._each_ticket(
            request,
            queryset,
            lambda ticket, actor: services.unassign_ticket(ticket, actor=actor),
            "unassigned",
        )


# --- Messages, attachments and the audit trail ----------------------------------------------


class AttachmentInline(ReadOnlyAdminMixin, AdminRoleMixin, admin.TabularInline):
    model = Attachment
    fields = ("name", "content_type", "size", "content_id", "created_at")
    readonly_fields = fields
    show_change_link = True
    extra = 0


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "ticket",
        "kind",
        "direction",
        "author",
        "channel_account",
        "threading_reason",
        "is_automated",
        "delivery_status",
        "delivery_attempts",
        "next_delivery_at",
        "created_at",
    )
    list_select_related = ("ticket", "author_agent", "author_customer", "channel_account")
    list_filter = (
        "kind",
        "direction",
        "delivery_status",
        "threading_reason",
        "is_automated",
        "channel_account",
        "created_at",
    )
    # An exact lookup, not iexact: provider ids are case-sensitive and the index serves it.
    search_fields = ("provider_message_id__exact",)
    search_help_text = "A ticket number (1042 or #1042) or a provider's message id."
    show_full_result_count = False
    fields = (
        "ticket",
        "kind",
        "direction",
        "author_agent",
        "author_customer",
        "channel_account",
        "text",
        "html",
        "provider_message_id",
        "threading_reason",
        "is_automated",
        "delivery_status",
        "delivery_error",
        "delivery_updated_at",
        "delivery_attempts",
        "next_delivery_at",
        "created_at",
    )
    readonly_fields = fields
    inlines = (AttachmentInline,)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Message], search_term: str
    ) -> tuple[QuerySet[Message], bool]:
        number = ticket_number_in(search_term)
        if number is not None:
            return queryset.filter(ticket__number=number), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Author")
    def author(self, message: Message) -> str:
        return str(message.author_agent or message.author_customer or "—")


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("name", "content_type", "size", "ticket_number", "created_at")
    list_select_related = ("message__ticket",)
    search_fields = ("name",)
    search_help_text = "A ticket number (1042 or #1042) or a file name."
    list_filter = ("created_at",)
    show_full_result_count = False
    fields = ("message", "name", "content_type", "size", "content_id", "file", "created_at")
    readonly_fields = fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Attachment], search_term: str
    ) -> tuple[QuerySet[Attachment], bool]:
        number = ticket_number_in(search_term)
        if number is not None:
            return queryset.filter(message__ticket__number=number), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Ticket", ordering="message__ticket__number")
    def ticket_number(self, attachment: Attachment) -> str:
        return f"#{attachment.message.ticket.number}"


@admin.register(TicketActivity)
class TicketActivityAdmin(ReadOnlyAdmin):
    """The audit trail: what changed on which ticket, when and by whom. Nobody edits it."""

    list_display = ("created_at", "ticket", "verb", "actor")
    list_select_related = ("ticket", "actor")
    list_filter = ("verb", "actor", "created_at")
    # Only a ticket number is searched (see get_search_results); the field here just turns
    # the search box on.
    search_fields = ("ticket__number",)
    search_help_text = "A ticket number (1042 or #1042)."
    show_full_result_count = False
    fields = ("ticket", "verb", "actor", "data_display", "created_at")
    readonly_fields = fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[TicketActivity], search_term: str
    ) -> tuple[QuerySet[TicketActivity], bool]:
        number = ticket_number_in(search_term)
        if number is not None:
            return queryset.filter(ticket__number=number), False
        # Only numbers name a ticket here; anything else matches nothing rather than
        # failing on the integer column.
        return queryset.none(), False

    @admin.display(description="Data")
    def data_display(self, activity: TicketActivity) -> str:
        return pretty_json(activity.data)
