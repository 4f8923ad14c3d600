import os
from typing import Any

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _prepare_before_forking(**_: Any) -> None:
    from django.conf import settings

    from channels_inbox.adapters import load_adapters

    # The pool's processes inherit both.
    if settings.WORKER_NICENESS:
        os.nice(settings.WORKER_NICENESS)
    load_adapters()
