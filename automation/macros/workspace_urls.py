"""The macro picker's URLs, included by ``tickets/urls.py`` under
``tickets/<int:number>/macros/`` (names ``tickets:macro-…``)."""

from django.urls import URLPattern, URLResolver, path

from automation.macros import workspace_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", workspace_views.macro_list, name="macro-list"),
    path("<int:macro_id>/preview/", workspace_views.macro_preview, name="macro-preview"),
    path("<int:macro_id>/apply/", workspace_views.macro_apply, name="macro-apply"),
]
