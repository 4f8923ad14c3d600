"""Approved WhatsApp message templates: storing them per account, filling in their
parameters, and checking what Meta would refuse before anything is sent.

Writes go through these functions, which only admins may call (templates are the account's
configuration), except ``add_template_reply``: an agent's reply sent as a template, which is
what a ticket takes once the customer service window has closed. Sending one is
``WhatsAppAdapter.send_template``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from channels_inbox.models import ChannelAccount
from channels_inbox.whatsapp.models import TemplateReply, WhatsAppTemplate
from helpdesk.channel_kinds import ChannelKind
from helpdesk.models import User
from helpdesk.services import UNSET, Unset, check_admin, insert_unique
from tickets.models import Message, Ticket
from tickets.services import TicketError, add_reply

PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
# Meta's rules for template names and language codes (en, en_US, pt_BR, zh_HK ...).
TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2,4})?$")
# Meta refuses a body parameter with a line break or a tab, or more than four spaces in a row.
MAX_PARAMETER_LENGTH = 1024
FIVE_SPACES = " " * 5


def placeholder_numbers(body: str) -> list[int]:
    """The parameter numbers ``body`` uses, in order of appearance (repeats included)."""
    return [int(number) for number in PLACEHOLDER.findall(body)]


def parameter_count(template: WhatsAppTemplate) -> int:
    """How many parameters sending ``template`` takes: its highest placeholder."""
    return max(placeholder_numbers(template.body), default=0)


def check_template_body(body: str) -> None:
    """ValidationError (on ``body``) unless the placeholders run 1, 2, ... without a gap, as
    Meta numbers them."""
    if not body.strip():
        raise ValidationError({"body": ["The template body is empty."]})
    used = set(placeholder_numbers(body))
    if used and used != set(range(1, max(used) + 1)):
        missing = sorted(set(range(1, max(used) + 1)) - used)
        raise ValidationError(
            {
                "body": [
                    "Parameters are numbered {{1}}, {{2}} ... without gaps; missing "
                    + ", ".join(f"{{{{{number}}}}}" for number in missing)
                    + "."
                ]
            }
        )


def parameter_problem(template: WhatsAppTemplate, parameters: Sequence[str]) -> str:
    """Why Meta would refuse ``parameters`` for ``template``; "" when it would not."""
    expected = parameter_count(template)
    if len(parameters) != expected:
        return (
            f"The template {template.name} ({template.language}) takes {expected} "
            f"parameter{'s' if expected != 1 else ''}; {len(parameters)} given."
        )
    for number, value in enumerate(parameters, start=1):
        if not isinstance(value, str) or not value.strip():
            return f"Parameter {{{{{number}}}}} is empty."
        if "\n" in value or "\t" in value or FIVE_SPACES in value:
            return (
                f"Parameter {{{{{number}}}}} may not contain line breaks, tabs or more than "
                "four spaces in a row."
            )
        if len(value) > MAX_PARAMETER_LENGTH:
            return f"Parameter {{{{{number}}}}} is longer than {MAX_PARAMETER_LENGTH} characters."
    return ""


def render_template(template: WhatsAppTemplate, parameters: Sequence[str]) -> str:
    """The body with its parameters filled in: the text the ticket shows for the message.
    The caller has checked ``parameter_problem``."""

    def fill(match: re.Match[str]) -> str:
        return parameters[int(match.group(1)) - 1]

    return PLACEHOLDER.sub(fill, template.body)


def _clean(template: WhatsAppTemplate) -> None:
    errors: dict[str, list[str]] = {}
    if template.channel_account.kind != ChannelKind.WHATSAPP:
        errors["channel_account"] = ["Templates belong to WhatsApp accounts."]
    if not TEMPLATE_NAME.match(template.name):
        errors["name"] = [
            "A template name is lowercase letters, digits and underscores, as in WhatsApp "
            "Manager (e.g. order_update)."
        ]
    if not LANGUAGE_CODE.match(template.language):
        errors["language"] = ["A language code looks like en, en_US or pt_BR."]
    if errors:
        raise ValidationError(errors)
    check_template_body(template.body)
    template.full_clean()


def create_whatsapp_template(
    account: ChannelAccount,
    *,
    name: str,
    language: str,
    category: str,
    body: str,
    actor: User,
) -> WhatsAppTemplate:
    """Store a template Meta has approved for ``account``. ValidationError when a field is
    malformed or the account already has the name in that language."""
    check_admin(actor)
    template = WhatsAppTemplate(
        channel_account=account,
        name=name.strip(),
        language=language.strip(),
        category=category,
        body=body.strip(),
    )
    _clean(template)
    insert_unique(template)
    return template


def update_whatsapp_template(
    template: WhatsAppTemplate,
    *,
    actor: User,
    name: str | Unset = UNSET,
    language: str | Unset = UNSET,
    category: str | Unset = UNSET,
    body: str | Unset = UNSET,
) -> WhatsAppTemplate:
    check_admin(actor)
    changes = {"name": name, "language": language, "category": category, "body": body}
    changed = [key for key, value in changes.items() if not isinstance(value, Unset)]
    for key in changed:
        value = changes[key]
        setattr(template, key, value.strip() if isinstance(value, str) else value)
    _clean(template)
    if changed:
        template.save(update_fields=[*changed, "updated_at"])
    return template


def delete_whatsapp_template(template: WhatsAppTemplate, *, actor: User) -> None:
    """Forget a template (Meta paused or deleted it). Messages sent with it keep their text."""
    check_admin(actor)
    template.delete()


def find_reply_template(account: ChannelAccount, name: str, language: str = "") -> WhatsAppTemplate:
    """The account's approved template ``name`` in ``language``; without a language, the
    only one of that name. ValidationError (on ``template`` or ``language``) otherwise."""
    templates = list(WhatsAppTemplate.objects.filter(channel_account=account, name=name))
    if language:
        templates = [template for template in templates if template.language == language]
        if not templates:
            raise ValidationError(
                {"language": [f"The account has no approved template {name} in {language}."]}
            )
    if not templates:
        raise ValidationError({"template": [f"The account has no approved template {name}."]})
    if len(templates) > 1:
        languages = ", ".join(template.language for template in templates)
        raise ValidationError(
            {"language": [f"The template {name} exists in {languages}: name the language."]}
        )
    return templates[0]


def add_template_reply(
    ticket: Ticket,
    *,
    author: User,
    name: str,
    parameters: Sequence[str],
    language: str = "",
    status: str | None = None,
) -> Message:
    """Queue a reply to a WhatsApp ticket as the account's approved template ``name``, which
    WhatsApp delivers in or out of the customer service window. The ticket shows the body
    with ``parameters`` filled in; the delivery task sends the template by name.

    TicketError when the ticket is not on a WhatsApp account (or another refusal of
    ``add_reply``); ValidationError when the template is unknown or the parameters do not
    fit it."""
    account = ticket.channel_account
    if account is None or account.kind != ChannelKind.WHATSAPP:
        raise TicketError("Template messages can only be sent on WhatsApp tickets.")
    template = find_reply_template(account, name, language)
    problem = parameter_problem(template, parameters)
    if problem:
        raise ValidationError({"parameters": [problem]})
    with transaction.atomic():
        # The free-text check is skipped: a template is what a closed window allows.
        message = add_reply(
            ticket,
            author=author,
            text=render_template(template, parameters),
            status=status,
            check_channel=False,
        )
        # Before commit, so the delivery task (queued on commit) finds the marker.
        TemplateReply.objects.create(
            message=message,
            name=template.name,
            language=template.language,
            parameters=list(parameters),
        )
    return message
