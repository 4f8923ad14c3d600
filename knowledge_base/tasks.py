"""The knowledge base's Celery tasks (autodiscovery reads only this module)."""

from knowledge_base.portal.tasks import record_abandoned_contact_forms_task  # noqa: F401
