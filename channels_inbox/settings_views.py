"""The channel accounts settings page (/settings/channels/): what each account is, where
its provider posts, when it last heard from it; switching accounts on and off; the chat
widget's look and allowed origins; WhatsApp's approved templates.

Admins only. Every change goes through ``channels_inbox.services`` and
``channels_inbox.whatsapp.templates``, which check the values and the admin again."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.services import update_channel_account
from channels_inbox.whatsapp.models import WhatsAppTemplate
from channels_inbox.whatsapp.templates import (
    create_whatsapp_template,
    delete_whatsapp_template,
    parameter_count,
)
from helpdesk.channel_kinds import ChannelKind
from helpdesk.models import User

SECTION = "channels"
# Email arrives by SMTP/LMTP or IMAP; its webhooks are per provider (Mailgun, Postmark ...).
NO_SINGLE_WEBHOOK = frozenset({ChannelKind.EMAIL, ChannelKind.CHAT})


def admin_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "is_admin", False):
            raise PermissionDenied("Only admins can change channel accounts.")
        return view(request, *args, **kwargs)

    return wrapped


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _accounts() -> list[ChannelAccount]:
    """Every account with its latest stored delivery's time and status: two subqueries."""
    latest = InboundEvent.objects.filter(channel_account=OuterRef("pk")).order_by(
        "-received_at", "-id"
    )
    return list(
        ChannelAccount.objects.annotate(
            last_event_at=Subquery(latest.values("received_at")[:1]),
            last_event_status=Subquery(latest.values("status")[:1]),
        ).order_by("kind", "name")
    )


def _webhook_url(account: ChannelAccount) -> str:
    return "" if account.kind in NO_SINGLE_WEBHOOK else account.webhook_url


@admin_page
@require_GET
def channel_list(request: HttpRequest) -> HttpResponse:
    accounts = _accounts()
    rows = [
        {
            "account": account,
            "webhook_url": _webhook_url(account),
            "last_status_label": (
                InboundEvent.Status(account.last_event_status).label  # type: ignore[attr-defined]
                if account.last_event_status  # type: ignore[attr-defined]
                else ""
            ),
        }
        for account in accounts
    ]
    return render(request, "settings/channels/list.html", {"section": SECTION, "rows": rows})


class AccountForm(forms.Form):
    name = forms.CharField(max_length=100)


class ChatAccountForm(AccountForm):
    brand_color = forms.RegexField(
        regex=r"^#[0-9a-fA-F]{6}$",
        required=False,
        error_messages={"invalid": "Write the colour as #rrggbb, e.g. #2f5bea."},
    )
    allowed_origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line, e.g. https://shop.example.com. The widget refuses other pages.",
    )

    def clean_allowed_origins(self) -> list[str]:
        lines = self.cleaned_data["allowed_origins"].splitlines()
        return [line.strip() for line in lines if line.strip()]


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=512)
    language = forms.CharField(max_length=15)
    category = forms.ChoiceField(choices=WhatsAppTemplate.Category.choices)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=1024)


def _account_form(account: ChannelAccount, data: Any = None) -> AccountForm:
    if account.kind == ChannelKind.CHAT:
        options = account.options if isinstance(account.options, dict) else {}
        initial = {
            "name": account.name,
            "brand_color": options.get("brand_color", ""),
            "allowed_origins": "\n".join(options.get("allowed_origins") or []),
        }
        return ChatAccountForm(data, initial=initial)
    return AccountForm(data, initial={"name": account.name})


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


def _option_errors(form: forms.Form, error: ValidationError) -> None:
    """``clean_options`` names the option in its message; put it under its field."""
    for message in error.messages:
        field = next((name for name in ("brand_color", "allowed_origins") if name in message), None)
        form.add_error(field, message)


def _save_account(request: HttpRequest, account: ChannelAccount, form: AccountForm) -> bool:
    data = form.cleaned_data
    changes: dict[str, Any] = {"name": data["name"]}
    if isinstance(form, ChatAccountForm):
        options = dict(account.options) if isinstance(account.options, dict) else {}
        for key in ("brand_color", "allowed_origins"):
            options.pop(key, None)
            if data[key]:
                options[key] = data[key]
        changes["options"] = options
    try:
        update_channel_account(account, actor=_actor(request), **changes)
    except ValidationError as error:
        if "options" in changes:
            _option_errors(form, error)
        else:
            _add_errors(form, error)
        return False
    return True


def _account_page(
    request: HttpRequest,
    account: ChannelAccount,
    *,
    form: AccountForm | None = None,
    template_form: TemplateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    templates = []
    if account.kind == ChannelKind.WHATSAPP:
        templates = [
            (template, parameter_count(template))
            for template in account.whatsapp_templates.order_by("name", "language")
        ]
    context = {
        "section": SECTION,
        "account": account,
        "webhook_url": _webhook_url(account),
        "form": form or _account_form(account),
        "template_form": template_form or TemplateForm(initial={"category": "utility"}),
        "templates": templates,
    }
    return render(request, "settings/channels/account.html", context, status=status)


def _account(account_id: int) -> ChannelAccount:
    return get_object_or_404(ChannelAccount, pk=account_id)


def _to_account(account: ChannelAccount) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("settings:channel", args=[account.pk]))


@admin_page
@require_http_methods(["GET", "POST"])
def channel_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(account_id)
    if request.method == "GET":
        return _account_page(request, account)
    form = _account_form(account, request.POST)
    if form.is_valid() and _save_account(request, account, form):
        messages.success(request, f"Saved {form.cleaned_data['name']}.")
        return _to_account(account)
    return _account_page(request, _account(account_id), form=form, status=400)


@admin_page
@require_POST
def channel_active(request: HttpRequest, account_id: int) -> HttpResponse:
    """Switch an account on (``active=1``) or off (``active=0``)."""
    account = _account(account_id)
    value = request.POST.get("active")
    if value not in ("0", "1"):
        return HttpResponse("Say active=1 or active=0.", status=400)
    update_channel_account(account, actor=_actor(request), is_active=value == "1")
    state = "on" if value == "1" else "off"
    messages.success(request, f"{account.name} is {state}.")
    if request.POST.get("next") == "list":
        return HttpResponseRedirect(reverse("settings:channels"))
    return _to_account(account)


@admin_page
@require_POST
def template_create(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(account_id)
    if account.kind != ChannelKind.WHATSAPP:
        return HttpResponse("Only WhatsApp accounts have templates.", status=404)
    form = TemplateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            create_whatsapp_template(
                account,
                name=data["name"],
                language=data["language"],
                category=data["category"],
                body=data["body"],
                actor=_actor(request),
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Added the template {data['name']}.")
            return _to_account(account)
    return _account_page(request, account, template_form=form, status=400)


@admin_page
@require_POST
def template_delete(request: HttpRequest, account_id: int, template_id: int) -> HttpResponse:
    account = _account(account_id)
    template = get_object_or_404(WhatsAppTemplate, pk=template_id, channel_account=account)
    delete_whatsapp_template(template, actor=_actor(request))
    messages.success(request, f"Removed the template {template.name}.")
    return _to_account(account)
