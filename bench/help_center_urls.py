"""The product's URLs plus the help-center benchmark's baseline page; only
``bench.help_center`` selects this module."""

from django.urls import include, path

from bench.help_center import BASELINE_PATH, one_row_page

urlpatterns = [
    path(BASELINE_PATH.strip("/") + "/", one_row_page, name="bench-help-one-row"),
    path("", include("bench.urls")),
]
