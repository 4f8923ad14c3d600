import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Autodiscovery finds only <app>/tasks.py; the email channel keeps its tasks in its package.
app.autodiscover_tasks(["channels_inbox.email"])
