"""Settings pages for SLA policies and business hours (admins only). Thin: a form reads the
request, a service validates and saves, a template renders."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from automation.models import WEEKDAYS, BusinessHours, SlaPolicy
from automation.sla import services
from automation.sla.forms import BusinessHoursForm, SlaPolicyForm
from automation.web import form_page, require_admin

CONFLICT = 409


def _require_admin(request: HttpRequest) -> None:
    require_admin(request, "Only admins can change SLA policies and business hours.")


# --- SLA policies ------------------------------------------------------------------------------


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    policies = SlaPolicy.objects.select_related("business_hours", "escalate_to_team")
    return render(
        request, "settings/sla/policy_list.html", {"section": "sla", "policies": policies}
    )


def _policy_form(request: HttpRequest, policy: SlaPolicy, *, created: bool) -> HttpResponse:
    form = SlaPolicyForm(request.POST or None, instance=policy)

    def save() -> str:
        saved = services.save_sla_policy(form.instance)
        return f"Saved SLA policy “{saved.name}”."

    return form_page(
        request,
        form,
        save=save,
        success_url="settings:sla-policies",
        template="settings/sla/policy_edit.html",
        context={"section": "sla", "policy": policy, "created": created},
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_create(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return _policy_form(request, SlaPolicy(), created=True)


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    _require_admin(request)
    return _policy_form(request, get_object_or_404(SlaPolicy, pk=policy_id), created=False)


@login_required
@require_POST
def policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    _require_admin(request)
    policy = get_object_or_404(SlaPolicy, pk=policy_id)
    services.delete_sla_policy(policy)
    messages.success(request, f"Deleted SLA policy “{policy.name}”.")
    return redirect("settings:sla-policies")


# --- Business hours ----------------------------------------------------------------------------


@login_required
def hours_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    calendars = BusinessHours.objects.prefetch_related("holidays", "sla_policies")
    rows = [
        {
            "hours": hours,
            "days": [(day.title()[:3], hours.weekly_hours.get(day, [])) for day in WEEKDAYS],
        }
        for hours in calendars
    ]
    return render(
        request, "settings/sla/hours_list.html", {"section": "business-hours", "rows": rows}
    )


def _hours_form(request: HttpRequest, hours: BusinessHours, *, created: bool) -> HttpResponse:
    form = BusinessHoursForm(request.POST or None, instance=hours)

    def save() -> str:
        saved = services.save_business_hours(form.instance, form.cleaned_data["holidays_text"])
        return f"Saved business hours “{saved.name}”."

    return form_page(
        request,
        form,
        save=save,
        success_url="settings:business-hours",
        template="settings/sla/hours_edit.html",
        context={
            "section": "business-hours",
            "hours": hours,
            "created": created,
            "time_zones": sorted(zoneinfo.available_timezones()),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def hours_create(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return _hours_form(request, BusinessHours(), created=True)


@login_required
@require_http_methods(["GET", "POST"])
def hours_edit(request: HttpRequest, hours_id: int) -> HttpResponse:
    _require_admin(request)
    return _hours_form(request, get_object_or_404(BusinessHours, pk=hours_id), created=False)


@login_required
@require_POST
def hours_delete(request: HttpRequest, hours_id: int) -> HttpResponse:
    _require_admin(request)
    hours = get_object_or_404(BusinessHours, pk=hours_id)
    try:
        services.delete_business_hours(hours)
    except services.SlaConfigError as error:
        messages.error(request, str(error))
        return redirect("settings:business-hours-edit", hours_id=hours.pk)
    messages.success(request, f"Deleted business hours “{hours.name}”.")
    return redirect("settings:business-hours")
