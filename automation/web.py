"""What the automation settings pages share: who may open them, and the edit page's round
trip (a form reads, a service validates and saves, a template renders)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from helpdesk.models import User

BAD_REQUEST = 400

View = Callable[..., HttpResponse]


def acting_user(request: HttpRequest) -> User:
    """The signed-in user; the caller's view is behind ``login_required``."""
    user = request.user
    assert isinstance(user, User)
    return user


def require_admin(request: HttpRequest, message: str) -> User:
    """The signed-in admin, or ``PermissionDenied(message)`` (a 403) for anyone else."""
    user = request.user
    if not (isinstance(user, User) and user.is_admin):
        raise PermissionDenied(message)
    return user


def admin_required(message: str) -> Callable[[View], View]:
    """A view decorator for signed-in admins only: a signed-out visitor goes to the login
    page, an agent gets a 403 saying ``message``."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require_admin(request, message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ``ValidationError`` on the form: next to the field it names when the
    form has that field, otherwise at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


def form_page(
    request: HttpRequest,
    form: forms.BaseForm,
    *,
    save: Callable[[], str],
    success_url: str,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The edit page's round trip. A GET renders ``template`` with the form. A POST whose
    form is valid calls ``save()``: when it returns, its message is flashed and the browser
    goes to ``success_url``; when it raises ``ValidationError``, the errors go on the form.
    A POST that does not save is a 400 with the form's messages on the page."""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                message = save()
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, message)
                return redirect(success_url)
        status = BAD_REQUEST
    return render(request, template, {**context, "form": form}, status=status)
