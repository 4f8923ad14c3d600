"""The settings pages' navigation, by role. Each area registers its pages here so the
layout's menu and the overview list them in one order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class SettingsPage:
    section: str
    label: str
    url_name: str
    description: str
    admins_only: bool = True


PAGES: tuple[SettingsPage, ...] = (
    SettingsPage(
        "rules", "Rules", "settings:rules", "Triggers, conditions and actions, with a simulator."
    ),
    SettingsPage(
        "sla",
        "SLA policies",
        "settings:sla-policies",
        "Response and resolution targets per priority, channel and customer tag.",
    ),
    SettingsPage(
        "business-hours",
        "Business hours",
        "settings:business-hours",
        "Opening hours, time zones and holidays.",
    ),
    SettingsPage(
        "macros",
        "Macros",
        "settings:macros",
        "One-click answers with variables and actions.",
        admins_only=False,
    ),
    SettingsPage(
        "auto-acknowledgements",
        "Auto-acknowledgements",
        "settings:auto-acknowledgements",
        "The first answer a customer gets, per channel account.",
    ),
    SettingsPage(
        "routing", "Routing", "settings:routing", "Round-robin or least-loaded assignment per team."
    ),
    SettingsPage(
        "teams", "Teams and agents", "settings:teams", "Members, capacity, skills and languages."
    ),
    SettingsPage(
        "channels",
        "Channel accounts",
        "settings:channels",
        "Email, chat, WhatsApp, SMS, Messenger, Instagram and Telegram.",
    ),
)


def settings_nav(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the pages this user may open (those whose URL exists yet)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith("/settings/"):
        return {}
    items = []
    for page in PAGES:
        if page.admins_only and not getattr(user, "is_admin", False):
            continue
        try:
            url = reverse(page.url_name)
        except NoReverseMatch:
            continue
        items.append(
            {
                "section": page.section,
                "label": page.label,
                "url": url,
                "description": page.description,
            }
        )
    return {"settings_nav": items}
