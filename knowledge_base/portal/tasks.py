"""The contact form's periodic job. Celery registers it through ``knowledge_base/tasks.py``,
which imports it: autodiscovery only looks at <app>/tasks.py."""

from __future__ import annotations

from celery import shared_task

from knowledge_base.portal.services import record_abandoned_funnels


@shared_task(name="knowledge_base.record_abandoned_contact_forms_task")
def record_abandoned_contact_forms_task() -> int:
    """Count contact forms left after opening a suggestion (idempotent); returns how many
    abandoned steps were added."""
    return record_abandoned_funnels()
