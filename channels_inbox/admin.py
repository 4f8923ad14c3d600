"""The Django admin for connected inboxes and the raw deliveries they receive.

Accounts are created and changed through ``channels_inbox.services``. Credentials are
write-only: the form never shows the stored secrets, only the names of the keys that are
set, and a blank "new credentials" field leaves them unchanged. Options are not secret: the
form shows and edits them as JSON, checked for the account's kind. Saving an active Telegram
account points its bot at the webhook (``telegram.services.set_webhook``) and says how that
went.

SMS opt-outs are listed and lifted (deleted) here, never added or edited: customers write
them. WhatsApp templates are kept through ``whatsapp.templates``.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from channels_inbox import services
from channels_inbox.adapters.base import ChannelError
from channels_inbox.models import ChannelAccount, InboundEvent, MailboxCursor
from channels_inbox.sms.models import OptOut
from channels_inbox.sms.services import lift_opt_out
from channels_inbox.telegram.services import set_webhook
from channels_inbox.whatsapp import templates
from channels_inbox.whatsapp.models import WhatsAppTemplate
from helpdesk.admin import (
    HelpdeskAdmin,
    ReadOnlyAdmin,
    actor_of,
    changed_fields,
    copy_saved_row,
    is_admin,
)
from helpdesk.channel_kinds import ChannelKind

# Enough for any provider's payload an admin reads; more would make the page unusable.
PAYLOAD_DISPLAY_CHARACTERS = 100_000
ACCOUNT_FIELDS = ("kind", "name", "slug", "address", "default_team", "is_active")
EDITABLE_FIELDS = (*ACCOUNT_FIELDS, "options")


class WriteOnlyTextarea(forms.Textarea):
    """Like a password input: what was typed is never sent back to the browser, not even
    when the form is shown again with an error."""

    def format_value(self, value: Any) -> None:
        return None


def parse_credentials(text: str) -> dict[str, str]:
    """A JSON object of string values, e.g. ``{"access_token": "...", "app_secret": "..."}``.
    Error messages name a position or a key, never a value: it may be a secret."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise forms.ValidationError(
            f"Not valid JSON (line {error.lineno}, column {error.colno})."
        ) from None
    except RecursionError:
        raise forms.ValidationError("Not valid credentials: nested too deeply.") from None
    if not isinstance(value, dict):
        raise forms.ValidationError('Enter a JSON object, e.g. {"api_token": "..."}.')
    if not value:
        raise forms.ValidationError("Enter at least one key, or leave the field blank.")
    try:
        return services.clean_credentials(value)
    except ValidationError as error:
        raise forms.ValidationError(error.message_dict["credentials"]) from None


class ChannelAccountForm(forms.ModelForm):
    # Declared, not generated: the generated field compares against a hidden copy of the
    # initial value (the model default is a callable), so clearing the box would not count
    # as a change.
    options = forms.JSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=(
            'Settings that are not secret, as a JSON object, e.g. {"smtp_host": '
            '"smtp.shop.test", "smtp_port": 587}. Which keys each channel takes is in the '
            "README. Secrets go in the credentials."
        ),
    )
    new_credentials = forms.CharField(
        required=False,
        strip=True,
        widget=WriteOnlyTextarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        help_text=(
            'A JSON object of strings, e.g. {"access_token": "…", "app_secret": "…"}. It '
            "replaces every stored credential. Leave blank to keep the current ones."
        ),
    )

    class Meta:
        model = ChannelAccount
        # Not "credentials": the stored secrets never reach the form.
        fields = EDITABLE_FIELDS

    def clean_new_credentials(self) -> dict[str, str] | None:
        text = self.cleaned_data.get("new_credentials", "")
        return parse_credentials(text) if text else None

    def clean(self) -> dict[str, Any]:
        super().clean()
        kind, address = self.cleaned_data.get("kind"), self.cleaned_data.get("address")
        if kind and address:
            try:
                self.cleaned_data["address"] = services.normalize_account_address(kind, address)
            except ValidationError as error:
                self.add_error(None, error)
        if kind and "options" in self.cleaned_data:
            # A blank box is no options, like "{}".
            options = self.cleaned_data["options"]
            try:
                self.cleaned_data["options"] = services.clean_options(
                    kind, {} if options is None else options
                )
            except ValidationError as error:
                self.add_error("options", error.message_dict["options"])
        return self.cleaned_data


