from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path, reverse_lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from helpdesk import views
from knowledge_base import views as help_views

api_v1: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include("helpdesk.api.urls")),
    path("", include("customers.api.urls")),
    path("", include("tickets.api.urls")),
    path("", include("channels_inbox.api.urls")),
    path("", include("automation.api.urls")),
]

# Django's own sign-in, sign-out and password-reset views, with our templates.
accounts: list[URLPattern | URLResolver] = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    # First: providers post here far more often than people ask for pages.
    path("", include("channels_inbox.urls")),
    path("", views.home, name="home"),
    # The first sign-in address, kept for bookmarks.
    path("login/", RedirectView.as_view(url=reverse_lazy("login"), query_string=True)),
    path("accounts/", include(accounts)),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("", include("tickets.urls")),
    path("settings/", include("automation.urls")),
    path("help/", include("knowledge_base.urls")),
    path("knowledge/", include("knowledge_base.editor.urls")),
    # Crawlers look for robots.txt at the root of the site only.
    path("robots.txt", help_views.robots_txt, name="robots-txt"),
]
