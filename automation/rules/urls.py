"""rules settings pages."""

from django.urls import URLPattern, URLResolver, path

from automation.rules import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_create, name="rule-create"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule"),
    path("rules/<int:rule_id>/toggle/", views.rule_toggle, name="rule-toggle"),
    path("rules/<int:rule_id>/move/", views.rule_move, name="rule-move"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="rule-delete"),
]
