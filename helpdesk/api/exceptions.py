"""API errors every app's views may raise, and how a service's refusal becomes one.

- ``Conflict``: the 409.
- ``validation_error_from_django``: a Django ``ValidationError`` as DRF's 400 with field
  messages.
- ``ServiceErrorsMixin``: a view that calls services lets their errors propagate; the mixin
  answers a Django ``ValidationError`` with a 400 and the view's ``conflict_errors`` with a 409.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.fields import get_error_detail
from rest_framework.response import Response

if TYPE_CHECKING:
    from rest_framework.views import APIView

    _ViewBase = APIView
else:
    _ViewBase = object


class Conflict(APIException):
    """409: the request is well formed but clashes with the current state (a handle that
    belongs to another customer, a merge already undone, the last admin's demotion)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The change conflicts with the current state."
    default_code = "conflict"


def validation_error_from_django(
    error: DjangoValidationError, *, field: str | None = None
) -> serializers.ValidationError:
    """``raise validation_error_from_django(error) from None`` in a view that called a
    service; messages without a field go under ``field`` when it is given."""
    detail = get_error_detail(error)
    if field is not None and not isinstance(detail, Mapping):
        detail = {field: detail}
    return serializers.ValidationError(detail)


class ServiceErrorsMixin(_ViewBase):
    """Put it before the view class. A service that refuses raises; the view does not catch
    it. A Django ``ValidationError`` (bad input only the service can judge, such as a taken
    slug) is a 400 with its field messages, and an error listed in ``conflict_errors`` (the
    state forbids the change) is a 409 whose ``detail`` is the service's message, next to
    the error's ``conflict_details`` mapping when it has one.
    """

    conflict_errors: tuple[type[Exception], ...] = ()

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DjangoValidationError):
            exc = validation_error_from_django(exc)
        elif isinstance(exc, self.conflict_errors):
            # What the agent may do instead (a closed WhatsApp window's templates) rides
            # along as plain JSON: an APIException would turn every value into a string.
            details = getattr(exc, "conflict_details", None)
            if isinstance(details, Mapping):
                return Response({"detail": str(exc), **details}, status=status.HTTP_409_CONFLICT)
            exc = Conflict(str(exc))
        return super().handle_exception(exc)
