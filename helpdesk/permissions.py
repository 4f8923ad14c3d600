from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


def _is_staff_member(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


class IsStaffMember(BasePermission):
    """Agents and admins: every signed-in Switchboard user (customers never sign in here)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return _is_staff_member(request.user)


class IsAdmin(BasePermission):
    """Configuration (teams, agents, channel accounts) is for admins; agents get 403."""

    message = "Only admins can change the help desk's configuration."

    def has_permission(self, request: Request, view: Any) -> bool:
        return _is_staff_member(request.user) and bool(getattr(request.user, "is_admin", False))


class IsAdminOrReadOnly(IsAdmin):
    """Agents may read (to pick an assignee or a team); only admins may change."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return _is_staff_member(request.user)
        return super().has_permission(request, view)
