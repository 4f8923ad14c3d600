"""Deterministic customer mail for the email ingest benchmark (bench/email_ingest.py).

``generate(count, seed=...)`` returns the same mails for the same arguments: a mix of shapes
(plain text, multipart/alternative, HTML only, a small PDF attached, non-ASCII subjects and
names), several senders writing several times, and about a third of them replies whose
``In-Reply-To`` and ``References`` name earlier mails of the same list, so they thread into the
ticket those opened. Every new conversation has a subject of its own, so subject matching
never joins two of them: the expected number of tickets is the number of non-replies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

REPLY_SHARE = 1 / 3
# A reply names a mail sent at least this many places earlier, so the worker has normally
# threaded the parent before the reply arrives (both go through one FIFO queue).
REPLY_DISTANCE = 100
# Below the email adapter's default per-sender rate limit (20 per ten minutes), which would
# otherwise ignore the rest of a busy sender's mail.
MAX_MAILS_PER_SENDER = 12
MAILS_PER_SENDER = 4
SHAPES = ("text", "alternative", "html", "attachment")

_FIRST_NAMES = (
    "Ana", "Bruno", "Chloé", "Dmitri", "Eva", "Farid", "Greta", "Hiro", "Inès", "Jonas",
    "Katarzyna", "Lars", "Mei", "Nuno", "Olga", "Pedro", "Quentin", "Rosa", "Søren", "Tomás",
)  # fmt: skip
_LAST_NAMES = (
    "Souza", "Müller", "Dubois", "Ivanov", "Kowalski", "Tanaka", "García", "Jensen", "Rossi",
    "Novák", "Öztürk", "Haddad", "Lindqvist", "O'Brien", "Nakamura", "Fernández",
)  # fmt: skip
_DOMAINS = ("example.com", "mail.example.org", "kunden.example.de", "example.fr", "example.jp")
_TOPICS = (
    "Where is my order {order}?",
    "Order {order} arrived damaged",
    "Refund for order {order}",
    "Wrong size delivered ({order})",
    "Bestellung {order} – Lieferung verspätet",
    "Commande {order} : colis non reçu",
    "Заказ {order} не пришёл",
    "注文 {order} について",
    "Pedido {order} — cambio de dirección",
    "Invoice needed for order {order}",
)
_REPLY_PREFIXES = ("Re: ", "RE: ", "AW: ", "SV: ", "Re: Re: ")
_BODIES = (
    "Hello,\n\nI ordered on Monday and the parcel has still not arrived. Could you check the "
    "tracking for me?\n\nThanks,\n{name}",
    "Hi team,\n\nThe box was crushed and the lamp inside is broken. Photos are attached if "
    "you need them. I would like a replacement.\n\nBest regards,\n{name}",
    "Guten Tag,\n\nbitte senden Sie mir eine Rechnung mit meiner Firmenanschrift. Die "
    "Bestellung ist bereits bezahlt.\n\nMit freundlichen Grüßen\n{name}",
    "Bonjour,\n\nj'ai reçu la mauvaise taille. Comment puis-je faire l'échange ?\n\n"
    "Cordialement,\n{name}",
)
_REPLY_BODIES = (
    "Thanks for the quick answer. Any news on this?",
    "I still have not heard back, could you please look again?",
    "Danke! Gibt es schon ein Update?",
    "Merci, j'attends votre retour.",
    "The tracking number still shows nothing. Please advise.",
)
# A few kilobytes standing for a scanned receipt.
_PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
_EPOCH = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class GeneratedMail:
    index: int
    message_id: str  # without angle brackets, as the pipeline stores it
    sender: str
    parent: int | None  # the index of the mail this one replies to
    shape: str
    raw: bytes

    @property
    def is_reply(self) -> bool:
        return self.parent is not None


@dataclass(frozen=True)
class _Sender:
    address: str
    name: str


def _senders(rng: random.Random, count: int) -> list[_Sender]:
    senders = []
    for number in range(count):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        local = f"{first}.{last}".lower().encode("ascii", "ignore").decode().replace("'", "")
        senders.append(_Sender(f"{local}.{number}@{rng.choice(_DOMAINS)}", f"{first} {last}"))
    return senders


def generate(
    count: int, *, seed: int = 2024, to: str = "support@shop.bench"
) -> list[GeneratedMail]:
    """``count`` mails in sending order; the same arguments give the same bytes."""
    rng = random.Random(seed)
    senders = _senders(rng, max(1, count // MAILS_PER_SENDER))
    sent_by: dict[str, int] = {}
    # The mails a reply may continue: (index, sender, subject, message ids of the thread).
    threads: list[tuple[int, _Sender, str, tuple[str, ...]]] = []
    mails: list[GeneratedMail] = []
    distance = min(REPLY_DISTANCE, max(1, count // 10))
    for index in range(count):
        message_id = f"bench-{seed}-{index:06d}@{rng.choice(_DOMAINS)}"
        reply_to_thread = None
        eligible = len(threads) - distance
        if eligible > 0 and rng.random() < REPLY_SHARE:
            for _attempt in range(5):
                candidate = threads[rng.randrange(eligible)]
                if sent_by.get(candidate[1].address, 0) < MAX_MAILS_PER_SENDER:
                    reply_to_thread = candidate
                    break
        if reply_to_thread is not None:
            parent, sender, root_subject, chain = reply_to_thread
            subject = rng.choice(_REPLY_PREFIXES) + root_subject
            text = rng.choice(_REPLY_BODIES) + f"\n\n{sender.name}\n\n> earlier message\n> quoted"
        else:
            parent, chain = None, ()
            sender = rng.choice(senders)
            while sent_by.get(sender.address, 0) >= MAX_MAILS_PER_SENDER:
                sender = rng.choice(senders)
            # The index makes each new conversation's subject its own.
            subject = rng.choice(_TOPICS).format(order=f"#SB{100000 + index}")
            text = rng.choice(_BODIES).format(name=sender.name)
        sent_by[sender.address] = sent_by.get(sender.address, 0) + 1
        shape = SHAPES[rng.randrange(len(SHAPES))]
        raw = _build(
            message_id=message_id,
            sender=sender,
            to=to,
            subject=subject,
            text=text,
            shape=shape,
            chain=chain,
            sent_at=_EPOCH + timedelta(seconds=index),
        )
        mails.append(GeneratedMail(index, message_id, sender.address, parent, shape, raw))
        root_subject = subject if parent is None else reply_to_thread[2]  # type: ignore[index]
        threads.append((index, sender, root_subject, (*chain, message_id)))
    return mails


def _build(
    *,
    message_id: str,
    sender: _Sender,
    to: str,
    subject: str,
    text: str,
    shape: str,
    chain: tuple[str, ...],
    sent_at: datetime,
) -> bytes:
    message = EmailMessage(policy=SMTP)
    local, _, domain = sender.address.partition("@")
    message["From"] = Address(sender.name, local, domain)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = f"<{message_id}>"
    if chain:
        message["In-Reply-To"] = f"<{chain[-1]}>"
        message["References"] = " ".join(f"<{value}>" for value in chain[-10:])
    html = (
        "<html><body>"
        + "".join(
            f"<p>{line}</p>"
            for line in text.replace("&", "&amp;").replace("<", "&lt;").split("\n\n")
        )
        + "</body></html>"
    )
    if shape == "text":
        message.set_content(text)
    elif shape == "alternative":
        message.set_content(text)
        message.add_alternative(html, subtype="html")
    elif shape == "html":
        message.set_content(html, subtype="html")
    else:
        message.set_content(text)
        message.add_attachment(_PDF, maintype="application", subtype="pdf", filename="receipt.pdf")
    if message.is_multipart():
        # The generator would pick a random boundary; the same seed must give the same bytes.
        message.set_boundary(f"=_bench_{message_id}")
    return message.as_bytes()
