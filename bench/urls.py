"""The product's URLs plus the baseline endpoints; only bench.settings selects this module."""

from django.urls import include, path

from bench.views import OneRowView, webhook_baseline

urlpatterns = [
    path("bench/one-row/", OneRowView.as_view(), name="bench-one-row"),
    path("bench/webhook-baseline/", webhook_baseline, name="bench-webhook-baseline"),
    path("", include("helpdesk.urls")),
]
