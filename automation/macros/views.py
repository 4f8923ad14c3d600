"""Settings pages: macros (agents: their own; admins: the shared ones too) and
auto-acknowledgements (admins). Thin views: a form reads, a service writes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from automation.macros import services
from automation.macros.forms import AutoAcknowledgementForm, MacroForm
from automation.models import AutoAcknowledgement, Macro
from automation.web import acting_user, form_page, require_admin
from channels_inbox.models import ChannelAccount


def _admin(request: HttpRequest) -> None:
    require_admin(request, "Only admins can change auto-acknowledgements.")


# --- Macros --------------------------------------------------------------------------------


@login_required
def macro_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
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
    user = acting_user(request)
    macro = get_object_or_404(
        Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user)), pk=macro_id
    )
    if not services.can_manage_macro(user, macro):
        raise PermissionDenied("Only admins can change shared macros.")
    return macro


def _macro_form(request: HttpRequest, macro: Macro, *, created: bool) -> HttpResponse:
    user = acting_user(request)
    form = MacroForm(request.POST or None, instance=macro, user=user)

    def save() -> str:
        instance = form.save(commit=False)
        if created:
            scope = form.cleaned_data.get("scope", MacroForm.PERSONAL)
            instance.owner = None if scope == MacroForm.SHARED else user
        services.save_macro(instance)
        return f"Saved the macro “{instance.name}”."

    return form_page(
        request,
        form,
        save=save,
        success_url="settings:macros",
        template="settings/macros/edit.html",
        context={"section": "macros", "macro": macro, "created": created},
    )


@login_required
@require_http_methods(["GET", "POST"])
def macro_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
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

    def save() -> str:
        services.save_auto_acknowledgement(form.save(commit=False))
        return f"Saved the acknowledgement of {account.name}."

    return form_page(
        request,
        form,
        save=save,
        success_url="settings:auto-acknowledgements",
        template="settings/autoack/edit.html",
        context={"section": "auto-acknowledgements", "account": account, "ack": ack},
    )
