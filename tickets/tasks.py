"""Tasks of the tickets app: thin, taking ids, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from helpdesk.models import User
from tickets.models import Message

logger = logging.getLogger(__name__)


@shared_task(name="tickets.email_mention_task", ignore_result=True)
def email_mention_task(message_id: int, user_id: int) -> bool:
    """Email agent ``user_id`` that note ``message_id`` mentions them, if they are still
    offline (an agent who came online saw the toast) and still mentioned. True when sent."""
    message = (
        Message.objects.select_related("ticket", "author_agent")
        .filter(pk=message_id, kind=Message.Kind.NOTE, mentions__pk=user_id)
        .first()
    )
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if message is None or user is None or not user.email:
        return False
    if user.availability != User.Availability.OFFLINE:
        return False
    ticket = message.ticket
    address = reverse("tickets:ticket", args=[ticket.number])
    context = {
        "user": user,
        "author": message.author_agent.name if message.author_agent else "An agent",
        "ticket": ticket,
        "note": message.text,
        "url": settings.PUBLIC_BASE_URL.rstrip("/") + address,
    }
    subject = " ".join(render_to_string("workspace/emails/mention.subject.txt", context).split())
    send_mail(
        subject,
        render_to_string("workspace/emails/mention.txt", context),
        None,
        [user.email],
        html_message=render_to_string("workspace/emails/mention.html", context),
    )
    return True
