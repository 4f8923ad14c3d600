"""The product's URLs plus the baseline endpoints; only bench.settings selects this module."""

from django.urls import include, path

from bench.views import OneRowView, one_row_page, webhook_baseline

urlpatterns = [
    path("bench/one-row/", OneRowView.as_view(), name="bench-one-row"),
    path("bench/one-row-page/", one_row_page, name="bench-one-row-page"),
    path("bench/webhook-baseline/", webhook_baseline, name="bench-webhook-baseline"),
    path("", include("helpdesk.urls")),
]