@admin.register(ChannelAccount)
class ChannelAccountAdmin(HelpdeskAdmin):
    form = ChannelAccountForm
    list_display = ("name", "kind", "slug", "address", "default_team", "is_active")
    list_select_related = ("default_team",)
    list_filter = ("kind", "is_active", "default_team")
    search_fields = ("name", "slug", "address")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ACCOUNT_FIELDS}),
        ("Options", {"fields": ("options",)}),
        ("Credentials", {"fields": ("stored_credential_keys", "new_credentials")}),
        ("Record", {"fields": ("webhook_url", "created_at", "updated_at")}),
    )
    readonly_fields = ("stored_credential_keys", "webhook_url", "created_at", "updated_at")
    actions = ("deactivate",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Tickets, messages and stored deliveries point at the account: it is deactivated.
        return False

    @admin.display(description="Stored credentials")
    def stored_credential_keys(self, account: ChannelAccount) -> str:
        # Names only: which secrets are set is useful, their values never leave the server.
        keys = sorted((account.credentials or {}).keys())
        return ", ".join(keys) if keys else "None"

    def save_model(
        self, request: HttpRequest, obj: ChannelAccount, form: Any, change: bool
    ) -> None:
        new_credentials = form.cleaned_data.get("new_credentials")
        if change:
            changes = changed_fields(form, EDITABLE_FIELDS)
            if new_credentials is not None:
                changes["credentials"] = new_credentials
            updated = self.call_service(
                request, services.update_channel_account, obj, actor=actor_of(request), **changes
            )
            if updated is not None:
                self._point_telegram_webhook(request, updated)
            return
        created = self.call_service(
            request,
            services.create_channel_account,
            kind=obj.kind,
            name=obj.name,
            slug=obj.slug,
            address=obj.address,
            credentials=new_credentials or {},
            options=form.cleaned_data.get("options") or {},
            default_team=obj.default_team,
            is_active=obj.is_active,
            actor=actor_of(request),
        )
        if created is not None:
            copy_saved_row(obj, created)
            self._point_telegram_webhook(request, created)

    def _point_telegram_webhook(self, request: HttpRequest, account: ChannelAccount) -> None:
        """The account is saved either way: a bot Telegram refuses (a wrong token) or cannot
        reach is reported, and saving again (or ``manage.py telegram_set_webhook``) retries."""
        if account.kind != ChannelKind.TELEGRAM or not account.is_active:
            return
        try:
            url = set_webhook(account)
        except ChannelError as error:
            self.message_user(
                request, f"Saved, but Telegram's webhook was not set: {error}", messages.ERROR
            )
            return
        self.message_user(request, f"Telegram now posts the bot's updates to {url}.")

    @admin.action(description="Deactivate selected accounts", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[ChannelAccount]) -> None:
        actor = actor_of(request)
        accounts = list(queryset.filter(is_active=True).order_by("pk"))
        for account in accounts:
            services.deactivate_channel_account(account, actor=actor)
        self.message_user(request, f"Deactivated {len(accounts)} account(s).", messages.SUCCESS)


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyAdmin):
    """Deliveries as the provider sent them, kept for debugging and replay; never edited."""

    list_display = (
        "id",
        "channel_account",
        "external_id",
        "status",
        "attempts",
        "next_attempt_at",
        "received_at",
        "processed_at",
    )
    list_select_related = ("channel_account",)
    list_filter = ("status", "channel_account__kind", "channel_account", "received_at")
    # Exact: the unique (channel_account, external_id) index answers it.
    search_fields = ("external_id__exact",)
    search_help_text = "The provider's delivery id."
    show_full_result_count = False
    fields = (
        "channel_account",
        "external_id",
        "status",
        "attempts",
        "next_attempt_at",
        "error",
        "received_at",
        "processed_at",
        "headers_display",
        "payload_display",
    )
    readonly_fields = fields
    actions = ("process_again",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundEvent]:
        queryset = super().get_queryset(request)
        url_name = request.resolver_match.url_name if request.resolver_match else ""
        if (url_name or "").endswith("_changelist"):
            # The list never shows the bodies; they can be megabytes of MIME each.
            queryset = queryset.defer("payload", "headers")
        return queryset

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        # The rows stay read-only; running one through the pipeline again is an admin's call.
        return is_admin(request)

    @admin.action(description="Process again", permissions=["reprocess"])
    def process_again(self, request: HttpRequest, queryset: QuerySet[InboundEvent]) -> None:
        """The same reset as ``manage.py reprocess_inbound``; a worker then processes each
        event, so a slow parse never holds this request."""
        selected = list(queryset.order_by("pk").values_list("pk", flat=True))
        requeued = services.requeue_inbound_events(selected, actor=actor_of(request))
        self.message_user(
            request, f"Queued {len(requeued)} event(s) to be processed again.", messages.SUCCESS
        )
        busy = sorted(set(selected) - set(requeued))
        if busy:
            self.message_user(
                request,
                "Left alone, a worker is processing them: " + ", ".join(map(str, busy)) + ".",
                messages.WARNING,
            )

    @admin.display(description="Headers")
    def headers_display(self, event: InboundEvent) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(event.headers, indent=2, sort_keys=True, ensure_ascii=False)
        )

    @admin.display(description="Payload")
    def payload_display(self, event: InboundEvent) -> str:
        # Bytes as received; undecodable bytes show as U+FFFD rather than hiding the rest.
        payload = bytes(event.payload).decode("utf-8", errors="replace")
        # Form data, MIME or broken JSON is shown as received.
        with contextlib.suppress(ValueError, RecursionError):
            payload = json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
        if len(payload) > PAYLOAD_DISPLAY_CHARACTERS:
            payload = payload[:PAYLOAD_DISPLAY_CHARACTERS] + f"\n… ({len(payload):,} characters)"
        return format_html(
            '<pre style="white-space: pre-wrap; max-height: 40em; overflow: auto">{}</pre>',
            payload,
        )


