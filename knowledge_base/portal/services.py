"""The contact form, its deflection funnel, and the customer portal's sign-in links.

Every ticket change goes through ``tickets.services``: a contact request is a customer email
received by ``receive_message`` on an email channel account (so agents answer it by email
like any other), its confirmation an automatic reply queued by ``add_automatic_reply`` (so
the normal delivery pipeline sends it with the Message-ID, signed Reply-To and ``[#number]``
that thread the customer's answer back into the same ticket), and a portal reply is again a
customer message received on the ticket's own channel.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from customers.identities import normalize_address
from customers.models import Customer, Identity, Order
from helpdesk.channel_kinds import ChannelKind
from helpdesk.ratelimits import Limit, hit
from knowledge_base.models import Article, DeflectionEvent, PortalLoginLink
from tickets import services as ticket_services
from tickets.models import Message, Ticket

Kind = DeflectionEvent.Kind

# --- Rate limits ---------------------------------------------------------------------------

CONTACT_PER_IP = Limit("help-contact-ip", 10, 3600)
CONTACT_PER_EMAIL = Limit("help-contact-email", 5, 3600)
SUGGESTIONS_PER_IP = Limit("help-contact-suggest-ip", 120, 60)
SIGN_IN_PER_IP = Limit("help-portal-link-ip", 10, 3600)
SIGN_IN_PER_EMAIL = Limit("help-portal-link-email", 3, 900)
PORTAL_REPLY_PER_CUSTOMER = Limit("help-portal-reply", 20, 3600)


def allowed(*checks: tuple[Limit, object]) -> bool:
    """Count one hit on each limit; False when any of them is over (all are counted, so a
    flood from one IP with many addresses stays refused on both)."""
    outcomes = [hit(limit, identifier) for limit, identifier in checks]
    return all(outcome.allowed for outcome in outcomes)


# --- The contact form's signed token -------------------------------------------------------

FORM_SALT = "switchboard.help.contact-form"
MIN_FILL_SECONDS = 3  # a person needs longer than this to type a question
MAX_FORM_AGE_SECONDS = 24 * 60 * 60


class ContactRefused(Exception):
    """A submission we do not take; the message is fit to show the visitor."""


@dataclass(frozen=True)
class FormToken:
    funnel: str  # the rendering's random id: the deflection funnel's key
    rendered_at: float


def make_form_token(*, now: float | None = None) -> str:
    """A signed token for one rendering of the contact form: a random funnel id and the
    time it was rendered."""
    rendered_at = time.time() if now is None else now
    return signing.dumps({"f": secrets.token_hex(16), "t": rendered_at}, salt=FORM_SALT)


def read_form_token(value: str) -> FormToken | None:
    """The token's contents, or None when it is forged, malformed or older than a day."""
    try:
        data = signing.loads(value, salt=FORM_SALT, max_age=MAX_FORM_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    funnel, rendered_at = data.get("f"), data.get("t")
    if not isinstance(funnel, str) or not isinstance(rendered_at, int | float):
        return None
    # The signature's own timestamp is checked above; the render time is what counts.
    if time.time() - rendered_at > MAX_FORM_AGE_SECONDS:
        return None
    return FormToken(funnel=funnel, rendered_at=float(rendered_at))


def check_submission_timing(value: str, *, now: float | None = None) -> FormToken:
    """The form's token if a person could have filled it in: refused when it is missing,
    forged, more than a day old, or came back in under ``MIN_FILL_SECONDS`` (a bot)."""
    token = read_form_token(value)
    if token is None:
        raise ContactRefused("This form has expired. Please check your message and send it again.")
    elapsed = (time.time() if now is None else now) - token.rendered_at
    if elapsed < MIN_FILL_SECONDS:
        raise ContactRefused(
            "That was quicker than we expected. Please wait a moment and send it again."
        )
    return token


# --- The contact request -------------------------------------------------------------------


@dataclass(frozen=True)
class ContactRequest:
    name: str
    email: str
    subject: str
    message: str
    order_number: str
    locale: str


def contact_channel_account() -> ChannelAccount | None:
    """The email account the contact form opens tickets on: the one named by
    ``HELP_CENTER_CONTACT_CHANNEL_ACCOUNT``, else the first active email account."""
    accounts = ChannelAccount.objects.filter(kind=ChannelKind.EMAIL, is_active=True)
    slug = settings.HELP_CENTER_CONTACT_CHANNEL_ACCOUNT
    if slug:
        return accounts.filter(slug=slug).first()
    return accounts.order_by("id").first()


def _request_text(contact: ContactRequest) -> str:
    text = contact.message.strip()
    if contact.order_number:
        text += f"\n\nOrder number: {contact.order_number}"
    return text


def _customer_order(customer: Customer, number: str) -> Order | None:
    number = number.strip().lstrip("#")
    if not number:
        return None
    return Order.objects.filter(customer=customer, number__in=[number, f"#{number}"]).first()


def submit_contact_request(
    contact: ContactRequest, *, token: FormToken, account: ChannelAccount
) -> Ticket:
    """Open the email ticket for a contact request, queue its confirmation and record the
    funnel's ``submitted`` step. Idempotent per form rendering: the form's funnel id is the
    message's provider id, so a double submit returns the first ticket and queues nothing
    more."""
    with transaction.atomic():
        message = ticket_services.receive_message(
            ticket_services.InboundMessage(
                channel=ChannelKind.EMAIL,
                sender_address=contact.email,
                sender_name=contact.name,
                subject=contact.subject,
                text=_request_text(contact),
                # Never a real Message-ID (".invalid", RFC 2606): the email adapter leaves it
                # out of In-Reply-To/References, and it makes a repeated submit idempotent.
                provider_message_id=f"help-contact.{token.funnel}@switchboard.invalid",
                starts_conversation=True,
            ),
            channel_account=account,
        )
        ticket = Ticket.objects.get(pk=message.ticket_id)
        already_confirmed = Message.objects.filter(
            ticket=ticket, direction=Message.Direction.OUTBOUND, is_automated=True
        ).exists()
        if already_confirmed:
            return ticket
        order = _customer_order(ticket.customer, contact.order_number)
        if order is not None:
            ticket = ticket_services.link_order(ticket, order, actor=None)
        text = render_to_string(
            "help/contact_confirmation.txt",
            {"ticket": ticket, "contact": contact, "help_center_name": settings.HELP_CENTER_NAME},
        )
        ticket_services.add_automatic_reply(
            ticket, text=text, summary="Help center contact form: sent the confirmation"
        )
        record_submitted(token.funnel, contact.locale, ticket)
    return ticket


# --- The deflection funnel -----------------------------------------------------------------

# After this long without a submission, a funnel that opened a suggestion counts as
# abandoned (see record_abandoned_funnels).
ABANDONED_AFTER = timedelta(hours=1)
# Funnels older than this are not looked at again: the form's token has expired by then.
ABANDON_LOOKBACK = timedelta(days=2)


def _record(funnel: str, locale: str, kind: str, article_ids: list[int], **extra: Any) -> None:
    """Insert the steps that are new; the unique (funnel, kind, article) constraint drops
    repeats, so concurrent requests of one funnel cannot count an article twice."""
    rows = [
        DeflectionEvent(funnel=funnel, locale=locale[:12], kind=kind, article_id=pk, **extra)
        for pk in article_ids
    ]
    DeflectionEvent.objects.bulk_create(rows, ignore_conflicts=True)


def record_shown(funnel: str, locale: str, article_ids: list[int]) -> None:
    _record(funnel, locale, Kind.SHOWN, list(dict.fromkeys(article_ids)))


def record_opened(funnel: str, locale: str, article_id: int) -> None:
    _record(funnel, locale, Kind.OPENED, [article_id])


def record_submitted(funnel: str, locale: str, ticket: Ticket) -> None:
    """One ``submitted`` row per article this funnel showed, or one without an article."""
    shown = [
        pk
        for pk in DeflectionEvent.objects.filter(funnel=funnel, kind=Kind.SHOWN)
        .order_by("id")
        .values_list("article_id", flat=True)
        if pk is not None
    ]
    if not shown:
        # NULLs never collide in a unique constraint: check first (a repeated submit is
        # already caught by the ticket's idempotency above).
        if DeflectionEvent.objects.filter(funnel=funnel, kind=Kind.SUBMITTED).exists():
            return
        DeflectionEvent.objects.create(
            funnel=funnel, locale=locale[:12], kind=Kind.SUBMITTED, ticket=ticket
        )
        return
    _record(funnel, locale, Kind.SUBMITTED, shown, ticket=ticket)


def record_abandoned_funnels(*, now: datetime | None = None) -> int:
    """Record ``abandoned`` for every article opened in a funnel that then went quiet for
    ``ABANDONED_AFTER`` without a submission; returns how many rows were added.

    Decided on the server by a periodic job rather than by a beacon from the page: opening
    a suggestion leaves the page (so "the page was left" says nothing), phones kill tabs
    without ``pagehide``, and a tab left open for a day is still abandoned. Idempotent: the
    unique constraint keeps each (funnel, article) once, so the job may run any number of
    times. A customer who comes back and submits later still counts as ``submitted`` too.
    """
    now = now or timezone.now()
    opened = DeflectionEvent.objects.filter(
        kind=Kind.OPENED,
        created_at__lte=now - ABANDONED_AFTER,
        created_at__gte=now - ABANDON_LOOKBACK,
    )
    submitted = DeflectionEvent.objects.filter(kind=Kind.SUBMITTED).values("funnel")
    abandoned = DeflectionEvent.objects.filter(kind=Kind.ABANDONED).values("funnel")
    candidates = (
        opened.exclude(funnel__in=submitted)
        .exclude(funnel__in=abandoned)
        .values_list("funnel", "locale", "article_id")
    )
    rows = [
        DeflectionEvent(funnel=funnel, locale=locale, kind=Kind.ABANDONED, article_id=article_id)
        for funnel, locale, article_id in candidates
        if article_id is not None
    ]
    return len(DeflectionEvent.objects.bulk_create(rows, ignore_conflicts=True))


@dataclass(frozen=True)
class FunnelCounts:
    shown: int
    opened: int
    abandoned: int
    submitted: int


def funnel_counts(article_ids: list[int] | None = None) -> dict[int, FunnelCounts]:
    """Per article: how many contact forms showed it, opened it, were left after opening
    it, and were submitted after showing it."""
    rows = DeflectionEvent.objects.filter(article__isnull=False)
    if article_ids is not None:
        rows = rows.filter(article_id__in=article_ids)
    counted = rows.values("article_id").annotate(
        **{kind: Count("id", filter=Q(kind=kind)) for kind in Kind.values}
    )
    return {
        row["article_id"]: FunnelCounts(
            shown=row["shown"],
            opened=row["opened"],
            abandoned=row["abandoned"],
            submitted=row["submitted"],
        )
        for row in counted
    }


def published_article(article_id: int) -> Article | None:
    return (
        Article.objects.select_related("category")
        .filter(pk=article_id, status=Article.Status.PUBLISHED)
        .first()
    )


# --- Portal sign-in links ------------------------------------------------------------------

LINK_SALT = "switchboard.help.portal-link"


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def link_lifetime() -> timedelta:
    return timedelta(minutes=settings.HELP_CENTER_PORTAL_LINK_MINUTES)


def customer_for_email(email: str) -> Customer | None:
    """The customer who owns this email address (merges followed), without creating one."""
    try:
        address = normalize_address(ChannelKind.EMAIL, email)
    except ValidationError:
        return None
    identity = Identity.objects.select_related("customer").filter(
        kind=ChannelKind.EMAIL, address=address
    )
    found = identity.first()
    if found is None:
        customer = Customer.objects.filter(email=address).order_by("id").first()
    else:
        customer = found.customer
    return None if customer is None else final_customer(customer)


def final_customer(customer: Customer) -> Customer:
    seen = {customer.pk}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        seen.add(customer.merged_into_id)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def request_sign_in_link(email: str) -> PortalLoginLink | None:
    """Create a sign-in link for the customer behind ``email`` and mail it after commit; None
    (and nothing sent) for an address we do not know. The caller answers the same either way,
    so the form does not tell who is a customer."""
    customer = customer_for_email(email)
    if customer is None:
        return None
    raw = secrets.token_urlsafe(32)
    address = normalize_address(ChannelKind.EMAIL, email)
    with transaction.atomic():
        link = PortalLoginLink.objects.create(
            customer=customer,
            token_hash=_token_hash(raw),
            email=address,
            expires_at=timezone.now() + link_lifetime(),
        )
        signed = signing.TimestampSigner(salt=LINK_SALT).sign(raw)
        url = settings.PUBLIC_BASE_URL + reverse("help:portal-link", args=[signed])
        transaction.on_commit(lambda: _send_sign_in_mail(address, customer, url))
    return link


def _send_sign_in_mail(address: str, customer: Customer, url: str) -> None:
    context = {
        "customer": customer,
        "url": url,
        "minutes": settings.HELP_CENTER_PORTAL_LINK_MINUTES,
        "help_center_name": settings.HELP_CENTER_NAME,
    }
    subject = " ".join(render_to_string("help/portal/emails/sign_in.subject.txt", context).split())
    mail = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("help/portal/emails/sign_in.txt", context),
        to=[address],
    )
    mail.attach_alternative(
        render_to_string("help/portal/emails/sign_in.html", context), "text/html"
    )
    mail.send()


