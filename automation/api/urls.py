from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("automation.sla.api")),
    path("", include("automation.routing.api")),
    path("", include("automation.macros.api")),
    path("", include("automation.rules.api")),
]
