"""SLA settings pages (included under /settings/)."""

from django.urls import URLPattern, URLResolver, path

from automation.sla import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("sla-policies/", views.policy_list, name="sla-policies"),
    path("sla-policies/new/", views.policy_create, name="sla-policy-create"),
    path("sla-policies/<int:policy_id>/", views.policy_edit, name="sla-policy-edit"),
    path("sla-policies/<int:policy_id>/delete/", views.policy_delete, name="sla-policy-delete"),
    path("business-hours/", views.hours_list, name="business-hours"),
    path("business-hours/new/", views.hours_create, name="business-hours-create"),
    path("business-hours/<int:hours_id>/", views.hours_edit, name="business-hours-edit"),
    path("business-hours/<int:hours_id>/delete/", views.hours_delete, name="business-hours-delete"),
]
