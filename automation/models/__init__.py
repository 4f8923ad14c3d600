"""Automation's models, one module per area; Django finds them all through this package."""

from automation.models.autoack import *  # noqa: F403
from automation.models.calendars import *  # noqa: F403
from automation.models.macros import *  # noqa: F403
from automation.models.routing import *  # noqa: F403
from automation.models.rules import *  # noqa: F403
from automation.models.sla import *  # noqa: F403
