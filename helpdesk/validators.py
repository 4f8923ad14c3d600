"""Checks of an agent's languages and time zone, shared by the API and the admin so that a
value is stored the same way whichever screen it was entered on.

They raise Django's ``ValidationError``, which DRF serializers (in ``validate_<field>``) and
Django forms (in ``clean_<field>``) both turn into an error on that field.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterable

from django.core.exceptions import ValidationError

MAX_LANGUAGES = 20
# A BCP 47 language tag as agents write one: a 2-3 letter language, then optional script,
# region or variant subtags (en, de-AT, pt-BR, zh-Hant, sr-Latn-RS).
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


def _canonical_subtag(subtag: str) -> str:
    # RFC 5646's casing: scripts in title case, regions in upper case, the rest in lower
    # case, so "PT_br" and "pt-BR" are stored as one value and compare equal.
    if len(subtag) == 4 and subtag.isalpha():
        return subtag.title()
    if (len(subtag) == 2 and subtag.isalpha()) or (len(subtag) == 3 and subtag.isdigit()):
        return subtag.upper()
    return subtag


def normalize_language_codes(values: Iterable[str]) -> list[str]:
    """The codes in canonical case (``en``, ``de-AT``, ``zh-Hant``), ``_`` read as ``-``,
    duplicates dropped, order kept; at most ``MAX_LANGUAGES`` given."""
    values = list(values)
    if len(values) > MAX_LANGUAGES:
        raise ValidationError(f"List at most {MAX_LANGUAGES} languages.", code="max_length")
    codes: list[str] = []
    for raw in values:
        code = raw.strip().lower().replace("_", "-")
        if not LANGUAGE_TAG.match(code):
            raise ValidationError(
                f"{raw!r} is not a language code; use codes such as en, de-AT or pt-BR.",
                code="invalid",
            )
        language, *subtags = code.split("-")
        code = "-".join([language, *map(_canonical_subtag, subtags)])
        if code not in codes:
            codes.append(code)
    return codes


@functools.cache
def _time_zone_names() -> frozenset[str]:
    # available_timezones() walks the time zone database on disk at every call.
    return frozenset(zoneinfo.available_timezones())


def normalize_time_zone(value: str) -> str:
    """An IANA time zone name such as ``Europe/Berlin``, or ``""`` for none."""
    name = (value or "").strip()
    if name and name not in _time_zone_names():
        raise ValidationError(
            f"{name!r} is not a time zone; use a name such as Europe/Berlin.", code="invalid"
        )
    return name
