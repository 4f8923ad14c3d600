"""Rules, their firings and outbound webhooks (area: rules)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import automation.models.rules


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0003_macros"),
        ("tickets", "0008_automation_verbs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Rule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=120)),
                ("description", models.TextField(blank=True)),
                ("active", models.BooleanField(default=False)),
                ("position", models.PositiveIntegerField(default=0, help_text="Lower runs first.")),
                (
                    "trigger",
                    models.CharField(
                        choices=[
                            ("ticket_created", "Ticket created"),
                            ("customer_message", "Customer message received"),
                            ("agent_reply", "Agent reply sent"),
                            ("ticket_updated", "Ticket updated"),
                            ("sla_warning", "SLA warning"),
                            ("sla_breached", "SLA breached"),
                            ("time_based", "Time-based"),
                        ],
                        max_length=32,
                    ),
                ),
                (
                    "trigger_fields",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text=(
                            "Ticket updated only: run when one of these fields changed (empty: any)."
                        ),
                    ),
                ),
                (
                    "time_basis",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("status_for", "In a status for"),
                            ("unassigned_for", "Unassigned for"),
                            ("customer_waiting_for", "Customer waiting for an answer for"),
                        ],
                        max_length=32,
                    ),
                ),
                (
                    "time_status",
                    models.CharField(
                        blank=True,
                        help_text="Time-based 'in a status for': the status.",
                        max_length=16,
                    ),
                ),
                ("time_minutes", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "conditions",
                    models.JSONField(blank=True, default=dict, help_text='{"all": [...]}'),
                ),
                (
                    "actions",
                    models.JSONField(default=list, help_text='[{"type": "set_status", ...}]'),
                ),
                (
                    "stop_processing",
                    models.BooleanField(
                        default=False,
                        help_text="When this rule fires, later rules do not run for the event.",
                    ),
                ),
                (
                    "webhook_secret",
                    models.CharField(
                        default=automation.models.rules.new_webhook_secret,
                        help_text="Signs this rule's outbound webhooks (HMAC-SHA256).",
                        max_length=64,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["position", "id"],
            },
        ),
        migrations.CreateModel(
            name="RuleFiring",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("event_key", models.CharField(blank=True, max_length=120)),
                ("actions_done", models.JSONField(blank=True, default=list)),
                ("fired_at", models.DateTimeField(auto_now_add=True)),
                (
                    "rule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="firings",
                        to="automation.rule",
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
            ],
            options={
                "ordering": ["-fired_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="RuleWebhookDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("url", models.URLField(max_length=500)),
                ("payload", models.JSONField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("delivered", "Delivered"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("response_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("error", models.TextField(blank=True)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("delivered_at", models.DateTimeField(blank=True, null=True)),
                (
                    "rule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="webhook_deliveries",
                        to="automation.rule",
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
            ],
            options={
                "ordering": ["-id"],
            },
        ),
        migrations.AddIndex(
            model_name="rule",
            index=models.Index(fields=["trigger", "active", "position"], name="rule_trigger"),
        ),
        migrations.AddIndex(
            model_name="rulefiring",
            index=models.Index(fields=["rule", "ticket", "-fired_at"], name="rule_firing_recent"),
        ),
        migrations.AddConstraint(
            model_name="rulefiring",
            constraint=models.UniqueConstraint(
                condition=models.Q(("event_key", ""), _negated=True),
                fields=("rule", "ticket", "event_key"),
                name="rule_firing_once_per_event",
            ),
        ),
        migrations.AddIndex(
            model_name="rulewebhookdelivery",
            index=models.Index(fields=["status", "next_attempt_at"], name="rule_webhook_due"),
        ),
    ]
