"""Macros and auto-acknowledgements settings pages (included under /settings/)."""

from django.urls import URLPattern, URLResolver, path

from automation.macros import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("macros/", views.macro_list, name="macros"),
    path("macros/new/", views.macro_create, name="macro-create"),
    path("macros/<int:macro_id>/", views.macro_edit, name="macro-edit"),
    path("macros/<int:macro_id>/delete/", views.macro_delete, name="macro-delete"),
    path(
        "auto-acknowledgements/",
        views.auto_acknowledgement_list,
        name="auto-acknowledgements",
    ),
    path(
        "auto-acknowledgements/<int:account_id>/",
        views.auto_acknowledgement_edit,
        name="auto-acknowledgement-edit",
    ),
]
