from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import connection, models


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SwitchboardUserManager(UserManager["User"]):
    def create_superuser(
        self,
        username: str,
        email: str | None = None,
        password: str | None = None,
        **extra: Any,
    ) -> User:
        extra.setdefault("role", User.Role.ADMIN)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    """An agent or an admin. Customers are not users: they are ``customers.Customer``."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        AGENT = "agent", "Agent"

    class Availability(models.TextChoices):
        ONLINE = "online", "Online"
        AWAY = "away", "Away"
        OFFLINE = "offline", "Offline"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    display_name = models.CharField(max_length=150, blank=True)
    teams = models.ManyToManyField(Team, related_name="members", blank=True)
    capacity = models.PositiveSmallIntegerField(
        default=20, help_text="How many open tickets routing may give this agent at once."
    )
    languages = models.JSONField(
        default=list, blank=True, help_text="Language codes the agent answers in, e.g. en, de."
    )
    availability = models.CharField(
        max_length=16, choices=Availability.choices, default=Availability.OFFLINE
    )
    skills = models.JSONField(
        default=list,
        blank=True,
        help_text="What the agent is good at, as ticket tags, e.g. refund, wholesale.",
    )
    time_zone = models.CharField(max_length=64, blank=True)

    objects: ClassVar[SwitchboardUserManager] = SwitchboardUserManager()

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The Django admin is the admins' tool; the role is the one switch that grants it.
        self.is_staff = self.role == self.Role.ADMIN or self.is_superuser
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_staff"}
        super().save(*args, **kwargs)

    @property
    def name(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def is_admin(self) -> bool:
        return self.is_active and (self.role == self.Role.ADMIN or self.is_superuser)


class Sequence(models.Model):
    """Gap-tolerant counters for human-facing numbers (ticket #1042)."""

    name = models.CharField(max_length=50, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"

    @classmethod
    def next_value(cls, name: str) -> int:
        """Increment and return the counter. Run it inside the caller's transaction: the
        UPDATE holds the row lock until commit, so two writers never get the same number.
        One statement in the usual case (PostgreSQL and SQLite both have RETURNING); the
        first use of a counter creates its row."""
        return cls.next_values(name, 1)[0]

    @classmethod
    def next_values(cls, name: str, count: int) -> list[int]:
        """``count`` consecutive values at once, in one statement, as ``next_value`` takes
        one."""
        if count < 1:
            return []
        # The model's own table name, quoted: nothing from outside reaches this SQL.
        table = connection.ops.quote_name(cls._meta.db_table)
        sql = f"UPDATE {table} SET value = value + %s WHERE name = %s RETURNING value"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [count, name])
            row = cursor.fetchone()
        if row is not None:
            last = int(row[0])
            return list(range(last - count + 1, last + 1))
        cls.objects.get_or_create(name=name)
        return cls.next_values(name, count)
