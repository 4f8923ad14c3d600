"""The Django admin for users, teams and counters, and what every Switchboard ModelAdmin
shares: who may use it and how it saves through the services.

Who gets in: Django lets only ``is_staff`` users sign in to the admin, and ``User.save()``
keeps ``is_staff`` equal to "is an admin" (role admin or superuser). Admins use every screen
without Django model permissions; what a screen allows at all (read-only audit rows, no
ticket deletion) is decided by its ModelAdmin and holds for admins too.

How it saves: a model that has service functions is saved by calling them with the signed-in
user as the actor, never by ``ModelAdmin.save_model``'s own ``save()``. When a service
refuses, the whole request is rolled back, the reason is shown and the form is shown again.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence as SequenceOf
from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm, UsernameField
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from helpdesk import services
from helpdesk.models import Sequence, Team, User
from helpdesk.validators import normalize_language_codes, normalize_time_zone

Result = TypeVar("Result")

admin.site.site_header = "Switchboard administration"
admin.site.site_title = "Switchboard admin"
admin.site.index_title = "Help desk configuration and records"

# Set on the request when a service refused the change being saved.
REFUSED_ATTRIBUTE = "_switchboard_admin_refused"


def is_admin(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_admin", False))


def actor_of(request: HttpRequest) -> User:
    """The signed-in admin; the admin site lets nobody else reach a ModelAdmin."""
    user = request.user
    assert isinstance(user, User)
    return user


def describe_error(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def copy_saved_row(target: models.Model, saved: models.Model) -> None:
    """Make ``target`` the row a service saved: the admin keeps using the instance it built
    from the form (for the inlines, the change log and the redirect)."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


class AdminRoleMixin:
    """Give admins every permission a ModelAdmin grants; others keep Django's rules.

    Put it before ``admin.ModelAdmin`` in the bases, and after any mixin that takes
    permissions away (``ReadOnlyAdminMixin``), so that what a screen forbids stays forbidden.
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin(request) or super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request) or super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # ModelAdmin takes (request), InlineModelAdmin takes (request, obj).
        return is_admin(request) or super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request) or super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request) or super().has_delete_permission(request, obj)  # type: ignore[misc]


class ReadOnlyAdminMixin:
    """Rows written only by services (audit trail, raw deliveries, counters): viewable, never
    added, changed or deleted by hand, not even by a superuser."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceAdminMixin:
    """Saving through the services.

    ``call_service`` runs a service function for the form being saved. The errors listed in
    ``refused_errors`` are the services' "not allowed" answers: the request's transaction is
    rolled back, so nothing of the form is kept, and the admin shows the form again with the
    reason instead of a success message.
    """

    refused_errors: tuple[type[Exception], ...] = (ValidationError,)

    def call_service(
        self, request: HttpRequest, function: Callable[..., Result], *args: Any, **kwargs: Any
    ) -> Result | None:
        if self.was_refused(request):
            return None
        try:
            return function(*args, **kwargs)
        except self.refused_errors as error:
            # The admin saves inside one transaction (changeform_view): undo the steps that
            # already ran, so a refused change leaves every row as it was.
            transaction.set_rollback(True)
            setattr(request, REFUSED_ATTRIBUTE, True)
            self.message_user(  # type: ignore[attr-defined]
                request, f"Nothing was saved: {describe_error(error)}", messages.ERROR
            )
            return None

    def was_refused(self, request: HttpRequest) -> bool:
        return bool(getattr(request, REFUSED_ATTRIBUTE, False))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if not self.was_refused(request):
            super().save_related(request, form, formsets, change)  # type: ignore[misc]

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if not self.was_refused(request):
            return super().log_addition(request, obj, message)  # type: ignore[misc]
        return None

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if not self.was_refused(request):
            return super().log_change(request, obj, message)  # type: ignore[misc]
        return None

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict[str, dict[str, list[str]]]]:
        if self.was_refused(request):
            # Nothing is logged (the log row would be rolled back), and the formsets were
            # never saved, so Django's message builder would find none of their results.
            return []
        return super().construct_change_message(request, form, formsets, add)  # type: ignore[misc]

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        if self.was_refused(request):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)  # type: ignore[misc]

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        if self.was_refused(request):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)  # type: ignore[misc]


class SafeAutocompleteMixin:
    """Django's autocomplete widget looks the submitted ids up again to show them; an id of
    the wrong type (a hand-made POST) would crash that lookup with a 500 instead of letting
    the form show its "select a valid choice" error."""

    field: Any

    def optgroups(
        self, name: str, value: SequenceOf[str], attr: Any = None
    ) -> list[tuple[str | None, list[dict[str, Any]], int | None]]:
        opts = self.field.remote_field.model._meta
        field_name = getattr(self.field.remote_field, "field_name", None)
        target = opts.get_field(field_name) if field_name else opts.pk
        usable = []
        for item in value:
            try:
                target.to_python(item)
            except ValidationError:
                continue
            usable.append(item)
        return super().optgroups(name, usable, attr)  # type: ignore[misc]


