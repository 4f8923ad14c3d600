"""The contact form's deflection funnel and the customer portal's sign-in links."""

from __future__ import annotations

from django.db import models

__all__ = ["DeflectionEvent", "PortalLoginLink"]


class DeflectionEvent(models.Model):
    """One step of the contact form's deflection funnel, per article.

    A funnel is one rendering of the contact form (``funnel``, the random id inside its
    signed form token), so no cookie or session is needed for anonymous visitors. Each
    (funnel, kind, article) is recorded once: typing more letters shows the same article
    again without counting it twice. ``submitted`` rows name every article the funnel had
    shown (one row with no article when none was shown), so "shown, then submitted anyway"
    is a join-free count per article.
    """

    class Kind(models.TextChoices):
        SHOWN = "shown", "Suggestion shown"
        OPENED = "opened", "Suggestion opened"
        ABANDONED = "abandoned", "Form abandoned after opening a suggestion"
        SUBMITTED = "submitted", "Form submitted"

    article = models.ForeignKey(
        "knowledge_base.Article",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deflection_events",
    )
    locale = models.CharField(max_length=12, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    funnel = models.CharField(max_length=32, help_text="The contact form rendering's random id.")
    # The ticket the form opened (submitted rows only).
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["funnel", "kind", "article"], name="kb_deflection_unique_step"
            )
        ]
        indexes = [
            models.Index(fields=["article", "kind"], name="kb_deflection_article"),
            # The abandonment sweep: opened funnels of the last day.
            models.Index(fields=["kind", "created_at"], name="kb_deflection_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.article_id})"


class PortalLoginLink(models.Model):
    """A one-time sign-in link to the customer portal. Only the SHA-256 of its token is
    stored, so a database leak signs nobody in; ``used_at`` is set by a conditional UPDATE,
    so two clicks at once sign in once."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="portal_login_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField(help_text="Where the link was sent.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Portal link for customer {self.customer_id}"
