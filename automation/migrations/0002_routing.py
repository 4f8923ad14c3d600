"""Routing per team (area: routing)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import automation.models.routing


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0001_initial"),
        ("helpdesk", "0002_user_skills"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AgentRoutingState",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="routing_state",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("last_routed_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="TeamRouting",
            fields=[
                (
                    "team",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="routing",
                        serialize=False,
                        to="helpdesk.team",
                    ),
                ),
                (
                    "mode",
                    models.CharField(
                        choices=[
                            ("off", "Off (agents pick tickets themselves)"),
                            ("round_robin", "Round-robin"),
                            ("least_loaded", "Least-loaded"),
                        ],
                        default="off",
                        max_length=16,
                    ),
                ),
                (
                    "match_skills",
                    models.BooleanField(
                        default=False,
                        help_text="Give a ticket to the agents whose skills cover most of its tags.",
                    ),
                ),
                (
                    "match_language",
                    models.BooleanField(
                        default=False,
                        help_text=(
                            "Give a ticket to agents who speak the customer's language, "
                            "when one does."
                        ),
                    ),
                ),
                (
                    "hand_back_on_offline",
                    models.BooleanField(
                        default=False,
                        help_text=(
                            "When an agent goes offline, their open tickets go back to the team."
                        ),
                    ),
                ),
                (
                    "capacity_statuses",
                    models.JSONField(
                        default=automation.models.routing.default_capacity_statuses,
                        help_text="Ticket statuses that take a seat of the agent's capacity.",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "escalation_team",
                    models.ForeignKey(
                        blank=True,
                        help_text="Tier escalation moves the team's tickets here.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="escalations_from",
                        to="helpdesk.team",
                    ),
                ),
                (
                    "last_assigned_agent",
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
                "verbose_name": "team routing",
            },
        ),
    ]
