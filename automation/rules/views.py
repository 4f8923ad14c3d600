"""The rules settings pages (admins only): the ordered list with on/off and move buttons,
and the create/edit page with the condition/action builder and the simulator.

Thin views: a form reads the request, ``automation.rules.services`` writes, a template
renders. Bad input is a 400 with the form's messages on the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from automation.models import Rule
from automation.rules import services
from automation.rules.forms import RuleForm, builder_schema
from automation.web import acting_user, admin_required

admin_only = admin_required("Only admins can change rules.")


@admin_only
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = list(Rule.objects.order_by("position", "id"))
    return render(request, "settings/rules/list.html", {"section": "rules", "rules": rules})


def _form_page(
    request: HttpRequest, form: RuleForm, rule: Rule | None, *, status: int = 200
) -> HttpResponse:
    simulation = None
    if form.is_bound and form.is_valid() and "simulate" in request.POST:
        simulation = services.simulate_rule(form.instance)
    elif not form.is_bound and rule is not None:
        simulation = services.simulate_rule(rule)
    context = {
        "section": "rules",
        "form": form,
        "rule": rule,
        "schema": builder_schema(),
        "simulation": simulation,
    }
    return render(request, "settings/rules/form.html", context, status=status)


@admin_only
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, RuleForm(initial={"conditions": {}, "actions": []}), None)
    form = RuleForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, None, status=400)
    if "simulate" in request.POST:
        return _form_page(request, form, None)
    rule = services.save_rule(form.instance, actor=acting_user(request))
    messages.success(request, f"Rule “{rule.name}” created.")
    return redirect("settings:rule", rule_id=rule.pk)


@admin_only
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    if request.method != "POST":
        return _form_page(request, RuleForm(instance=rule), rule)
    form = RuleForm(request.POST, instance=rule)
    if not form.is_valid():
        return _form_page(request, form, rule, status=400)
    if "simulate" in request.POST:
        return _form_page(request, form, rule)
    services.save_rule(form.instance, actor=acting_user(request))
    messages.success(request, f"Rule “{rule.name}” saved.")
    return redirect("settings:rule", rule_id=rule.pk)


@admin_only
@require_POST
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    services.set_rule_active(rule, request.POST.get("active") == "1")
    messages.success(request, f"Rule “{rule.name}” is {'on' if rule.active else 'off'}.")
    return redirect("settings:rules")


@admin_only
@require_POST
def rule_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return HttpResponse("direction must be up or down", status=400)
    services.move_rule(rule, -1 if direction == "up" else 1)
    return redirect("settings:rules")


@admin_only
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    name = rule.name
    services.delete_rule(rule)
    messages.success(request, f"Rule “{name}” deleted.")
    return redirect("settings:rules")
