"""/widget.js and the widget's versioned script and style."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from channels_inbox.chat.views import widget_assets

WIDGET_DIR = Path(settings.BASE_DIR) / "static" / "widget"
SIZE_BUDGET = 30 * 1024


@pytest.fixture(autouse=True)
def _release_build(settings: Any) -> None:
    settings.DEBUG = False


def loader() -> str:
    response = Client().get("/widget.js")
    assert response.status_code == 200
    return response.content.decode()


def test_loader_names_the_current_build_and_is_cached_briefly() -> None:
    response = Client().get("/widget.js")
    assets = widget_assets()

    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=300"
    body = response.content.decode()
    assert f'"widget/chat.{assets["js"].version}.js"' in body
    assert f'"widget/chat.{assets["css"].version}.css"' in body
    assert 'getAttribute("data-channel")' in body


def test_loader_answers_304_to_a_browser_that_has_it() -> None:
    first = Client().get("/widget.js")

    again = Client().get("/widget.js", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    ("extension", "content_type"), [("js", "text/javascript"), ("css", "text/css")]
)
def test_the_named_build_is_kept_for_a_year(extension: str, content_type: str) -> None:
    [path] = re.findall(rf"widget/chat\.[0-9a-f]{{12}}\.{extension}", loader())

    response = Client().get(f"/{path}")

    assert response.status_code == 200
    assert response["Content-Type"] == f"{content_type}; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.content == (WIDGET_DIR / f"chat.{extension}").read_bytes()


def test_a_build_from_before_a_release_is_served_but_not_kept() -> None:
    response = Client().get("/widget/chat.000000000000.js")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=0"
    assert response.content == (WIDGET_DIR / "chat.js").read_bytes()


@pytest.mark.parametrize(
    "path", ["/widget/chat.js", "/widget/chat.0123.js", "/widget/x.0123456789ab.js"]
)
def test_other_names_are_not_found(path: str) -> None:
    assert Client().get(path).status_code == 404


def test_the_whole_widget_stays_under_30_kb() -> None:
    size = len(loader().encode()) + sum(len(asset.content) for asset in widget_assets().values())

    assert size < SIZE_BUDGET, f"{size} bytes"
