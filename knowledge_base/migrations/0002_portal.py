"""The contact form's deflection funnel and the customer portal's sign-in links."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge_base", "0001_initial"),
        ("customers", "0002_initial"),
        ("tickets", "0008_automation_verbs"),
    ]

    operations = [
        migrations.CreateModel(
            name="PortalLoginLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                (
                    "email",
                    models.EmailField(help_text="Where the link was sent.", max_length=254),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_at", models.DateTimeField()),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="portal_login_links",
                        to="customers.customer",
                    ),
                ),
            ],
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.CreateModel(
            name="DeflectionEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("locale", models.CharField(blank=True, max_length=12)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("shown", "Suggestion shown"),
                            ("opened", "Suggestion opened"),
                            ("abandoned", "Form abandoned after opening a suggestion"),
                            ("submitted", "Form submitted"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "funnel",
                    models.CharField(
                        help_text="The contact form rendering's random id.", max_length=32
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "article",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="deflection_events",
                        to="knowledge_base.article",
                    ),
                ),
                (
                    "ticket",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="tickets.ticket",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["article", "kind"], name="kb_deflection_article"),
                    models.Index(fields=["kind", "created_at"], name="kb_deflection_kind_time"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("funnel", "kind", "article"), name="kb_deflection_unique_step"
                    )
                ],
            },
        ),
    ]
