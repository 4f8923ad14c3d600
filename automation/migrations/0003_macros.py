"""Macros and auto-acknowledgements (area: macros)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0002_routing"),
        ("channels_inbox", "0010_whatsapp_template_reply"),
        ("helpdesk", "0001_initial"),
        ("tickets", "0008_automation_verbs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations: list[migrations.operations.base.Operation] = [
        migrations.CreateModel(
            name="Macro",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                (
                    "body",
                    models.TextField(
                        blank=True,
                        help_text="The reply it writes; variables like {{ customer.first_name }}.",
                    ),
                ),
                (
                    "set_status",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("new", "New"),
                            ("open", "Open"),
                            ("pending", "Pending"),
                            ("on_hold", "On hold"),
                            ("solved", "Solved"),
                            ("closed", "Closed"),
                        ],
                        help_text="Empty: unchanged.",
                        max_length=16,
                    ),
                ),
                (
                    "set_priority",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("low", "Low"),
                            ("normal", "Normal"),
                            ("high", "High"),
                            ("urgent", "Urgent"),
                        ],
                        help_text="Empty: unchanged.",
                        max_length=16,
                    ),
                ),
                ("add_tags", models.JSONField(blank=True, default=list)),
                ("remove_tags", models.JSONField(blank=True, default=list)),
                (
                    "assign",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Leave the assignee"),
                            ("me", "Assign to the agent applying it"),
                            ("agent", "Assign to a chosen agent"),
                            ("unassign", "Unassign"),
                        ],
                        max_length=16,
                    ),
                ),
                ("is_active", models.BooleanField(default=True)),
                ("usage_count", models.PositiveIntegerField(default=0, editable=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "assign_agent",
                    models.ForeignKey(
                        blank=True,
                        help_text="With “Assign to a chosen agent”.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "assign_team",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: the team is unchanged.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="helpdesk.team",
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty for a shared macro; otherwise only this agent sees it.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="macros",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["name", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("owner__isnull", False)),
                        fields=("owner", "name"),
                        name="macro_unique_personal_name",
                        violation_error_message="You already have a macro with this name.",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("owner__isnull", True)),
                        fields=("name",),
                        name="macro_unique_shared_name",
                        violation_error_message="A shared macro with this name exists.",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="AutoAcknowledgement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("enabled", models.BooleanField(default=True)),
                (
                    "body",
                    models.TextField(
                        default=(
                            "Hello {{ customer.first_name }}, thank you for your message. We "
                            "have received it and will reply {{ expected_reply }}. Your ticket "
                            "number is {{ ticket.number }}."
                        )
                    ),
                ),
                (
                    "expected_reply_minutes",
                    models.PositiveIntegerField(
                        default=120, help_text="How soon an agent answers during business hours."
                    ),
                ),
                (
                    "period_hours",
                    models.PositiveIntegerField(
                        default=24,
                        help_text="At most one acknowledgement per ticket in this many hours.",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "channel_account",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="auto_acknowledgement",
                        to="channels_inbox.channelaccount",
                    ),
                ),
                (
                    "business_hours",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: always open.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="auto_acknowledgements",
                        to="automation.businesshours",
                    ),
                ),
            ],
            options={"ordering": ["channel_account__name", "id"]},
        ),
        migrations.CreateModel(
            name="AutoAcknowledgementSent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sent_at", models.DateTimeField()),
                (
                    "message",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="tickets.message",
                    ),
                ),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tickets.ticket",
                    ),
                ),
                (
                    "trigger_message",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="tickets.message",
                    ),
                ),
            ],
            options={
                "ordering": ["-sent_at", "-id"],
                "indexes": [
                    models.Index(fields=["ticket", "-sent_at"], name="autoack_ticket_sent")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("ticket", "trigger_message"), name="autoack_once_per_trigger"
                    )
                ],
            },
        ),
    ]
