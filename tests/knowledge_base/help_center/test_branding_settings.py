"""The help center's branding settings refuse values that would break or inject into the
page, and take good ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from knowledge_base.branding import Brand, relative_luminance
from tests.helpdesk.environment import production_environment
from tests.helpdesk.test_settings import evaluate_settings


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"HELP_CENTER_BRAND_COLOR": "red"}, "HELP_CENTER_BRAND_COLOR must be a #rrggbb"),
        ({"HELP_CENTER_BRAND_COLOR": "#fff"}, "HELP_CENTER_BRAND_COLOR must be a #rrggbb"),
        (
            {"HELP_CENTER_BRAND_COLOR": "#000000; } body { display: none"},
            "HELP_CENTER_BRAND_COLOR must be a #rrggbb",
        ),
        ({"HELP_CENTER_LOGO_URL": "javascript:alert(1)"}, "HELP_CENTER_LOGO_URL must be"),
        ({"HELP_CENTER_LOGO_URL": 'https://x.test/a" onerror="x'}, "HELP_CENTER_LOGO_URL must"),
        ({"HELP_CENTER_LOGO_URL": "logo.png"}, "HELP_CENTER_LOGO_URL must be"),
    ],
)
def test_bad_branding_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured) as error:
        evaluate_settings(monkeypatch, production_environment(tmp_path, **overrides))

    assert str(error.value).startswith(message)


def test_good_branding_is_taken(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    values = evaluate_settings(
        monkeypatch,
        production_environment(
            tmp_path,
            HELP_CENTER_NAME="Nordic Bikes Support",
            HELP_CENTER_LOGO_URL="/media/brand/logo.svg",
            HELP_CENTER_BRAND_COLOR="#0B7A75",
        ),
    )

    assert values["HELP_CENTER_NAME"] == "Nordic Bikes Support"
    assert values["HELP_CENTER_LOGO_URL"] == "/media/brand/logo.svg"
    assert values["HELP_CENTER_BRAND_COLOR"] == "#0B7A75"


@pytest.mark.parametrize(
    ("color", "text"),
    [
        ("#ffffff", "#111111"),
        ("#ffcc00", "#111111"),
        ("#2f5bea", "#ffffff"),
        ("#000000", "#ffffff"),
    ],
)
def test_header_text_reads_on_the_brand_colour(color: str, text: str) -> None:
    assert Brand("Shop", "", color).text_color == text


def test_relative_luminance() -> None:
    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert relative_luminance("#000000") == 0.0
