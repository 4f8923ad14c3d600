"""The ingress's quick reading of MAIL FROM and RCPT TO addresses answers exactly as
aiosmtpd's full parser does, for plain addresses and for everything else."""

from __future__ import annotations

from aiosmtpd.smtp import SMTP
from hypothesis import given
from hypothesis import strategies as st

from channels_inbox.email.ingress import IngressHandler, IngressSMTP

ATOM_CHARACTERS = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
atoms = st.text(alphabet=ATOM_CHARACTERS, min_size=1, max_size=8)
labels = st.text(alphabet="abz09-", min_size=1, max_size=6)
tails = st.sampled_from(["", " SIZE=1200", "  BODY=8BITMIME SMTPUTF8", "\tSIZE=1", " (comment)"])

SERVER = IngressSMTP(IngressHandler(max_bytes=10_000, transport="smtp"), max_bytes=10_000)


def library(arg: str, local_part_limit: int = 0) -> tuple[str | None, str | None]:
    """aiosmtpd's reading; where the email package's parser fails instead of refusing, the
    ingress refuses the address as malformed."""
    reference = SMTP.__new__(SMTP)
    reference.local_part_limit = local_part_limit
    try:
        return SMTP._getaddr(reference, arg)
    except (IndexError, ValueError):
        return None, None


@given(
    local=st.lists(atoms, min_size=1, max_size=3).map(".".join),
    domain=st.lists(labels, min_size=1, max_size=3).map(".".join),
    lead=st.sampled_from(["", " ", "\t"]),
    tail=tails,
)
def test_plain_addresses_read_as_the_full_parser_reads_them(
    local: str, domain: str, lead: str, tail: str
) -> None:
    arg = f"{lead}<{local}@{domain}>{tail}"
    assert SERVER._getaddr(arg) == library(arg)


@given(st.text(max_size=60))
def test_anything_else_reads_as_the_full_parser_reads_it(arg: str) -> None:
    assert SERVER._getaddr(arg) == library(arg)


def test_the_usual_and_the_unusual() -> None:
    for arg in [
        "<ana@shop.test>",
        "<ana@shop.test> SIZE=1200",
        "<>",
        '<"ana smith"@shop.test>',
        "<@relay.test:ana@shop.test>",
        "ana@shop.test",
        "<ana@shop.test",
        "<ana..b@shop.test>",
        "<Ana@Shop.TEST>",
        "<ána@shop.test>",
        "0@",
    ]:
        assert SERVER._getaddr(arg) == library(arg)
    assert SERVER._getaddr("<ana@shop.test> SIZE=1200") == ("ana@shop.test", "SIZE=1200")
    assert SERVER._getaddr("0@") == (None, None)


def test_the_local_part_limit_still_applies() -> None:
    limited = IngressSMTP(IngressHandler(max_bytes=10_000, transport="smtp"), max_bytes=10_000)
    limited.local_part_limit = 4
    assert limited._getaddr("<anabela@shop.test>") == (None, None)
    assert limited._getaddr("<ana@shop.test>") == ("ana@shop.test", "")
