"""Template tags for the help center's layout, which the portal's pages extend too: the
brand and the locale switcher work without each view passing them."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from knowledge_base import links
from knowledge_base.branding import Brand, brand, locale_name, ui_text

register = template.Library()


@dataclass(frozen=True)
class LocaleLink:
    code: str
    name: str
    url: str
    current: bool


@register.simple_tag
def help_brand() -> Brand:
    return brand()


@register.simple_tag
def help_locale_links(
    current: str | None, alternates: dict[str, str] | None = None
) -> list[LocaleLink]:
    """One link per locale: to this page's version in it when the view gave ``alternates``
    (locale → path), else to that locale's home."""
    current = links.normalize_locale(current)
    return [
        LocaleLink(
            code=code,
            name=locale_name(code),
            url=(alternates or {}).get(code) or links.home_url(code),
            current=code == current,
        )
        for code in links.supported_locales()
    ]


@register.simple_tag
def help_home_url(locale: str | None) -> str:
    return links.home_url(links.normalize_locale(locale))


@register.simple_tag
def help_text(locale: str | None) -> dict[str, str]:
    """The help center's own words in ``locale``: ``{% help_text help_locale as t %}``."""
    return ui_text(locale)


@register.simple_tag
def help_format(template_text: str, **values: object) -> str:
    """``template_text`` with ``{name}`` fields filled (the result is escaped as usual)."""
    return template_text.format(**{key: str(value) for key, value in values.items()})