def _raw_token(signed: str) -> str | None:
    try:
        return signing.TimestampSigner(salt=LINK_SALT).unsign(signed, max_age=link_lifetime())
    except signing.BadSignature:  # also SignatureExpired
        return None


def usable_link(signed: str) -> PortalLoginLink | None:
    """The link behind a signed token if it can still sign in (for the confirmation page;
    nothing is used up)."""
    raw = _raw_token(signed)
    if raw is None:
        return None
    return PortalLoginLink.objects.filter(
        token_hash=_token_hash(raw), used_at__isnull=True, expires_at__gt=timezone.now()
    ).first()


def use_sign_in_link(signed: str) -> Customer | None:
    """Use up a sign-in link and return its customer (merges followed); None when the token
    is forged, expired or was already used. One conditional UPDATE: of two clicks at once
    exactly one signs in."""
    raw = _raw_token(signed)
    if raw is None:
        return None
    now = timezone.now()
    links = PortalLoginLink.objects.filter(
        token_hash=_token_hash(raw), used_at__isnull=True, expires_at__gt=now
    )
    link = links.select_related("customer").first()
    if link is None or links.update(used_at=now) != 1:
        return None
    return final_customer(link.customer)


# --- The portal's reply --------------------------------------------------------------------


class PortalReplyError(Exception):
    """A reply the portal cannot take; fit to show the customer."""


def add_portal_reply(ticket: Ticket, customer: Customer, text: str) -> Message:
    """The customer's reply from the portal, received on the ticket's own channel as a
    customer message (so it reopens a pending or solved ticket, and a closed one gets a
    follow-up, exactly as a message on the channel would). ``customer`` must own the
    ticket: the caller fetched it through the portal's queries."""
    identity = (
        Identity.objects.filter(customer=ticket.customer, kind=ticket.channel)
        .order_by("-created_at", "-id")
        .first()
    )
    if identity is None:
        raise PortalReplyError("This conversation cannot take replies here; please write to us.")
    try:
        return ticket_services.receive_message(
            ticket_services.InboundMessage(
                channel=ticket.channel,
                sender_address=identity.address,
                sender_name=customer.name,
                subject=ticket.subject,
                text=text.strip(),
                provider_message_id=f"help-portal.{secrets.token_hex(16)}@switchboard.invalid",
                # The portal checked who the customer is, as a signed reply address does.
                ticket_number=ticket.number,
                ticket_number_source="address",
                starts_conversation=True,
            ),
            channel_account=ticket.channel_account,
        )
    except ticket_services.TicketError as error:
        raise PortalReplyError(str(error)) from error
