"""Bench-only endpoints, each the cheapest useful version of what a benchmark measures.

``OneRowView``, the baseline the ticket list is measured against, is the cheapest useful DRF
endpoint. It goes through the same middleware, the same DRF request cycle and the same
authentication and permission classes as the ticket list (taken from the ticket list's own
view class, so the two cannot drift apart), reads one row and renders it as JSON. Whatever
the ticket list costs above this is the cost of listing tickets.

``one_row_page``, the baseline of the workspace pages, is the cheapest useful signed-in page:
the same middleware and session sign-in as the inbox, one row read and rendered through a
Django template. Whatever a workspace page costs above this is the cost of the page itself.

``webhook_baseline``, the baseline of the webhook endpoints, is the least a webhook can do: it
checks an HMAC-SHA256 signature over the raw body and inserts the body as one row, in
autocommit. Whatever a provider's webhook costs above this is the cost of finding its
account, reading the provider's format and handing the event to the pipeline.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import resolve
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import Team

TICKET_LIST_PATH = "/api/v1/tickets/"
# The account the baseline's rows belong to, created by bench.webhook_ingest: inactive, so
# no product webhook answers for it, and its rows are stored as processed, so no worker
# takes them.
WEBHOOK_BASELINE_SLUG = "bench-webhook-baseline"
WEBHOOK_BASELINE_SECRET = "bench-baseline-secret-6e0f2a9c41"  # noqa: S105 - a fixture's
WEBHOOK_BASELINE_HEADER = "X-Hub-Signature-256"


@cache
def ticket_list_view_class() -> type[APIView]:
    """The view class serving the ticket list (an APIView or a ViewSet)."""
    view = resolve(TICKET_LIST_PATH).func
    view_class = getattr(view, "cls", None)
    if view_class is None:
        raise RuntimeError(f"{TICKET_LIST_PATH} is not served by a DRF view")
    return view_class


class OneTeamSerializer(serializers.ModelSerializer[Team]):
    class Meta:
        model = Team
        fields = ["id", "name", "slug"]


class OneRowView(APIView):
    def get_authenticators(self) -> list[BaseAuthentication]:
        return [auth() for auth in ticket_list_view_class().authentication_classes]

    def get_permissions(self) -> list[Any]:
        return [permission() for permission in ticket_list_view_class().permission_classes]

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = Team.objects.order_by("pk").first()
        return Response(OneTeamSerializer(team).data)


ONE_ROW_TEMPLATE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ team.name }}</title></head><body><main id="bench-one-row">
<h1>{{ team.name }}</h1><p>{{ team.slug }} · {{ user.username }}</p></main></body></html>"""


@cache
def _one_row_template() -> Any:
    return engines["django"].from_string(ONE_ROW_TEMPLATE)


@login_required
def one_row_page(request: HttpRequest) -> HttpResponse:
    team = Team.objects.order_by("pk").first()
    return HttpResponse(_one_row_template().render({"team": team, "user": request.user}))


@cache
def _webhook_baseline_account_id() -> int:
    """Looked up once per process: the baseline pays for one INSERT per request only."""
    return ChannelAccount.objects.values_list("pk", flat=True).get(slug=WEBHOOK_BASELINE_SLUG)


@csrf_exempt
@require_POST
def webhook_baseline(request: HttpRequest) -> HttpResponse:
    body = request.body
    expected = (
        "sha256=" + hmac.new(WEBHOOK_BASELINE_SECRET.encode(), body, hashlib.sha256).hexdigest()
    )
    given = request.headers.get(WEBHOOK_BASELINE_HEADER, "")
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape")):
        return HttpResponse("Forbidden.", status=403, content_type="text/plain")
    InboundEvent.objects.create(
        channel_account_id=_webhook_baseline_account_id(),
        external_id=hashlib.sha256(body).hexdigest(),
        payload=body,
        status=InboundEvent.Status.PROCESSED,
    )
    return HttpResponse("OK", content_type="text/plain")
