"""Settings pages: macros (agents: their own; admins: the shared ones too) and
auto-acknowledgements (admins). Thin views: a form reads, a service writes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from automation.macros import services
from automation.macros.forms import AutoAcknowledgementForm, MacroForm
from automation.models import AutoAcknowledgement, Macro
from channels_inbox.models import ChannelAccount
from helpdesk.models import User

BAD_REQUEST = 400


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _admin(request: HttpRequest) -> User:
    user = _user(request)
    if not user.is_admin:
        raise PermissionDenied("Only admins can change auto-acknowledgements.")
    return user


def _add_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


# --- Macros --------------------------------------------------------------------------------


@login_required
def macro_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    macros = services.visible_macros(user).order_by("name", "id")
    return render(
        request,
        "settings/macros/list.html",
        {
            "section": "macros",
            "shared": [macro for macro in macros if macro.owner_id is None],
            "personal": [macro for macro in macros if macro.owner_id is not None],
            "can_manage_shared": user.is_admin,
        },
    )


def _manageable(request: HttpRequest, macro_id: int) -> Macro:
    """A macro the user may change: 404 for another agent's, 403 for a shared one when the
    user is not an admin."""
    user = _user(request)
    macro = get_object_or_404(
        Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user)), pk=macro_id
    )
    if not services.can_manage_macro(user, macro):
        raise PermissionDenied("Only admins can change shared macros.")
    return macro


def _macro_form(request: HttpRequest, macro: Macro, *, created: bool) -> HttpResponse:
    user = _user(request)
    form = MacroForm(request.POST or None, instance=macro, user=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            instance = form.save(commit=False)
            if created:
                scope = form.cleaned_data.get("scope", MacroForm.PERSONAL)
                instance.owner = None if scope == MacroForm.SHARED else user
            try:
                services.save_macro(instance)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"Saved the macro “{instance.name}”.")
                return redirect("settings:macros")
        status = BAD_REQUEST
    return render(
        request,
        "settings/macros/edit.html",
        {"section": "macros", "form": form, "macro": macro, "created": created},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def macro_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    # An agent's new macro is theirs; an admin's follows the form's scope.
    return _macro_form(request, Macro(owner=None if user.is_admin else user), created=True)


@login_required
@require_http_methods(["GET", "POST"])
def macro_edit(request: HttpRequest, macro_id: int) -> HttpResponse:
    return _macro_form(request, _manageable(request, macro_id), created=False)


@login_required
@require_POST
def macro_delete(request: HttpRequest, macro_id: int) -> HttpResponse:
    macro = _manageable(request, macro_id)
    services.delete_macro(macro)
    messages.success(request, f"Deleted the macro “{macro.name}”.")
    return redirect("settings:macros")


# --- Auto-acknowledgements -----------------------------------------------------------------


@login_required
def auto_acknowledgement_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    accounts = list(ChannelAccount.objects.order_by("kind", "name"))
    acks = {
        ack.channel_account_id: ack
        for ack in AutoAcknowledgement.objects.select_related("business_hours")
    }
    return render(
        request,
        "settings/autoack/list.html",
        {
            "section": "auto-acknowledgements",
            "rows": [(account, acks.get(account.pk)) for account in accounts],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def auto_acknowledgement_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    _admin(request)
    account = get_object_or_404(ChannelAccount, pk=account_id)
    try:
        ack = account.auto_acknowledgement
    except AutoAcknowledgement.DoesNotExist:
        ack = AutoAcknowledgement(channel_account=account)
    form = AutoAcknowledgementForm(request.POST or None, instance=ack)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.save_auto_acknowledgement(form.save(commit=False))
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"Saved the acknowledgement of {account.name}.")
                return redirect("settings:auto-acknowledgements")
        status = BAD_REQUEST
    return render(
        request,
        "settings/autoack/edit.html",
        {"section": "auto-acknowledgements", "form": form, "account": account, "ack": ack},
        status=status,
    )
