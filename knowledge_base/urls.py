"""The public help center under /help/."""

from django.urls import URLPattern, URLResolver, include, path

app_name = "help"

urlpatterns: list[URLPattern | URLResolver] = [
    # First: fixed addresses (contact/, portal/) before the help center's slug patterns.
    path("", include("knowledge_base.portal.urls")),
]
