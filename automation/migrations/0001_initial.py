"""Business-hours calendars, holidays and SLA policies (area: sla)."""

import django.db.models.deletion
from django.db import migrations, models

import automation.models.calendars
import automation.models.sla


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tickets", "0008_automation_verbs"),
        ("helpdesk", "0001_initial"),
        ("customers", "0002_initial"),
        ("channels_inbox", "0010_whatsapp_template_reply"),
    ]

    operations = [
        migrations.CreateModel(
            name="BusinessHours",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, unique=True)),
                (
                    "time_zone",
                    models.CharField(
                        help_text="IANA name, e.g. Europe/Berlin.",
                        max_length=64,
                        validators=[automation.models.calendars.validate_time_zone],
                    ),
                ),
                (
                    "weekly_hours",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text='{"monday": [["09:00", "17:00"]], ...}; a missing day is closed.',
                        validators=[automation.models.calendars.validate_weekly_hours],
                    ),
                ),
                (
                    "holiday_country",
                    models.CharField(
                        blank=True,
                        help_text="Country (ISO code) whose public holidays close it, e.g. DE.",
                        max_length=3,
                        validators=[automation.models.calendars.validate_holiday_country],
                    ),
                ),
                (
                    "holiday_subdivision",
                    models.CharField(
                        blank=True,
                        help_text="Optional region of that country, e.g. BY.",
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name_plural": "business hours",
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="Holiday",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField()),
                ("name", models.CharField(max_length=100)),
                (
                    "business_hours",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="holidays",
                        to="automation.businesshours",
                    ),
                ),
            ],
            options={
                "ordering": ["date"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("business_hours", "date"), name="holiday_unique_date_per_calendar"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SlaPolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, unique=True)),
                (
                    "position",
                    models.PositiveIntegerField(
                        default=0, help_text="Lower positions match first."
                    ),
                ),
                ("active", models.BooleanField(default=True)),
                (
                    "priorities",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text="Empty: any.",
                        validators=[automation.models.sla.validate_priorities],
                    ),
                ),
                (
                    "channels",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text="Empty: any.",
                        validators=[automation.models.sla.validate_channels],
                    ),
                ),
                (
                    "customer_tags",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text="The customer carries at least one of them. Empty: any.",
                        validators=[automation.models.sla.validate_customer_tags],
                    ),
                ),
                ("first_response_minutes", models.PositiveIntegerField(blank=True, null=True)),
                ("next_response_minutes", models.PositiveIntegerField(blank=True, null=True)),
                ("resolution_minutes", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "pause_statuses",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text="Statuses in which the clocks stop (pending, on_hold).",
                        validators=[automation.models.sla.validate_pause_statuses],
                    ),
                ),
                (
                    "warning_minutes",
                    models.PositiveIntegerField(
                        default=30,
                        help_text="Warn this many minutes before due; 0 for no warning.",
                    ),
                ),
                (
                    "escalate_raise_priority",
                    models.BooleanField(
                        default=False, help_text="Raise the priority one step on a breach."
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "business_hours",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: the clocks run around the clock.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sla_policies",
                        to="automation.businesshours",
                    ),
                ),
                (
                    "escalate_to_team",
                    models.ForeignKey(
                        blank=True,
                        help_text="Move the ticket to this team on a breach.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="helpdesk.team",
                    ),
                ),
            ],
            options={
                "verbose_name": "SLA policy",
                "verbose_name_plural": "SLA policies",
                "ordering": ["position", "id"],
            },
        ),
        migrations.CreateModel(
            name="TicketSla",
            fields=[
                (
                    "ticket",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="sla",
                        serialize=False,
                        to="tickets.ticket",
                    ),
                ),
                ("paused", models.BooleanField(default=False)),
                ("next_check_at", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "policy",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="tickets",
                        to="automation.slapolicy",
                    ),
                ),
            ],
            options={
                "verbose_name": "ticket SLA",
                "indexes": [
                    models.Index(
                        condition=models.Q(("next_check_at__isnull", False)),
                        fields=["next_check_at"],
                        name="ticket_sla_next_check",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SlaClock",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "target",
                    models.CharField(
                        choices=[
                            ("first_response", "First response"),
                            ("next_response", "Next response"),
                            ("resolution", "Resolution"),
                        ],
                        max_length=16,
                    ),
                ),
                ("cycle", models.PositiveIntegerField(default=0)),
                ("target_minutes", models.PositiveIntegerField()),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("running", "Running"),
                            ("paused", "Paused"),
                            ("stopped", "Stopped (ticket solved or closed)"),
                            ("done", "Done"),
                        ],
                        max_length=8,
                    ),
                ),
                ("started_at", models.DateTimeField()),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                ("due_at", models.DateTimeField(blank=True, null=True)),
                ("warn_at", models.DateTimeField(blank=True, null=True)),
                ("elapsed_minutes", models.FloatField(default=0)),
                ("achieved", models.BooleanField(blank=True, null=True)),
                ("warned_at", models.DateTimeField(blank=True, null=True)),
                ("breached_at", models.DateTimeField(blank=True, null=True)),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sla_clocks",
                        to="tickets.ticket",
                    ),
                ),
                (
                    "policy",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="automation.slapolicy",
                    ),
                ),
            ],
            options={
                "ordering": ["ticket", "target", "cycle"],
                "indexes": [
                    models.Index(fields=["target", "completed_at"], name="sla_clock_report")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("ticket", "target", "cycle"), name="sla_clock_unique_cycle"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SlaPeriod",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("running", "Running"),
                            ("paused", "Paused"),
                            ("stopped", "Stopped"),
                        ],
                        max_length=8,
                    ),
                ),
                ("started_at", models.DateTimeField()),
                ("ended_at", models.DateTimeField(blank=True, null=True)),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sla_periods",
                        to="tickets.ticket",
                    ),
                ),
            ],
            options={
                "ordering": ["ticket", "started_at", "id"],
                "indexes": [
                    models.Index(fields=["ticket", "started_at"], name="sla_period_timeline")
                ],
            },
        ),
    ]
