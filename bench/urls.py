"""The product's URLs plus the baseline endpoint; only bench.settings selects this module."""

from django.urls import include, path

from bench.views import OneRowView

urlpatterns = [
    path("bench/one-row/", OneRowView.as_view(), name="bench-one-row"),
    path("", include("helpdesk.urls")),
]
