from django.urls import URLPattern, URLResolver, include, path

from automation import views

app_name = "settings"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.settings_home, name="home"),
    path("", include("automation.sla.urls")),
    path("", include("automation.routing.urls")),
    path("", include("automation.macros.urls")),
    path("", include("automation.rules.urls")),
    path("", include("channels_inbox.settings_urls")),
]
