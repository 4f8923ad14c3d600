"""Settings of the Celery workers the concurrency test starts: the product's settings, with
domain events handed to routing alone (event_tasks), so the test's outcome is routing's
and no other area's retries keep the workers busy."""

from helpdesk.settings import *  # noqa: F403

EVENT_CONSUMER_TASKS = ["tests.automation.routing.event_tasks.routing_event_task"]
