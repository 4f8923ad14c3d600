"""The settings hub at /settings/: one page listing what an admin (or an agent, for their
own macros) can configure; each area's pages live in its own package."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def settings_home(request: HttpRequest) -> HttpResponse:
    return render(request, "settings/home.html", {"section": "home"})