@admin.register(MailboxCursor)
class MailboxCursorAdmin(ReadOnlyAdmin):
    """How far the IMAP poller has read each mailbox, and the last error it met there."""

    list_display = (
        "channel_account",
        "mailbox",
        "uidvalidity",
        "last_uid",
        "last_polled_at",
        "last_error",
    )
    list_select_related = ("channel_account",)
    list_filter = ("channel_account",)
    fields = (
        "channel_account",
        "mailbox",
        "uidvalidity",
        "last_uid",
        "lease_until",
        "last_polled_at",
        "last_error",
    )
    readonly_fields = fields


@admin.register(OptOut)
class OptOutAdmin(HelpdeskAdmin):
    """Numbers that sent STOP to an SMS account. Deleting a row lifts the opt-out (for a
    customer who asked for messages again another way); the number's own START does too."""

    list_display = ("address", "channel_account", "keyword", "opted_out_at")
    list_select_related = ("channel_account",)
    list_filter = ("channel_account",)
    search_fields = ("address",)
    search_help_text = "The phone number, e.g. +15551234567."
    show_full_result_count = False
    fields = ("channel_account", "address", "keyword", "opted_out_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request)

    def delete_model(self, request: HttpRequest, obj: OptOut) -> None:
        lift_opt_out(obj, actor=actor_of(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[OptOut]) -> None:
        actor = actor_of(request)
        for opt_out in queryset.order_by("pk"):
            lift_opt_out(opt_out, actor=actor)


class WhatsAppTemplateForm(forms.ModelForm):
    class Meta:
        model = WhatsAppTemplate
        fields = ("channel_account", "name", "language", "category", "body")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "channel_account" in self.fields:
            field = self.fields["channel_account"]
            field.queryset = ChannelAccount.objects.filter(  # type: ignore[attr-defined]
                kind=ChannelKind.WHATSAPP
            )


TEMPLATE_FIELDS = ("name", "language", "category", "body")


@admin.register(WhatsAppTemplate)
class WhatsAppTemplateAdmin(HelpdeskAdmin):
    """The templates Meta approved for each WhatsApp account, copied here as approved: what
    agents may send once a customer's 24-hour window has closed."""

    form = WhatsAppTemplateForm
    list_display = ("name", "language", "category", "channel_account", "updated_at")
    list_select_related = ("channel_account",)
    list_filter = ("channel_account", "category", "language")
    search_fields = ("name",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A template belongs to the account Meta approved it for.
        return ("channel_account",) if obj is not None else ()

    def save_model(
        self, request: HttpRequest, obj: WhatsAppTemplate, form: Any, change: bool
    ) -> None:
        if change:
            changes = changed_fields(form, TEMPLATE_FIELDS)
            self.call_service(
                request,
                templates.update_whatsapp_template,
                obj,
                actor=actor_of(request),
                **changes,
            )
            return
        created = self.call_service(
            request,
            templates.create_whatsapp_template,
            obj.channel_account,
            name=obj.name,
            language=obj.language,
            category=obj.category,
            body=obj.body,
            actor=actor_of(request),
        )
        if created is not None:
            copy_saved_row(obj, created)

    def delete_model(self, request: HttpRequest, obj: WhatsAppTemplate) -> None:
        templates.delete_whatsapp_template(obj, actor=actor_of(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WhatsAppTemplate]) -> None:
        actor = actor_of(request)
        for template in queryset.order_by("pk"):
            templates.delete_whatsapp_template(template, actor=actor)
