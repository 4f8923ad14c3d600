"""The knowledge base's Celery tasks (autodiscovery reads only this module)."""

from celery import shared_task

from knowledge_base.portal.tasks import record_abandoned_contact_forms_task  # noqa: F401
from knowledge_base.services import flush_view_counts


@shared_task(name="knowledge_base.flush_view_counts_task")
def flush_view_counts_task() -> int:
    """Write the views counted in the cache to ``Article.view_count`` (idempotent; beat
    runs it every minute, so the help center's "most viewed" may lag by about that much)."""
    return flush_view_counts()