class SafeAutocompleteSelect(SafeAutocompleteMixin, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(SafeAutocompleteMixin, AutocompleteSelectMultiple):
    pass


class HelpdeskAdmin(ServiceAdminMixin, AdminRoleMixin, admin.ModelAdmin):
    """The base of every Switchboard ModelAdmin.

    Conventions for the big tables (tickets, messages, activities, customers, orders,
    deliveries): ``list_select_related`` for every foreign key in ``list_display``,
    ``show_full_result_count = False``, and dates as a ``list_filter`` rather than
    ``date_hierarchy``, whose drill-down runs MIN/MAX and DISTINCT over the whole table on
    every page load.
    """

    list_per_page = 50

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget",
                SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using")),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget",
                SafeAutocompleteSelectMultiple(
                    db_field, self.admin_site, using=kwargs.get("using")
                ),
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReadOnlyAdmin(ReadOnlyAdminMixin, HelpdeskAdmin):
    pass


def changed_fields(form: forms.ModelForm, names: tuple[str, ...]) -> dict[str, Any]:
    """The cleaned values of the fields among ``names`` that the form changed, ready to pass
    as keyword arguments to an ``update_*`` service."""
    return {name: form.cleaned_data[name] for name in names if name in form.changed_data}


# --- Users ---------------------------------------------------------------------------------


def clean_language_codes(value: Any) -> list[str]:
    """The form's JSON value: a list of language codes, cleaned as the API cleans them."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise forms.ValidationError('Enter a list of language codes, e.g. ["en", "de"].')
    for item in value:
        if not isinstance(item, str):
            raise forms.ValidationError(f"{item!r} is not a language code.")
    return normalize_language_codes(value)


class UserProfileFieldsMixin:
    cleaned_data: dict[str, Any]

    def clean_languages(self) -> list[str]:
        return clean_language_codes(self.cleaned_data.get("languages"))

    def clean_time_zone(self) -> str:
        return normalize_time_zone(self.cleaned_data.get("time_zone", ""))


class HelpdeskUserChangeForm(UserProfileFieldsMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"username": UsernameField}


class HelpdeskUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("username", "email", "display_name", "role")
        field_classes = {"username": UsernameField}


# Django's groups and model permissions play no part: what a user may do follows the role.
admin.site.unregister(Group)

# The profile fields update_agent() takes; the rest of the form is read-only or Django's own.
AGENT_FIELDS = (
    "username",
    "email",
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
)


@admin.register(User)
class UserAdmin(ServiceAdminMixin, AdminRoleMixin, DjangoUserAdmin):
    form = HelpdeskUserChangeForm
    add_form = HelpdeskUserCreationForm
    refused_errors = (ValidationError, services.HelpdeskError)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            "Profile",
            {"fields": ("display_name", "first_name", "last_name", "email", "time_zone")},
        ),
        ("Help desk", {"fields": ("role", "teams", "capacity", "languages", "availability")}),
        (
            "Access",
            {
                "fields": ("is_active", "is_staff", "is_superuser"),
                "description": (
                    "Admins (role admin) and superusers are staff and use this admin; "
                    "agents work in the inbox only."
                ),
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "display_name",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    list_display = (
        "username",
        "display_name",
        "email",
        "role",
        "team_names",
        "availability",
        "is_active",
    )
    list_filter = ("role", "availability", "is_active", "teams")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    filter_horizontal = ("teams",)
    # is_staff follows the role (User.save), so it is shown, never edited.
    readonly_fields = ("is_staff", "last_login", "date_joined")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("teams")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Superuser status bypasses every permission check in the product, so only a
            # superuser may hand it out.
            fields += ("is_superuser",)
        return fields

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        actor = actor_of(request)
        if not change:
            data = form.cleaned_data
            created = self.call_service(
                request,
                services.create_agent,
                username=obj.username,
                email=obj.email,
                password=data.get("password1") if data.get("set_usable_password") else None,
                display_name=obj.display_name,
                role=obj.role,
                actor=actor,
            )
            if created is not None:
                copy_saved_row(obj, created)
            return
        self.call_service(
            request, services.update_agent, obj, actor=actor, **changed_fields(form, AGENT_FIELDS)
        )
        if "is_superuser" in form.changed_data and not self.was_refused(request):
            # update_agent() has no superuser switch: granting it is Django's own business,
            # kept to superusers by get_readonly_fields(). save() recomputes is_staff.
            saved = User.objects.get(pk=obj.pk)
            saved.is_superuser = form.cleaned_data["is_superuser"]
            saved.save(update_fields=["is_superuser", "is_staff"])

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The teams went to update_agent(); there are no inlines.
        return

    @admin.display(description="Teams")
    def team_names(self, user: User) -> str:
        # Reads the prefetched teams; .all() would start a query per row.
        return ", ".join(team.name for team in user.teams.all())


# --- Teams and counters --------------------------------------------------------------------


TEAM_FIELDS = ("name", "slug", "description")


@admin.register(Team)
class TeamAdmin(HelpdeskAdmin):
    list_display = ("name", "slug", "member_count", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "description", "created_at")
    readonly_fields = ("created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count  # type: ignore[attr-defined]

    def save_model(self, request: HttpRequest, obj: Team, form: Any, change: bool) -> None:
        if change:
            self.call_service(
                request,
                services.update_team,
                obj,
                actor=actor_of(request),
                **changed_fields(form, TEAM_FIELDS),
            )
            return
        created = self.call_service(
            request,
            services.create_team,
            name=obj.name,
            slug=obj.slug,
            description=obj.description,
            actor=actor_of(request),
        )
        if created is not None:
            copy_saved_row(obj, created)

    def delete_model(self, request: HttpRequest, obj: Team) -> None:
        services.delete_team(obj, actor=actor_of(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Team]) -> None:
        actor = actor_of(request)
        for team in queryset.order_by("pk"):
            services.delete_team(team, actor=actor)


@admin.register(Sequence)
class SequenceAdmin(ReadOnlyAdmin):
    """Counters move only through ``Sequence.next_value``; editing one by hand could hand out
    a ticket number twice."""

    list_display = ("name", "value")
    search_fields = ("name",)


# --- API tokens ----------------------------------------------------------------------------

# DRF registers its TokenAdmin under Django's model permissions, which no role grants; admins
# by role manage API tokens like every other screen.
admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class APITokenAdmin(AdminRoleMixin, TokenAdmin):
    list_select_related = ("user",)
