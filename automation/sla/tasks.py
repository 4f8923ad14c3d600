"""SLA Celery tasks; automation.tasks imports this module so workers find them."""

from __future__ import annotations

from celery import shared_task

from automation.sla.services import sweep_sla


@shared_task(name="automation.sla_sweep_task", ignore_result=True)
def sla_sweep_task() -> dict[str, int]:
    """Beat runs this every minute: warnings and breaches whose moment has come. Safe to
    run on two workers at once (see ``check_ticket_sla``)."""
    result = sweep_sla()
    return {"tickets": result.tickets, "warnings": result.warnings, "breaches": result.breaches}
