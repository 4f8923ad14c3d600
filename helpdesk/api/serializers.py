"""Serializers for teams and agents, and the pieces every app's API shares.

Shared pieces (import them from any app's ``api/``):

- ``RejectUnknownFieldsMixin`` / ``StrictSerializer`` / ``StrictModelSerializer``: a write
  body that names a field the serializer does not accept, or a read-only one, is a 400 that
  names each such field, instead of being silently ignored.
- ``NamedRefSerializer``: ``{"id", "name"}`` of a user or a team.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.text import slugify
from rest_framework import serializers

from helpdesk.models import Team, User
from helpdesk.validators import MAX_LANGUAGES, normalize_language_codes, normalize_time_zone

# The browsable API's HTML forms post Django's CSRF token with the fields.
IGNORED_BODY_KEYS = frozenset({"csrfmiddlewaretoken"})


if TYPE_CHECKING:
    _SerializerBase = serializers.Serializer
else:
    _SerializerBase = object


# Put the mixin before the serializer class: ``class S(RejectUnknownFieldsMixin, Serializer)``.
# A typo in a field name ("assigne") or a field the client may not write ("id") would
# otherwise be dropped without a word and the client would believe it was saved. Each such
# key is named in the 400: "Unknown field." or, for a field the serializer only shows, "This
# field is read-only."; nested strict serializers name keys by position. (A comment, not a
# docstring: the API schema would show a mixin's docstring as the description of every
# serializer that has none of its own.)
class RejectUnknownFieldsMixin(_SerializerBase):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors: dict[str, list[str]] = {}
            for key in sorted(str(key) for key in data):
                if key in IGNORED_BODY_KEYS:
                    continue
                field = self.fields.get(key)
                if field is None:
                    errors[key] = ["Unknown field."]
                elif field.read_only:
                    errors[key] = ["This field is read-only."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    pass


class StrictModelSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    pass


class NamedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


# --- Teams ---------------------------------------------------------------------------------


class TeamSerializer(serializers.ModelSerializer):
    members = NamedRefSerializer(many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "slug", "description", "members", "created_at"]
        read_only_fields = fields


class TeamWriteSerializer(StrictModelSerializer):
    """``slug`` defaults to the slugified name on create."""

    class Meta:
        model = Team
        fields = ["name", "slug", "description"]
        extra_kwargs = {"slug": {"required": False}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("slug"):
            slug = slugify(attrs.get("name", ""))
            if not slug:
                raise serializers.ValidationError(
                    {"slug": ["The name gives no slug; give one with letters or digits."]}
                )
            if Team.objects.filter(slug=slug).exists():
                raise serializers.ValidationError(
                    {"slug": [f"A team already uses the slug {slug!r}; give another one."]}
                )
            attrs["slug"] = slug
        return attrs


# --- Agents --------------------------------------------------------------------------------


class AgentSerializer(serializers.ModelSerializer):
    """What every agent may see of a colleague. Never a password, not even its hash."""

    name = serializers.CharField(read_only=True)
    teams = NamedRefSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "name",
            "display_name",
            "first_name",
            "last_name",
            "email",
            "role",
            "teams",
            "capacity",
            "languages",
            "availability",
            "time_zone",
            "is_active",
            "last_login",
            "date_joined",
        ]
        read_only_fields = fields


class AgentWriteSerializer(StrictModelSerializer):
    """Admins create and change agents. ``password`` is optional and write-only: without one
    the agent cannot sign in with a password until an admin sets it; ``null`` on an update
    makes the current one unusable."""

    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_null=True,
        allow_blank=False,
        trim_whitespace=False,
        max_length=128,
        style={"input_type": "password"},
    )
    teams = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Team.objects.all(), required=False
    )
    languages = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, max_length=MAX_LANGUAGES
    )
    time_zone = serializers.CharField(max_length=64, required=False, allow_blank=True)

    class Meta:
        model = User
        fields = [
            "username",
            "email",
            "password",
            "display_name",
            "first_name",
            "last_name",
            "role",
            "teams",
            "capacity",
            "languages",
            "availability",
            "time_zone",
            "is_active",
        ]
        extra_kwargs = {"capacity": {"min_value": 0, "max_value": 1000}}

    def validate_languages(self, value: list[str]) -> list[str]:
        return normalize_language_codes(value)

    def validate_time_zone(self, value: str) -> str:
        return normalize_time_zone(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        password = attrs.get("password")
        if password:
            # The similarity validator compares against the agent's own names and email.
            candidate = User(
                **{
                    name: attrs.get(name, getattr(self.instance, name, ""))
                    for name in ("username", "email", "first_name", "last_name")
                }
            )
            try:
                validate_password(password, candidate)
            except DjangoValidationError as error:
                raise serializers.ValidationError({"password": list(error.messages)}) from None
        return attrs


class AvailabilitySerializer(StrictSerializer):
    """The one field an agent may change on their own record."""

    availability = serializers.ChoiceField(choices=User.Availability.choices)
