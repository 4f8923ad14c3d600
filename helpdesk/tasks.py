from __future__ import annotations

from celery import shared_task
from django.db import connection


@shared_task(name="helpdesk.check_worker_task", ignore_result=False)
def check_worker_task() -> dict[str, str]:
    """Answer from a worker with the database it reaches, so a health check or a test can
    tell that tasks really run against the same database as the web processes."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"database": str(connection.settings_dict["NAME"]), "vendor": connection.vendor}
